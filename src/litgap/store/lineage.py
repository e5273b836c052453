"""Job families: who a job was made from (`parent_job_id` + `relation`, or the older
`replay_of`), and what was made from it."""

from typing import Any

import sqlalchemy as sa

from litgap.store.database import reading
from litgap.store.schema import jobs

Row = dict[str, Any]
_COLUMNS = (
    jobs.c.job_id,
    jobs.c.status,
    jobs.c.created_at,
    jobs.c.parent_job_id,
    jobs.c.relation,
    jobs.c.replay_of,
)


def _node(found: Any) -> Row:
    row = dict(found)
    # Jobs made before the lineage columns name their parent in replay_of only.
    if row["parent_job_id"] is None and row["replay_of"] is not None:
        row["parent_job_id"], row["relation"] = row["replay_of"], "replay_of"
    del row["replay_of"]
    return row


def nodes(engine: sa.Engine, job_ids: list[str]) -> dict[str, Row]:
    if not job_ids:
        return {}
    with reading(engine) as conn:
        found = conn.execute(sa.select(*_COLUMNS).where(jobs.c.job_id.in_(job_ids))).mappings()
        return {r["job_id"]: _node(r) for r in found}


def children(engine: sa.Engine, job_ids: list[str]) -> list[Row]:
    """The jobs made from any of `job_ids`, oldest first."""
    if not job_ids:
        return []
    with reading(engine) as conn:
        found = conn.execute(
            sa.select(*_COLUMNS)
            .where(sa.or_(jobs.c.parent_job_id.in_(job_ids), jobs.c.replay_of.in_(job_ids)))
            .order_by(jobs.c.created_at, jobs.c.job_id)
        ).mappings()
        return [_node(r) for r in found]
