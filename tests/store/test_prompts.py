"""store/prompts.py on SQLite and PostgreSQL: the compare-and-set and the lists."""

import asyncio
import threading
from collections.abc import Awaitable
from typing import TypeVar

import pytest
import sqlalchemy as sa

from litgap.status import PromptStatus
from litgap.store import jobs as job_rows
from litgap.store import prompts as prompt_rows
from tests.store import rows

T = TypeVar("T")


@pytest.fixture
def job_id(engine: sa.Engine) -> str:
    row = rows.job()
    job_rows.insert_job(engine, row)
    return str(row["job_id"])


def test_a_prompt_reads_back_as_written(engine: sa.Engine, job_id: str) -> None:
    row = rows.prompt(
        job_id,
        0,
        prompt_data={
            "message": 'Continue? «ümlauts» and "quotes"',
            "options": ["yes", "no"],
            "default": "no",
            "details": [{"sub_requirement": "S-1", "delta": -2.5}],
        },
    )
    prompt_rows.insert_prompt(engine, row)
    found = prompt_rows.get_prompt(engine, row["prompt_id"])
    assert found is not None and {k: found[k] for k in row} == row
    assert prompt_rows.prompt_at(engine, job_id, 0) == found
    assert prompt_rows.prompt_at(engine, job_id, 1) is None
    assert prompt_rows.get_prompt(engine, "prompt_nothere1") is None
    assert prompt_rows.job_of(engine, row["prompt_id"]) == job_id
    assert prompt_rows.job_of(engine, "prompt_nothere1") is None


def test_one_seq_per_job(engine: sa.Engine, job_id: str) -> None:
    prompt_rows.insert_prompt(engine, rows.prompt(job_id, 0))
    with pytest.raises(sa.exc.IntegrityError):
        prompt_rows.insert_prompt(engine, rows.prompt(job_id, 0))


def test_first_resolution_wins_and_the_second_changes_nothing(
    engine: sa.Engine, job_id: str
) -> None:
    row = rows.prompt(job_id, 0)
    prompt_rows.insert_prompt(engine, row)
    assert prompt_rows.resolve(engine, row["prompt_id"], rows.answered("ONCE"))
    assert not prompt_rows.resolve(engine, row["prompt_id"], rows.answered("DEEP_LOOP"))
    found = prompt_rows.get_prompt(engine, row["prompt_id"])
    assert found is not None and found["applied"] == "ONCE" and found["status"] == "answered"


