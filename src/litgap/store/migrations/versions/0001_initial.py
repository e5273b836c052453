"""Initial schema: jobs, prompts, users, sessions.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("job_id", sa.String(40), primary_key=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("updated_at", sa.String(32), nullable=False),
        sa.Column("started_at", sa.String(32)),
        sa.Column("completed_at", sa.String(32)),
        sa.Column("config", sa.JSON, nullable=False),
        sa.Column("inputs", sa.JSON, nullable=False),
        sa.Column("summary", sa.JSON),
        sa.Column("error", sa.Text),
        sa.Column("progress", sa.Float, nullable=False, server_default="0"),
        sa.Column("stage", sa.String(200), nullable=False, server_default=""),
        sa.Column("transitions", sa.JSON, nullable=False),
        sa.Column("replay_of", sa.String(40)),
        sa.Column("legacy", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_by", sa.String(100)),
        sa.Column("search_text", sa.Text, nullable=False, server_default=""),
    )
    op.create_index("ix_jobs_created", "jobs", ["created_at", "job_id"])
    op.create_index("ix_jobs_status_created", "jobs", ["status", "created_at"])
    op.create_table(
        "prompts",
        sa.Column("prompt_id", sa.String(40), primary_key=True),
        sa.Column("job_id", sa.String(40), sa.ForeignKey("jobs.job_id"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("prompt_data", sa.JSON, nullable=False),
        sa.Column("timeout_seconds", sa.Integer, nullable=False),
        sa.Column("requested_at", sa.String(32), nullable=False),
        sa.Column("deadline", sa.String(32), nullable=False),
        sa.Column("resolved_at", sa.String(32)),
        sa.Column("response", sa.JSON),
        sa.Column("applied", sa.JSON),
        sa.Column("applied_text", sa.String(500)),
        sa.Column("source", sa.String(20)),
        sa.Column("answered_by", sa.String(100)),
        sa.Column("response_time_ms", sa.Integer),
        sa.Column("note", sa.Text),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("replayed_from", sa.String(40)),
        sa.Column("drift", sa.Text),
        sa.UniqueConstraint("job_id", "seq", name="uq_prompts_job_seq"),
    )
    op.create_index("ix_prompts_status_deadline", "prompts", ["status", "deadline"])
    op.create_index("ix_prompts_type_applied", "prompts", ["type", "applied_text", "job_id"])
    op.create_table(
        "users",
        sa.Column("user_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "sessions",
        sa.Column("session_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.user_id"), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("expires_at", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("sessions")
    op.drop_table("users")
    op.drop_table("prompts")
    op.drop_table("jobs")
