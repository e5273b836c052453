"""store/jobs.py on SQLite and PostgreSQL: rows, transitions, lists."""

import asyncio
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from litgap.exceptions import InvalidInput, InvalidTransition, UnknownJob
from litgap.status import JobStatus
from litgap.store import jobs as job_rows
from litgap.store import prompts as prompt_rows
from litgap.store.database import open_database
from tests.store import rows


def test_a_job_reads_back_as_written_json_and_all(engine: sa.Engine) -> None:
    row = rows.job(
        config={"pillar_selections": ["Pillar 1: Données ✓"], "max_iterations": 5},
        replay_of="job_original1",
        legacy=True,
        created_by="ada",
    )
    job_rows.insert_job(engine, row)
    found = job_rows.get_job(engine, row["job_id"])
    assert {k: found[k] for k in row} == row
    assert found["legacy"] is True
    assert found["progress"] == 0.0 and found["stage"] == "" and found["summary"] is None


def test_an_unknown_job_is_named_in_the_error(engine: sa.Engine) -> None:
    with pytest.raises(UnknownJob, match="job_nothere1"):
        job_rows.get_job(engine, "job_nothere1")
    assert job_rows.job_exists(engine, "job_nothere1") is False


def test_rows_of_several_jobs_read_at_once_by_id(engine: sa.Engine) -> None:
    made = [rows.job() for _ in range(3)]
    for row in made:
        job_rows.insert_job(engine, row)
    wanted = [made[0]["job_id"], made[2]["job_id"], "job_unknown000"]
    found = job_rows.get_jobs(engine, wanted)
    assert sorted(found) == sorted(wanted[:2])
    assert all(found[j] == job_rows.get_job(engine, j) for j in found)


def test_transition_stamps_status_time_and_history(engine: sa.Engine) -> None:
    row = rows.job()
    job_rows.insert_job(engine, row)
    job_rows.transition(engine, row["job_id"], JobStatus.QUEUED, stage="queued")
    running = job_rows.transition(engine, row["job_id"], JobStatus.RUNNING, stage="starting")
    done = job_rows.transition(
        engine,
        row["job_id"],
        JobStatus.COMPLETED,
        summary={"gap_count": 3, "pillars": {"P1": 50.0}},
    )
    found = job_rows.get_job(engine, row["job_id"])
    assert found == {**found, **done}
    assert [t["status"] for t in found["transitions"]] == [
        "draft",
        "queued",
        "running",
        "completed",
    ]
    assert found["started_at"] == running["started_at"] is not None
    assert found["completed_at"] is not None and found["completed_at"] >= found["started_at"]
    assert found["summary"] == {"gap_count": 3, "pillars": {"P1": 50.0}}


def test_a_forbidden_transition_changes_nothing(engine: sa.Engine) -> None:
    row = rows.job()
    job_rows.insert_job(engine, row)
    with pytest.raises(InvalidTransition):
        job_rows.transition(engine, row["job_id"], JobStatus.COMPLETED)
    assert job_rows.get_job(engine, row["job_id"])["status"] == "draft"


