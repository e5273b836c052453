"""Audit: export a job as a verifiable ZIP, replay it, compare two jobs, and decision
analytics across jobs. Viewers may read all of it; replaying needs an operator."""

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from litgap.ids import validate_job_id
from litgap.services import analytics, diff, export, replay
from litgap.web.deps import CurrentUser, ExecutorDep, OperatorUser, RuntimeDep

router = APIRouter(tags=["audit"])


class ReplayBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    overrides: dict[str, Any] = Field(
        default_factory=dict,
        max_length=replay.MAX_OVERRIDES,
        description="prompt_id of the original -> the answer to give instead (what-if)",
    )


class ReplayCreated(BaseModel):
    job_id: str
    status: str
    replay_of: str


@router.get("/api/jobs/{job_id}/download")
async def download(job_id: str, rt: RuntimeDep, user: CurrentUser) -> StreamingResponse:
    """The job as a ZIP: job_data.json, results/, prompt history (json, txt, csv) and
    MANIFEST.sha256. A job that has not ended is exported as it is, marked partial."""
    validate_job_id(job_id)
    plan = await asyncio.to_thread(export.plan_export, rt, job_id)
    return StreamingResponse(
        export.stream_export(rt, plan),
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{plan.filename}"',
            "X-Litgap-Partial": "true" if plan.partial else "false",
            "Cache-Control": "no-store",
        },
    )


@router.post("/api/jobs/{job_id}/replay", status_code=201, response_model=ReplayCreated)
async def replay_job(
    job_id: str,
    rt: RuntimeDep,
    executor: ExecutorDep,
    user: OperatorUser,
    body: ReplayBody | None = None,
) -> ReplayCreated:
    """Re-run a job with its inputs and recorded answers (some overridden, for a what-if).
    409 when the job has no history or has not ended; 422 names an override's allowed
    values."""
    validate_job_id(job_id)
    overrides = body.overrides if body else {}
    row = await replay.replay_job(rt, executor, job_id, overrides, created_by=user.name)
    return ReplayCreated(job_id=row["job_id"], status=row["status"], replay_of=job_id)


@router.get("/api/jobs/{a}/diff/{b}")
async def diff_jobs(a: str, b: str, rt: RuntimeDep, user: CurrentUser) -> dict[str, Any]:
    """Decisions, config and results of jobs A and B side by side, and whether B
    reproduced A."""
    validate_job_id(a)
    validate_job_id(b)
    return await asyncio.to_thread(diff.diff_jobs, rt, a, b)


@router.get("/api/analytics/prompts")
async def prompt_analytics(
    rt: RuntimeDep,
    user: CurrentUser,
    since: Annotated[str | None, Query(max_length=40, description="ISO-8601, inclusive")] = None,
    until: Annotated[str | None, Query(max_length=40, description="ISO-8601, inclusive")] = None,
) -> dict[str, Any]:
    """Per prompt type: count, median and p90 response time, timeout and default-applied
    rates, most frequent answers."""
    return await asyncio.to_thread(analytics.prompt_analytics, rt, since, until)
