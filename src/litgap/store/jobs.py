"""Job rows: insert, read, transition (compare-and-set on the current status), list."""

import base64
import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from litgap.clock import now_iso
from litgap.exceptions import InvalidInput, InvalidTransition, UnknownJob
from litgap.status import JobStatus
from litgap.store import bulk
from litgap.store.database import post_write, reading, run_write, run_write_async, writing
from litgap.store.schema import jobs, prompts

Row = dict[str, Any]


def insert_job(engine: sa.Engine, row: Row) -> Row:
    """Insert a job's row; returns it as stored (defaults filled) once it is committed.
    Through the writer thread, so that creations arriving together share a commit with
    each other and with answers."""
    return run_write(engine, lambda conn: dict(conn.execute(_INSERT, row).mappings().one()))


# Built once, the row as parameters: `insert().values(**row)` made a new statement per
# job, and the writer thread computed its cache key each time (1/8 of that thread's time
# while 50 jobs were created at once).
_INSERT = jobs.insert().returning(*jobs.c)


def delete_job(engine: sa.Engine, job_id: str) -> None:
    """Remove a job that never got past its creation (and any prompt rows it has)."""
    with writing(engine) as conn:
        conn.execute(prompts.delete().where(prompts.c.job_id == job_id))
        conn.execute(jobs.delete().where(jobs.c.job_id == job_id))


def get_job(engine: sa.Engine, job_id: str) -> Row:
    with reading(engine) as conn:
        found = conn.execute(sa.select(jobs).where(jobs.c.job_id == job_id)).mappings().first()
    if found is None:
        raise UnknownJob(job_id)
    return dict(found)


def get_jobs(engine: sa.Engine, job_ids: list[str]) -> dict[str, Row]:
    """The rows of those of `job_ids` that exist, by id, in one read per chunk."""
    found: dict[str, Row] = {}
    with reading(engine) as conn:
        for chunk in bulk.chunks(job_ids):
            for row in conn.execute(sa.select(jobs).where(jobs.c.job_id.in_(chunk))).mappings():
                found[row["job_id"]] = dict(row)
    return found


def job_exists(engine: sa.Engine, job_id: str) -> bool:
    with reading(engine) as conn:
        return (
            conn.execute(sa.select(jobs.c.job_id).where(jobs.c.job_id == job_id)).first()
            is not None
        )


def set_progress(engine: sa.Engine, job_id: str, progress: float, stage: str) -> None:
    """Progress is live state, not part of the record: updated_at stays as it is. The
    commit is not waited for: the flow calls this on the event loop, where waiting
    held up every request (10% of the serving loop's time under bench/load.py --mode
    users), and a lost update is superseded by the next (and by the job's end)."""
    statement = jobs.update().where(jobs.c.job_id == job_id).values(progress=progress, stage=stage)
    post_write(engine, lambda conn: conn.execute(statement))


def update_job(engine: sa.Engine, job_id: str, **fields: Any) -> None:
    fields.setdefault("updated_at", now_iso())
    with writing(engine) as conn:
        conn.execute(jobs.update().where(jobs.c.job_id == job_id).values(**fields))


def transition(engine: sa.Engine, job_id: str, target: JobStatus, **fields: Any) -> Row:
    """Move a job to `target`, stamping the transition in its log (except the moves
    into and out of waiting for a decision); raises InvalidTransition when the job's
    current status does not allow it (checked and written in one transaction)."""
    return run_write(engine, _Transition(job_id, target, fields, now_iso()))


async def transition_async(engine: sa.Engine, job_id: str, target: JobStatus, **fields: Any) -> Row:
    """transition() for a coroutine: the commit is awaited, off the event loop."""
    return await run_write_async(engine, _Transition(job_id, target, fields, now_iso()))