def test_concurrent_transitions_are_serialised(engine: sa.Engine) -> None:
    """Eight threads take the same job from queued: one moves it, the others see it moved
    (no lost update of the transition history)."""
    row = rows.job()
    job_rows.insert_job(engine, row)
    job_rows.transition(engine, row["job_id"], JobStatus.QUEUED)
    barrier = threading.Barrier(8)
    errors: list[Exception] = []

    def move() -> None:
        barrier.wait()
        try:
            job_rows.transition(engine, row["job_id"], JobStatus.RUNNING)
        except Exception as err:
            errors.append(err)

    threads = [threading.Thread(target=move) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    history = job_rows.get_job(engine, row["job_id"])["transitions"]
    assert [t["status"] for t in history] == ["draft", "queued", "running"]


def test_waits_for_decisions_change_the_status_but_stay_out_of_the_log(
    engine: sa.Engine,
) -> None:
    row = rows.job()
    job_rows.insert_job(engine, row)
    for status in ("queued", "running", "waiting_input", "running", "waiting_input"):
        moved = job_rows.transition(engine, row["job_id"], JobStatus(status))
        assert moved["status"] == status
    job_rows.transition(engine, row["job_id"], JobStatus.CANCELLED)
    history = job_rows.get_job(engine, row["job_id"])["transitions"]
    assert [t["status"] for t in history] == ["draft", "queued", "running", "cancelled"]


def test_transitions_written_together_are_all_applied(engine: sa.Engine) -> None:
    """On SQLite the writer merges them: one read, the moves in order, one UPDATE."""
    jobs = [rows.job() for _ in range(30)]
    for job in jobs:
        job_rows.insert_job(engine, job)

    async def start(job_id: str) -> list[str]:
        moved = []
        for status in (JobStatus.QUEUED, JobStatus.RUNNING):
            row = await job_rows.transition_async(engine, job_id, status, stage=status)
            moved.append(row["status"])
        return moved

    async def start_all() -> list[list[str]]:
        return list(await asyncio.gather(*(start(job["job_id"]) for job in jobs)))

    assert asyncio.run(start_all()) == [["queued", "running"]] * 30
    for job in jobs:
        found = job_rows.get_job(engine, job["job_id"])
        assert (found["status"], found["stage"]) == ("running", "running")
        assert [t["status"] for t in found["transitions"]] == ["draft", "queued", "running"]
        assert found["started_at"] is not None


def test_two_moves_of_one_job_in_one_batch_apply_in_order(tmp_path: Path) -> None:
    """The SQLite writer keeps the order in which writes were submitted."""
    engine = open_database(f"sqlite:///{tmp_path / 'litgap.db'}")
    job = rows.job()
    job_rows.insert_job(engine, job)

    async def both() -> list[dict[str, object]]:
        return list(
            await asyncio.gather(
                job_rows.transition_async(engine, job["job_id"], JobStatus.QUEUED),
                job_rows.transition_async(engine, job["job_id"], JobStatus.RUNNING),
            )
        )

    assert [r["status"] for r in asyncio.run(both())] == ["queued", "running"]
    assert job_rows.get_job(engine, job["job_id"])["status"] == "running"
    engine.dispose()


def test_a_forbidden_transition_written_with_others_fails_alone(engine: sa.Engine) -> None:
    jobs = [rows.job() for _ in range(10)]
    for job in jobs:
        job_rows.insert_job(engine, job)

    async def move_all() -> list[object]:
        moves = [
            job_rows.transition_async(
                engine, job["job_id"], JobStatus.COMPLETED if i == 3 else JobStatus.QUEUED
            )
            for i, job in enumerate(jobs)
        ]
        return list(await asyncio.gather(*moves, return_exceptions=True))

    outcomes = asyncio.run(move_all())
    assert [isinstance(o, InvalidTransition) for o in outcomes] == [i == 3 for i in range(10)]
    statuses = [job_rows.get_job(engine, job["job_id"])["status"] for job in jobs]
    assert statuses == ["draft" if i == 3 else "queued" for i in range(10)]


def test_progress_is_live_state_and_leaves_updated_at(engine: sa.Engine) -> None:
    row = rows.job()
    job_rows.insert_job(engine, row)
    job_rows.set_progress(engine, row["job_id"], 42.5, "iteration 2")
    # Progress is committed without the caller waiting: it shows up shortly after.
    deadline = time.monotonic() + 10
    while (found := job_rows.get_job(engine, row["job_id"]))["progress"] != 42.5:
        assert time.monotonic() < deadline, "progress was never committed"
        time.sleep(0.01)
    assert (found["progress"], found["stage"], found["updated_at"]) == (
        42.5,
        "iteration 2",
        row["updated_at"],
    )
    job_rows.update_job(engine, row["job_id"], error="disk full")
    found = job_rows.get_job(engine, row["job_id"])
    assert found["error"] == "disk full" and found["updated_at"] > row["updated_at"]


def test_active_jobs_in_creation_order(engine: sa.Engine) -> None:
    ids = []
    for index, status in enumerate(["queued", "completed", "waiting_input", "running", "draft"]):
        row = rows.job(at=f"2026-01-0{index + 1}T00:00:00.000000Z", status=status)
        job_rows.insert_job(engine, row)
        ids.append(row["job_id"])
    assert job_rows.active_job_ids(engine) == [ids[0], ids[2], ids[3]]


def test_document_states_list_every_job(engine: sa.Engine) -> None:
    legacy = rows.job(legacy=True)
    plain = rows.job()
    job_rows.insert_job(engine, legacy)
    job_rows.insert_job(engine, plain)
    assert sorted(job_rows.document_states(engine)) == sorted(
        [
            (legacy["job_id"], legacy["updated_at"], True),
            (plain["job_id"], plain["updated_at"], False),
        ]
    )


# -- list_jobs -----------------------------------------------------------------------------


def _many(engine: sa.Engine, count: int, *, same_time: bool = False) -> list[str]:
    ids = []
    for index in range(count):
        at = (
            "2026-03-01T00:00:00.000000Z"
            if same_time
            else (f"2026-03-01T00:{index // 60:02d}:{index % 60:02d}.000000Z")
        )
        row = rows.job(
            at=at,
            status="completed" if index % 3 == 0 else "draft",
            search_text=f"job {index} paper-{index}.txt",
        )
        job_rows.insert_job(engine, row)
        ids.append(row["job_id"])
    return ids


@pytest.mark.parametrize("same_time", [False, True])
def test_pages_walk_every_job_once_newest_first(engine: sa.Engine, same_time: bool) -> None:
    _many(engine, 23, same_time=same_time)
    seen, cursor = [], None
    while True:
        page, cursor = job_rows.list_jobs(engine, limit=5, cursor=cursor)
        seen += page
        if cursor is None:
            break
    keys = [(r["created_at"], r["job_id"]) for r in seen]
    assert len(seen) == 23 and len(set(keys)) == 23
    assert keys == sorted(keys, reverse=True)


def test_a_bad_cursor_is_refused(engine: sa.Engine) -> None:
    with pytest.raises(InvalidInput, match="invalid cursor"):
        job_rows.list_jobs(engine, cursor="not-a-cursor")


def test_status_filter(engine: sa.Engine) -> None:
    _many(engine, 9)
    page, _ = job_rows.list_jobs(engine, status="completed")
    assert len(page) == 3 and {r["status"] for r in page} == {"completed"}


def test_text_search_is_case_blind_and_takes_wildcards_literally(engine: sa.Engine) -> None:
    for text in ["Roof yield 100% sure", "roof_yield", "roofXyield", r"back\slash"]:
        job_rows.insert_job(engine, rows.job(search_text=text))
    found = lambda q: sorted(r["search_text"] for r in job_rows.list_jobs(engine, q=q)[0])  # noqa: E731
    assert found("ROOF") == ["Roof yield 100% sure", "roofXyield", "roof_yield"]
    assert found("100%") == ["Roof yield 100% sure"]
    assert found("roof_") == ["roof_yield"]
    assert found("k\\s") == [r"back\slash"]


def test_decision_search_finds_jobs_by_applied_answer(engine: sa.Engine) -> None:
    chose_all, chose_two, undecided = rows.job(), rows.job(), rows.job()
    for row in (chose_all, chose_two, undecided):
        job_rows.insert_job(engine, row)
    for row, value in ((chose_all, "ALL"), (chose_two, ["P1", "P2"])):
        prompt = rows.prompt(row["job_id"], 0, type="pillar_selection")
        prompt_rows.insert_prompt(engine, prompt)
        assert prompt_rows.resolve(engine, prompt["prompt_id"], rows.answered(value))
    prompt_rows.insert_prompt(engine, rows.prompt(undecided["job_id"], 0, type="pillar_selection"))
    ids = lambda **f: {r["job_id"] for r in job_rows.list_jobs(engine, **f)[0]}  # noqa: E731
    assert ids(prompt_type="pillar_selection", response="ALL") == {chose_all["job_id"]}
    assert ids(prompt_type="pillar_selection", response="P1|P2") == {chose_two["job_id"]}
    assert ids(prompt_type="pillar_selection") == {
        r["job_id"] for r in (chose_all, chose_two, undecided)
    }
    assert ids(prompt_type="run_mode") == set()
