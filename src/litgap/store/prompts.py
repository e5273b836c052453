"""Prompt rows. Resolution is a compare-and-set on status = pending: the first
answer wins, whichever process gives it."""

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from litgap.status import PromptStatus
from litgap.store import bulk
from litgap.store.database import reading, run_write, run_write_async, writing
from litgap.store.schema import jobs, prompts

Row = dict[str, Any]


_RESOLVE = prompts.update().where(
    prompts.c.prompt_id == sa.bindparam("resolving"), prompts.c.status == PromptStatus.PENDING
)


@dataclass(frozen=True)
class _Insert:
    """A new pending prompt; the SQLite writer merges it with others into one INSERT."""

    row: Row

    def __call__(self, conn: sa.Connection) -> None:
        conn.execute(prompts.insert(), self.row)

    @staticmethod
    def merge(conn: sa.Connection, writes: "list[_Insert]") -> list[None]:
        if conn.dialect.name != "sqlite" or len(writes) == 1:
            for write in writes:
                write(conn)
        else:
            bulk.insert_rows(conn, prompts, [write.row for write in writes])
        return [None] * len(writes)


@dataclass(frozen=True)
class _Resolve:
    """A resolution, written only if the prompt is still pending (True if it was).
    Merged with others on SQLite: one read finds which are still pending, and one
    UPDATE … FROM (VALUES …) writes them. The writer holds SQLite's write lock
    throughout, so nothing can resolve them in between."""

    prompt_id: str
    values: Row

    def __call__(self, conn: sa.Connection) -> bool:
        # Parameters, not .values(): one compiled statement serves every answer.
        return conn.execute(_RESOLVE, {"resolving": self.prompt_id, **self.values}).rowcount == 1

    @staticmethod
    def merge(conn: sa.Connection, writes: "list[_Resolve]") -> list[bool]:
        if conn.dialect.name != "sqlite" or len(writes) == 1:
            return [write(conn) for write in writes]
        still_pending: set[str] = set()
        for chunk in bulk.chunks(writes):
            found = conn.execute(
                sa.select(sa.func.group_concat(prompts.c.prompt_id, " ")).where(
                    prompts.c.status == PromptStatus.PENDING,
                    prompts.c.prompt_id.in_([w.prompt_id for w in chunk]),
                )
            ).scalar()
            still_pending.update((found or "").split())
        results, winners = [], []
        for write in writes:  # of two answers to one prompt in a batch, the first wins
            won = write.prompt_id in still_pending
            still_pending.discard(write.prompt_id)
            results.append(won)
            if won:
                winners.append({"prompt_id": write.prompt_id, **write.values})
        bulk.update_rows(conn, prompts, "prompt_id", winners)
        return results


def insert_prompt(engine: sa.Engine, row: Row) -> None:
    run_write(engine, _Insert(row))


async def insert_prompt_async(engine: sa.Engine, row: Row) -> None:
    await run_write_async(engine, _Insert(row))


def get_prompt(engine: sa.Engine, prompt_id: str) -> Row | None:
    with reading(engine) as conn:
        found = (
            conn.execute(sa.select(prompts).where(prompts.c.prompt_id == prompt_id))
            .mappings()
            .first()
        )
    return dict(found) if found else None


def prompt_at(engine: sa.Engine, job_id: str, seq: int) -> Row | None:
    with reading(engine) as conn:
        found = (
            conn.execute(sa.select(prompts).where(prompts.c.job_id == job_id, prompts.c.seq == seq))
            .mappings()
            .first()
        )
    return dict(found) if found else None


def resolve(engine: sa.Engine, prompt_id: str, values: Row) -> bool:
    """Write the resolution if the prompt is still pending; False when someone was first."""
    return run_write(engine, _Resolve(prompt_id, values))


async def resolve_async(engine: sa.Engine, prompt_id: str, values: Row) -> bool:
    return await run_write_async(engine, _Resolve(prompt_id, values))


def job_prompts(
    engine: sa.Engine, job_id: str, *, after_seq: int = -1, limit: int | None = None
) -> list[Row]:
    """Resolved prompt records of a job, in order (pending ones are not history yet);
    `after_seq` and `limit` read a long history in batches."""
    query = _history(prompts.c.job_id == job_id, after_seq).order_by(prompts.c.seq).limit(limit)
    with reading(engine) as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def _history(jobs: sa.ColumnElement[bool], after_seq: int) -> sa.Select[Any]:
    """Resolved records of the jobs `jobs` selects, past `after_seq`."""
    return sa.select(prompts).where(
        jobs, prompts.c.status != PromptStatus.PENDING, prompts.c.seq > after_seq
    )


