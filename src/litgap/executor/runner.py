"""Running one job: from queued to an end, every outcome recorded with its reason."""

import asyncio
import contextlib
import fcntl
import logging
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import Any

from litgap.config import StoredConfig
from litgap.context import DecisionCancelled, JobContext, NoDecision, Suspended
from litgap.exceptions import LitgapError
from litgap.flow import CancelledByDecision, run_flow
from litgap.pipeline import PipelineError
from litgap.records import job_public
from litgap.runtime import Runtime
from litgap.status import JobStatus
from litgap.store import jobs as job_rows
from litgap.store import prompts as prompt_rows

log = logging.getLogger(__name__)
Row = dict[str, Any]


def _finish(rt: Runtime, job_id: str, status: JobStatus, **fields: Any) -> None:
    row = job_rows.get_job(rt.engine, job_id)
    if JobStatus(row["status"]).is_terminal:
        return
    row = job_rows.transition(rt.engine, job_id, status, **fields)
    # The end of a job is announced only once its document says so too.
    rt.docs.write_now(job_id)
    rt.events.publish("job_update", job_public(row))


async def _ended(rt: Runtime, job_id: str, status: JobStatus, **fields: Any) -> None:
    """A run that ended early: its open prompts cancelled, then the job ended."""

    def end() -> None:
        rt.broker.cancel_job(job_id)
        _finish(rt, job_id, status, **fields)

    await asyncio.to_thread(end)


def _run_lock(rt: Runtime, job_id: str) -> AbstractContextManager[object] | None:
    """The job's run lock, held until the file is closed; None when another run (in
    this process or another on the same workspace) holds it. Without it, `litgap
    serve` and `litgap run` on one workspace could both run a waiting job."""
    try:
        handle = open(rt.workspace.job_dir(job_id) / ".run.lock", "a+b")
    except FileNotFoundError:  # no folder: nothing to share, the run ends at once
        return contextlib.nullcontext()
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return handle


def _begin(rt: Runtime, job_id: str) -> tuple[Row, int] | None:
    """The job moved to running with the last seq of its recorded prompts, or None when
    it has nothing (more) to run."""
    row = job_rows.get_job(rt.engine, job_id)
    if JobStatus(row["status"]).is_terminal:
        return None
    inputs = rt.workspace.inputs_dir(job_id)
    if not (inputs / "framework.json").is_file() or not (inputs / "corpus").is_dir():
        _finish(rt, job_id, JobStatus.INTERRUPTED, error="cannot resume: the job's inputs are gone")
        return None
    row = job_rows.transition(rt.engine, job_id, JobStatus.RUNNING, stage="starting", error=None)
    rt.docs.mark(job_id)
    rt.events.publish("job_update", job_public(row))
    # Read here, in the thread, for the run's first ask: on the event loop it held up
    # the requests of 50 users whose jobs started at once.
    return row, prompt_rows.last_seq(rt.engine, job_id)


async def run_job(rt: Runtime, job_id: str, *, suspend: bool = False) -> Row | None:
    """Run (or resume) a job's flow to its end. Never raises for the job's own failures.
    With `suspend`, a prompt still pending ends the run early: the pending prompt is
    returned, and an answer or its deadline continues the job."""
    lock = _run_lock(rt, job_id)
    if lock is None:
        log.info("job %s is being run elsewhere: left to that run", job_id)
        return None
    with lock:
        return await _run_locked(rt, job_id, suspend)


async def _run_locked(rt: Runtime, job_id: str, suspend: bool) -> Row | None:
    # The store's commits and the document's fsyncs run in a thread: on the event loop
    # they held up every request (a job's start and end were 10% of the serving loop's
    # time under bench/load.py --mode users).
    begun = await asyncio.to_thread(_begin, rt, job_id)
    if begun is None:
        return None
    row, recorded = begun
    config = StoredConfig.model_validate(row["config"])
    # The job's own timeouts and limits, kept at its creation, not this process's.
    job_rt = replace(rt, settings=rt.settings.for_job(config.settings))
    ctx = JobContext(job_rt, job_id, config, suspend=suspend, recorded=recorded)
    try:
        summary = await run_flow(ctx)
    except Suspended as waiting:
        rt.docs.mark(job_id)
        return waiting.prompt
    except asyncio.CancelledError:
        # A user's cancel is already in the store; anything else is a shutdown, and the
        # job stays as it is for the next start to resume.
        raise
    except (CancelledByDecision, DecisionCancelled) as err:
        await _ended(rt, job_id, JobStatus.CANCELLED, error=err.detail, stage="cancelled")
    except (NoDecision, PipelineError, LitgapError) as err:
        detail = getattr(err, "detail", str(err))
        await _ended(rt, job_id, JobStatus.FAILED, error=detail, stage="failed")
    except Exception as err:
        log.exception("job %s failed", job_id)
        await _ended(rt, job_id, JobStatus.FAILED, error=f"internal error: {err!r}", stage="failed")
    else:
        await asyncio.to_thread(
            _finish, rt, job_id, JobStatus.COMPLETED, summary=summary, progress=100.0, stage="done"
        )
    return None