def test_racing_answers_have_exactly_one_winner(engine: sa.Engine, job_id: str) -> None:
    row = rows.prompt(job_id, 0)
    prompt_rows.insert_prompt(engine, row)
    barrier = threading.Barrier(8)
    wins: list[str] = []

    def answer(value: str) -> None:
        barrier.wait()
        if prompt_rows.resolve(engine, row["prompt_id"], rows.answered(value)):
            wins.append(value)

    threads = [threading.Thread(target=answer, args=(f"v{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(wins) == 1
    found = prompt_rows.get_prompt(engine, row["prompt_id"])
    assert found is not None and found["applied"] == wins[0]


def test_history_is_resolved_prompts_in_order(engine: sa.Engine, job_id: str) -> None:
    prompts = [rows.prompt(job_id, seq, type="continue") for seq in range(4)]
    for prompt in reversed(prompts):
        prompt_rows.insert_prompt(engine, prompt)
    for prompt in prompts[:3]:
        prompt_rows.resolve(engine, prompt["prompt_id"], rows.answered("yes"))
    assert [r["seq"] for r in prompt_rows.job_prompts(engine, job_id)] == [0, 1, 2]
    assert [r["seq"] for r in prompt_rows.job_prompts(engine, job_id, after_seq=0)] == [1, 2]
    assert prompt_rows.count_resolved(engine, job_id) == 3


def test_histories_of_several_jobs_each_past_its_own_seq(engine: sa.Engine, job_id: str) -> None:
    other, empty = rows.job(), rows.job()
    job_rows.insert_job(engine, other)
    job_rows.insert_job(engine, empty)
    for owner, count in ((job_id, 4), (other["job_id"], 3)):
        for seq in range(count):
            prompt = rows.prompt(owner, seq, type="continue")
            prompt_rows.insert_prompt(engine, prompt)
            if seq < count - 1:  # the last one still pending: not history yet
                prompt_rows.resolve(engine, prompt["prompt_id"], rows.answered("yes"))
    found = prompt_rows.jobs_prompts(engine, {job_id: 0, other["job_id"]: -1, empty["job_id"]: -1})
    assert {owner: [r["seq"] for r in records] for owner, records in found.items()} == {
        job_id: [1, 2],
        other["job_id"]: [0, 1],
        empty["job_id"]: [],
    }
    assert found[job_id] == prompt_rows.job_prompts(engine, job_id, after_seq=0)


def test_pending_oldest_first_and_per_job(engine: sa.Engine, job_id: str) -> None:
    other = rows.job()
    job_rows.insert_job(engine, other)
    late = rows.prompt(job_id, 0, requested_at="2026-01-01T00:00:09.000000Z")
    early = rows.prompt(other["job_id"], 0, requested_at="2026-01-01T00:00:02.000000Z")
    done = rows.prompt(job_id, 1, requested_at="2026-01-01T00:00:01.000000Z")
    for row in (late, early, done):
        prompt_rows.insert_prompt(engine, row)
    prompt_rows.resolve(engine, done["prompt_id"], rows.answered("ONCE"))
    assert [r["prompt_id"] for r in prompt_rows.pending(engine)] == [
        early["prompt_id"],
        late["prompt_id"],
    ]
    assert [r["prompt_id"] for r in prompt_rows.pending(engine, job_id)] == [late["prompt_id"]]


def test_overdue_are_pending_prompts_past_their_deadline(engine: sa.Engine, job_id: str) -> None:
    past = rows.prompt(job_id, 0, deadline="2026-01-01T00:01:00.000000Z")
    future = rows.prompt(job_id, 1, deadline="2026-01-01T00:09:00.000000Z")
    resolved = rows.prompt(job_id, 2, deadline="2026-01-01T00:00:30.000000Z")
    for row in (past, future, resolved):
        prompt_rows.insert_prompt(engine, row)
    prompt_rows.resolve(engine, resolved["prompt_id"], rows.answered("ONCE"))
    overdue = prompt_rows.overdue(engine, "2026-01-01T00:05:00.000000Z")
    assert [r["prompt_id"] for r in overdue] == [past["prompt_id"]]


def test_cancel_pending_leaves_resolved_prompts_alone(engine: sa.Engine, job_id: str) -> None:
    answered, waiting = rows.prompt(job_id, 0), rows.prompt(job_id, 1)
    for row in (answered, waiting):
        prompt_rows.insert_prompt(engine, row)
    prompt_rows.resolve(engine, answered["prompt_id"], rows.answered("ONCE"))
    at = "2026-01-01T00:03:00.000000Z"
    assert prompt_rows.cancel_pending(engine, job_id, at) == [waiting["prompt_id"]]
    assert prompt_rows.cancel_pending(engine, job_id, at) == []
    statuses = {r["prompt_id"]: r["status"] for r in prompt_rows.job_prompts(engine, job_id)}
    assert statuses == {answered["prompt_id"]: "answered", waiting["prompt_id"]: "cancelled"}


def test_resolved_in_range_by_resolution_time(engine: sa.Engine, job_id: str) -> None:
    ids = []
    for seq, minute in enumerate([1, 2, 3]):
        row = rows.prompt(job_id, seq)
        prompt_rows.insert_prompt(engine, row)
        prompt_rows.resolve(
            engine,
            row["prompt_id"],
            rows.answered("ONCE", at=f"2026-01-01T00:0{minute}:00.000000Z"),
        )
        ids.append(row["prompt_id"])
    found = prompt_rows.resolved_in_range(engine, "2026-01-01T00:02:00.000000Z", None)
    assert [r["prompt_id"] for r in found] == ids[1:]
    found = prompt_rows.resolved_in_range(engine, None, "2026-01-01T00:02:00.000000Z")
    assert [r["prompt_id"] for r in found] == ids[:2]


def test_a_timed_out_prompt_keeps_its_null_response(engine: sa.Engine, job_id: str) -> None:
    row = rows.prompt(job_id, 0)
    prompt_rows.insert_prompt(engine, row)
    prompt_rows.resolve(
        engine,
        row["prompt_id"],
        {
            "status": PromptStatus.TIMED_OUT.value,
            "resolved_at": "2026-01-01T00:02:02.000000Z",
            "response": None,
            "applied": "ONCE",
            "applied_text": "ONCE",
            "source": "timeout_default",
        },
    )
    found = prompt_rows.get_prompt(engine, row["prompt_id"])
    assert found is not None and found["response"] is None and found["applied"] == "ONCE"


def test_latest_applied_per_job_and_type(engine: sa.Engine, job_id: str) -> None:
    other = rows.job()
    job_rows.insert_job(engine, other)
    values = [
        (job_id, 0, "pillar_selection", "ALL"),
        (job_id, 1, "run_mode", "DEEP_LOOP"),
        (job_id, 2, "continue", "yes"),
        (other["job_id"], 0, "pillar_selection", ["P1"]),
    ]
    for owner, seq, kind, value in values:
        row = rows.prompt(owner, seq, type=kind)
        prompt_rows.insert_prompt(engine, row)
        prompt_rows.resolve(engine, row["prompt_id"], rows.answered(value))
    prompt_rows.insert_prompt(engine, rows.prompt(other["job_id"], 1, type="run_mode"))
    found = prompt_rows.latest_applied(
        engine, [job_id, other["job_id"]], ("pillar_selection", "run_mode")
    )
    assert found == {
        job_id: {"pillar_selection": "ALL", "run_mode": "DEEP_LOOP"},
        other["job_id"]: {"pillar_selection": ["P1"]},
    }
    assert prompt_rows.latest_applied(engine, [], ("run_mode",)) == {}


async def _gather(*writes: Awaitable[T]) -> list[T]:
    return list(await asyncio.gather(*writes))


def test_prompts_written_together_read_back_as_written(engine: sa.Engine, job_id: str) -> None:
    """Many writes at once: on SQLite the writer merges them into a few statements."""
    statements: list[str] = []
    sa.event.listen(
        engine, "before_cursor_execute", lambda *args: statements.append(args[2].split()[0])
    )
    data = {"message": "Keep «going»?", "options": ["A", "B", "C"], "default": None}
    written = [rows.prompt(job_id, seq, type="continue", prompt_data=data) for seq in range(40)]
    asyncio.run(_gather(*(prompt_rows.insert_prompt_async(engine, row) for row in written)))
    answers = [
        rows.answered(["A", "C"], note=None) if seq % 2 else rows.answered("B", note="ünï")
        for seq in range(40)
    ]
    won = asyncio.run(
        _gather(
            *(
                prompt_rows.resolve_async(engine, row["prompt_id"], values)
                for row, values in zip(written, answers, strict=True)
            )
        )
    )
    assert won == [True] * 40
    if engine.dialect.name == "sqlite":  # merged: far fewer statements than writes
        assert statements.count("INSERT") < 20 and statements.count("UPDATE") < 20
    for row, values in zip(written, answers, strict=True):
        found = prompt_rows.get_prompt(engine, row["prompt_id"])
        assert found is not None
        assert {k: found[k] for k in row if k != "status"} == {
            k: v for k, v in row.items() if k != "status"
        }
        assert {k: found[k] for k in values} == values


def test_of_two_answers_written_together_one_wins(engine: sa.Engine, job_id: str) -> None:
    written = [rows.prompt(job_id, seq) for seq in range(20)]
    for row in written:
        prompt_rows.insert_prompt(engine, row)
    timed_out = {  # a timeout writes fewer columns than an answer
        "status": PromptStatus.TIMED_OUT.value,
        "resolved_at": "2026-01-01T00:02:01.000000Z",
        "response": None,
        "applied": "ONCE",
        "applied_text": "ONCE",
        "source": "timeout_default",
        "response_time_ms": 120000,
    }
    writes = []
    for i, row in enumerate(written):
        first = rows.answered("DEEP_LOOP", answered_by="early") if i % 2 else timed_out
        writes += [(row, first), (row, rows.answered("ONCE", answered_by="late"))]
    won = asyncio.run(
        _gather(*(prompt_rows.resolve_async(engine, r["prompt_id"], v) for r, v in writes))
    )
    for i, row in enumerate(written):
        assert won[2 * i] != won[2 * i + 1]
        winner = writes[2 * i if won[2 * i] else 2 * i + 1][1]
        found = prompt_rows.get_prompt(engine, row["prompt_id"])
        assert found is not None and {k: found[k] for k in winner} == winner


def test_a_clashing_prompt_written_together_with_others_fails_alone(
    engine: sa.Engine, job_id: str
) -> None:
    prompt_rows.insert_prompt(engine, rows.prompt(job_id, 5))
    written = [rows.prompt(job_id, seq) for seq in range(10)]  # seq 5 is taken

    async def insert_all() -> list[object]:
        inserts = (prompt_rows.insert_prompt_async(engine, row) for row in written)
        return list(await asyncio.gather(*inserts, return_exceptions=True))

    outcomes = asyncio.run(insert_all())
    assert [isinstance(o, sa.exc.IntegrityError) for o in outcomes] == [i == 5 for i in range(10)]
    for i, row in enumerate(written):
        assert (prompt_rows.get_prompt(engine, row["prompt_id"]) is None) == (i == 5)
