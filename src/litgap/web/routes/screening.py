"""Screening: a job's papers with their screening decisions and its PRISMA flow, and
revisions made from a reviewer's include / exclude choices. Viewers may read;
creating a revision needs an operator."""

import asyncio
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from litgap.ids import validate_job_id
from litgap.services import screening as screening_service
from litgap.web.deps import CurrentUser, ExecutorDep, OperatorUser, RuntimeDep

router = APIRouter(prefix="/api/jobs", tags=["screening"])


class ChoiceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    paper: str = Field(min_length=1, max_length=2000, description="a paper id of the job")
    decision: Literal["include", "exclude"]
    reason: str | None = Field(default=None, max_length=200, description="one of the reasons")
    stage: Literal["title_abstract", "full_text"] = "full_text"
    note: str | None = Field(default=None, max_length=20_000)


class ScreeningBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    choices: list[ChoiceIn] = Field(max_length=screening_service.MAX_CHOICES)
    note: str | None = Field(default=None, max_length=20_000)


class ScreeningCreated(BaseModel):
    job_id: str
    status: str
    revision_of: str


@router.get("/{job_id}/screening")
async def screening(job_id: str, rt: RuntimeDep, user: CurrentUser) -> dict[str, Any]:
    """The job's PRISMA flow, every paper with its screening decision so far, the
    reasons and the stages. 409 while the job runs."""
    validate_job_id(job_id)
    return await asyncio.to_thread(screening_service.screening_state, rt, job_id)


@router.post("/{job_id}/screening", status_code=201, response_model=ScreeningCreated)
async def create_screening(
    job_id: str, body: ScreeningBody, rt: RuntimeDep, executor: ExecutorDep, user: OperatorUser
) -> ScreeningCreated:
    """A new job: the original's inputs and decisions plus these choices, recorded as
    `screening` decisions; excluded papers are left out of its analysis. 422 for no,
    conflicting or unknown choices, an unknown reason or every paper excluded; 409 for
    a job that has not completed."""
    validate_job_id(job_id)
    given = [
        screening_service.Choice(c.paper, c.decision, c.reason, c.stage, c.note)
        for c in body.choices
    ]
    row = await screening_service.screen_job(
        rt, executor, job_id, given, note=body.note, created_by=user.name
    )
    return ScreeningCreated(job_id=row["job_id"], status=row["status"], revision_of=job_id)
