"""Tables, in SQLAlchemy Core. Timestamps are ISO-8601 UTC strings ("...Z"): they sort
as text and read the same on SQLite and PostgreSQL."""

import sqlalchemy as sa

metadata = sa.MetaData()

jobs = sa.Table(
    "jobs",
    metadata,
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
    # Lineage (migration 0002): the job this one was made from, and how
    # ("replay_of" | "revision_of" | "continues"). replay_of stays for older readers.
    sa.Column("parent_job_id", sa.String(40)),
    sa.Column("relation", sa.String(20)),
    sa.Column("legacy", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_by", sa.String(100)),
    sa.Column("search_text", sa.Text, nullable=False, server_default=""),
    sa.Index("ix_jobs_created", "created_at", "job_id"),
    sa.Index("ix_jobs_status_created", "status", "created_at"),
    sa.Index("ix_jobs_parent", "parent_job_id", "relation"),
)

prompts = sa.Table(
    "prompts",
    metadata,
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
    # The applied value as one string ("ALL", "P1|P2"): what cross-job search indexes.
    sa.Column("applied_text", sa.String(500)),
    sa.Column("source", sa.String(20)),
    sa.Column("answered_by", sa.String(100)),
    sa.Column("response_time_ms", sa.Integer),
    sa.Column("note", sa.Text),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("replayed_from", sa.String(40)),
    sa.Column("drift", sa.Text),
    sa.UniqueConstraint("job_id", "seq", name="uq_prompts_job_seq"),
    sa.Index("ix_prompts_status_deadline", "status", "deadline"),
    sa.Index("ix_prompts_type_applied", "type", "applied_text", "job_id"),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("user_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", sa.String(32), nullable=False),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("session_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.user_id"), nullable=False),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("expires_at", sa.String(32), nullable=False),
)