@dataclass(frozen=True)
class _Transition:
    """Merged with others on SQLite: one read of the jobs, the moves applied in order,
    one UPDATE … FROM (VALUES …). A move that is not allowed raises, which makes the
    writer run the batch's writes one by one, so that only that one fails."""

    job_id: str
    target: JobStatus
    fields: Row
    at: str

    def __call__(self, conn: sa.Connection) -> Row:
        row = (
            conn.execute(sa.select(jobs).where(jobs.c.job_id == self.job_id).with_for_update())
            .mappings()
            .first()
        )
        if row is None:
            raise UnknownJob(self.job_id)
        values = self.move(dict(row))
        if values:
            conn.execute(jobs.update().where(jobs.c.job_id == self.job_id).values(**values))
        return {**dict(row), **values}

    def move(self, row: Row) -> Row:
        """The values that move `row` to the target (none if it is there already)."""
        current = JobStatus(row["status"])
        if current == self.target:
            return {}
        if not current.can_become(self.target):
            raise InvalidTransition(self.job_id, current, self.target)
        values: Row = {"status": self.target.value, "updated_at": self.at, **self.fields}
        if {current, self.target} != {JobStatus.RUNNING, JobStatus.WAITING_INPUT}:
            # A wait for a decision is on record in its prompt (requested_at to
            # resolved_at): the log keeps the job's life, short however much it asks.
            values["transitions"] = [
                *row["transitions"],
                {"status": self.target.value, "at": self.at},
            ]
        if self.target == JobStatus.RUNNING and row["started_at"] is None:
            values["started_at"] = self.at
        if self.target.is_terminal:
            values["completed_at"] = self.at
        return values

    @staticmethod
    def merge(conn: sa.Connection, writes: "list[_Transition]") -> list[Row]:
        if conn.dialect.name != "sqlite" or len(writes) == 1:
            return [write(conn) for write in writes]
        wanted = sorted({write.job_id for write in writes})
        current: dict[str, Row] = {}
        for chunk in bulk.chunks(wanted):
            for found in conn.execute(sa.select(jobs).where(jobs.c.job_id.in_(chunk))).mappings():
                current[found["job_id"]] = dict(found)
        changed: dict[str, Row] = {}
        results = []
        for write in writes:
            if write.job_id not in current:
                raise UnknownJob(write.job_id)
            values = write.move(current[write.job_id])
            current[write.job_id].update(values)
            changed.setdefault(write.job_id, {"job_id": write.job_id}).update(values)
            results.append(dict(current[write.job_id]))
        bulk.update_rows(conn, jobs, "job_id", [v for v in changed.values() if len(v) > 1])
        return results


def active_job_ids(engine: sa.Engine) -> list[str]:
    active = [s.value for s in JobStatus if s.is_active]
    with reading(engine) as conn:
        rows = conn.execute(
            sa.select(jobs.c.job_id).where(jobs.c.status.in_(active)).order_by(jobs.c.created_at)
        )
        return [r[0] for r in rows]


def _encode_cursor(created_at: str, job_id: str) -> str:
    raw = json.dumps([created_at, job_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[str, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created_at, job_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(created_at, str) or not isinstance(job_id, str):
            raise ValueError
    except (ValueError, TypeError, json.JSONDecodeError) as err:
        raise InvalidInput(f"invalid cursor {cursor[:40]!r}: use next_cursor from a list") from err
    return created_at, job_id


def list_jobs(
    engine: sa.Engine,
    *,
    limit: int = 50,
    cursor: str | None = None,
    status: str | None = None,
    prompt_type: str | None = None,
    response: str | None = None,
    q: str | None = None,
) -> tuple[list[Row], str | None]:
    """One page of jobs, newest first, with keyset pagination and decision search
    ("jobs where pillar_selection was ALL") answered from the prompts index."""
    query = sa.select(jobs).order_by(jobs.c.created_at.desc(), jobs.c.job_id.desc())
    if status:
        query = query.where(jobs.c.status == status)
    if prompt_type or response:
        match = sa.select(prompts.c.job_id).where(prompts.c.job_id == jobs.c.job_id)
        if prompt_type:
            match = match.where(prompts.c.type == prompt_type)
        if response:
            match = match.where(prompts.c.applied_text == response)
        query = query.where(sa.exists(match))
    if q:
        pattern = (
            "%" + q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        )
        query = query.where(sa.func.lower(jobs.c.search_text).like(pattern, escape="\\"))
    if cursor:
        created_at, job_id = _decode_cursor(cursor)
        query = query.where(
            sa.or_(
                jobs.c.created_at < created_at,
                sa.and_(jobs.c.created_at == created_at, jobs.c.job_id < job_id),
            )
        )
    with reading(engine) as conn:
        rows = [dict(r) for r in conn.execute(query.limit(limit + 1)).mappings()]
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = _encode_cursor(rows[-1]["created_at"], rows[-1]["job_id"])
    return rows, next_cursor


def document_states(engine: sa.Engine) -> list[tuple[str, str, bool]]:
    with reading(engine) as conn:
        rows = conn.execute(sa.select(jobs.c.job_id, jobs.c.updated_at, jobs.c.legacy))
        return [(r[0], r[1], bool(r[2])) for r in rows]
