"""Job lineage: one generic parent link per job.

`parent_job_id` names the job this one was made from and `relation` says how:
"replay_of" (same inputs and decisions), "revision_of" (same inputs and decisions +
evidence verdicts) or "continues" (the parent's inputs + new papers). Existing replays
are backfilled from the older `replay_of` column, which stays for readers that use it.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("parent_job_id", sa.String(40)))
        batch.add_column(sa.Column("relation", sa.String(20)))
    op.execute(
        "UPDATE jobs SET parent_job_id = replay_of, relation = 'replay_of' "
        "WHERE replay_of IS NOT NULL"
    )
    op.create_index("ix_jobs_parent", "jobs", ["parent_job_id", "relation"])


def downgrade() -> None:
    op.drop_index("ix_jobs_parent", table_name="jobs")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("relation")
        batch.drop_column("parent_job_id")
