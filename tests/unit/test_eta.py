"""A running job's ETA: from the measured rate of its current stage, known from its
second progress report on, without the waits for decisions, only while it runs."""

import time

import pytest

from litgap import eta
from litgap.config import StoredConfig
from litgap.context import JobContext
from litgap.events import Event
from litgap.records import job_public, running_eta
from litgap.runtime import Runtime
from litgap.status import JobStatus
from litgap.store import jobs as job_rows
from tests.helpers import new_job


def running_job(runtime: Runtime) -> str:
    job_id = new_job(runtime)
    job_rows.transition(runtime.engine, job_id, JobStatus.QUEUED)
    job_rows.transition(runtime.engine, job_id, JobStatus.RUNNING)
    return job_id


def test_estimate_extrapolates_the_rate_since_the_stage_began_to_100_percent() -> None:
    assert eta.estimate(started=0.0, start_progress=20.0, now=10.0, progress=40.0) == 30.0
    assert eta.estimate(started=0.0, start_progress=20.0, now=10.0, progress=20.0) is None
    assert eta.estimate(started=5.0, start_progress=20.0, now=5.0, progress=30.0) is None


def test_the_first_report_gives_no_eta_and_the_second_one_does() -> None:
    assert eta.note_progress("job_etaunit01", 2.0, "reading inputs", now=100.0) is None
    assert eta.eta_seconds("job_etaunit01", now=100.0) is None
    # The stage that just ended measured 18 % in 9 s: 80 % more take 40 s.
    assert eta.note_progress("job_etaunit01", 20.0, "iteration 1", now=109.0) == 40
    assert eta.eta_seconds("job_etaunit01", now=119.0) == 30  # counts down between reports


def test_the_wait_for_a_decision_is_left_out_of_the_stages_rate() -> None:
    eta.note_progress("job_etaunit02", 20.0, "iteration 1", now=0.0)
    eta.pause("job_etaunit02", now=10.0)
    eta.resume("job_etaunit02", now=1010.0)  # a human took 1000 s to answer
    assert eta.note_progress("job_etaunit02", 40.0, "iteration 2", now=1020.0) == 60


def test_the_last_report_ends_the_estimate() -> None:
    eta.note_progress("job_etaunit03", 20.0, "iteration 1", now=0.0)
    eta.note_progress("job_etaunit03", 50.0, "iteration 2", now=10.0)
    assert eta.note_progress("job_etaunit03", 100.0, "done", now=20.0) is None
    assert eta.eta_seconds("job_etaunit03", now=20.0) is None


def test_only_a_running_job_has_an_eta() -> None:
    eta.note_progress("job_etaunit04", 20.0, "iteration 1", now=0.0)
    eta.note_progress("job_etaunit04", 50.0, "iteration 2", now=10.0)
    assert running_eta({"job_id": "job_etaunit04", "status": JobStatus.RUNNING.value}) is not None
    assert running_eta({"job_id": "job_etaunit04", "status": JobStatus.WAITING_INPUT.value}) is None


def test_a_running_jobs_public_record_and_event_get_an_eta_after_two_progress_updates(
    runtime: Runtime,
) -> None:
    job_id = running_job(runtime)
    ctx = JobContext(runtime, job_id, StoredConfig())
    seen: list[Event] = []
    runtime.events.listen(seen.append)
    ctx.progress(0.02, "reading inputs")
    assert job_public(job_rows.get_job(runtime.engine, job_id))["eta_seconds"] is None
    time.sleep(0.25)  # progress reports closer than 0.2 s apart are dropped
    ctx.progress(0.2, "iteration 1")
    record = job_public(job_rows.get_job(runtime.engine, job_id))
    assert isinstance(record["eta_seconds"], int) and record["eta_seconds"] >= 0
    updates = [e["data"] for e in seen if e["type"] == "job_update"]
    assert [u["eta_seconds"] is not None for u in updates] == [False, True]


@pytest.fixture(autouse=True)
def _clean_clocks() -> None:
    for n in range(1, 5):
        eta.forget(f"job_etaunit0{n}")
