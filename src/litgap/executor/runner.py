"""Running one job: from queued to an end, every outcome recorded with its reason."""

import asyncio
import logging
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


async def run_job(rt: Runtime, job_id: str, *, suspend: bool = False) -> Row | None:
    """Run (or resume) a job's flow to its end. Never raises for the job's own failures.
    With `suspend`, a prompt still pending ends the run early: the pending prompt is
    returned, and an answer or its deadline continues the job."""
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
    config = StoredConfig.model_validate(row["config"])
    # The job's own timeouts and limits, kept at its creation, not this process's.
    job_rt = replace(rt, settings=rt.settings.for_job(config.settings))
    ctx = JobContext(job_rt, job_id, config, suspend=suspend)
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
        rt.broker.cancel_job(job_id)
        _finish(rt, job_id, JobStatus.CANCELLED, error=err.detail, stage="cancelled")
    except (NoDecision, PipelineError, LitgapError) as err:
        rt.broker.cancel_job(job_id)
        detail = getattr(err, "detail", str(err))
        _finish(rt, job_id, JobStatus.FAILED, error=detail, stage="failed")
    except Exception as err:
        log.exception("job %s failed", job_id)
        rt.broker.cancel_job(job_id)
        _finish(rt, job_id, JobStatus.FAILED, error=f"internal error: {err!r}", stage="failed")
    else:
        _finish(rt, job_id, JobStatus.COMPLETED, summary=summary, progress=100.0, stage="done")
    return None