def jobs_prompts(engine: sa.Engine, after_seq: dict[str, int]) -> dict[str, list[Row]]:
    """`job_prompts` of several jobs, each past its own `after_seq`, by job: one read
    per distinct `after_seq` (and chunk of jobs), not one per job."""
    by_after: dict[int, list[str]] = {}
    for job_id, after in after_seq.items():
        by_after.setdefault(after, []).append(job_id)
    found: dict[str, list[Row]] = {job_id: [] for job_id in after_seq}
    with reading(engine) as conn:
        for after, job_ids in by_after.items():
            for chunk in bulk.chunks(job_ids):
                query = _history(prompts.c.job_id.in_(chunk), after).order_by(
                    prompts.c.job_id, prompts.c.seq
                )
                for row in conn.execute(query).mappings():
                    found[row["job_id"]].append(dict(row))
    return found


def pending(engine: sa.Engine, job_id: str | None = None) -> list[Row]:
    query = (
        sa.select(prompts)
        .where(prompts.c.status == PromptStatus.PENDING)
        .order_by(prompts.c.requested_at, prompts.c.prompt_id)
    )
    if job_id:
        query = query.where(prompts.c.job_id == job_id)
    with reading(engine) as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def overdue(engine: sa.Engine, now: str) -> list[Row]:
    with reading(engine) as conn:
        rows = conn.execute(
            sa.select(prompts).where(
                prompts.c.status == PromptStatus.PENDING, prompts.c.deadline <= now
            )
        ).mappings()
        return [dict(r) for r in rows]


def cancel_pending(engine: sa.Engine, job_id: str, at: str) -> list[str]:
    with writing(engine) as conn:
        ids = [
            r[0]
            for r in conn.execute(
                sa.select(prompts.c.prompt_id).where(
                    prompts.c.job_id == job_id, prompts.c.status == PromptStatus.PENDING
                )
            )
        ]
        if ids:
            conn.execute(
                prompts.update()
                .where(prompts.c.prompt_id.in_(ids), prompts.c.status == PromptStatus.PENDING)
                .values(status=PromptStatus.CANCELLED.value, resolved_at=at)
            )
    return ids


def resolved_in_range(engine: sa.Engine, since: str | None, until: str | None) -> list[Row]:
    query = sa.select(prompts).where(prompts.c.status != PromptStatus.PENDING)
    if since:
        query = query.where(prompts.c.resolved_at >= since)
    if until:
        query = query.where(prompts.c.resolved_at <= until)
    with reading(engine) as conn:
        return [dict(r) for r in conn.execute(query.order_by(prompts.c.resolved_at)).mappings()]


def job_of(engine: sa.Engine, prompt_id: str) -> str | None:
    with reading(engine) as conn:
        found = conn.execute(
            sa.select(jobs.c.job_id)
            .join(prompts, prompts.c.job_id == jobs.c.job_id)
            .where(prompts.c.prompt_id == prompt_id)
        ).first()
    return found[0] if found else None


def last_seq(engine: sa.Engine, job_id: str) -> int:
    """The number of the job's latest prompt, pending or not; -1 before its first."""
    with reading(engine) as conn:
        found = conn.execute(
            sa.select(sa.func.max(prompts.c.seq)).where(prompts.c.job_id == job_id)
        ).scalar()
    return -1 if found is None else int(found)


def count_resolved(engine: sa.Engine, job_id: str) -> int:
    with reading(engine) as conn:
        return int(
            conn.execute(
                sa.select(sa.func.count())
                .select_from(prompts)
                .where(prompts.c.job_id == job_id, prompts.c.status != PromptStatus.PENDING)
            ).scalar_one()
        )


def latest_applied(
    engine: sa.Engine, job_ids: list[str], types: tuple[str, ...]
) -> dict[str, dict[str, Any]]:
    """For each job, the value applied for each of `types` (one indexed query a page)."""
    if not job_ids:
        return {}
    with reading(engine) as conn:
        rows = conn.execute(
            sa.select(prompts.c.job_id, prompts.c.type, prompts.c.applied)
            .where(
                prompts.c.job_id.in_(job_ids),
                prompts.c.type.in_(types),
                prompts.c.status != PromptStatus.PENDING,
            )
            .order_by(prompts.c.job_id, prompts.c.seq)
        )
        found: dict[str, dict[str, Any]] = {}
        for job_id, kind, applied in rows:
            found.setdefault(job_id, {})[kind] = applied
        return found


def resolved_counts(engine: sa.Engine) -> dict[str, int]:
    """Resolved prompts per job, for every job that has any (one grouped query)."""
    with reading(engine) as conn:
        rows = conn.execute(
            sa.select(prompts.c.job_id, sa.func.count())
            .where(prompts.c.status != PromptStatus.PENDING)
            .group_by(prompts.c.job_id)
        )
        return {job_id: int(count) for job_id, count in rows}
