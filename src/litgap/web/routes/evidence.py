"""Evidence: a job's passages per sub-requirement, its papers and their PDFs, revisions
made from reviewer verdicts, and the agreement between reviewers. Viewers may read;
creating a revision needs an operator."""

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field

from litgap.ids import validate_job_id
from litgap.services import agreement as agreement_service
from litgap.services import evidence as evidence_service
from litgap.services import revisions
from litgap.web.deps import CurrentUser, ExecutorDep, OperatorUser, RuntimeDep

router = APIRouter(prefix="/api/jobs", tags=["evidence"])
# A PDF is shown by the browser's viewer: no sandbox (it would block the viewer), no
# scripts of ours, and framed by our own pages only.
PDF_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'"


class VerdictIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    evidence_id: str = Field(min_length=1, max_length=64)
    verdict: Literal["accept", "reject"]
    note: str | None = Field(default=None, max_length=20_000)
    # The sub-requirement whose Evidence panel it was judged in: its record goes there.
    sub_requirement: str | None = Field(default=None, max_length=200)


class RevisionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    verdicts: list[VerdictIn] = Field(max_length=revisions.MAX_VERDICTS)
    note: str | None = Field(default=None, max_length=20_000)
    model_verdicts: bool = Field(
        default=False,
        description="The model's verdicts recorded on the job count too (a person's wins)",
    )


class RevisionCreated(BaseModel):
    job_id: str
    status: str
    revision_of: str


@router.get("/{job_id}/evidence")
async def evidence(
    job_id: str,
    rt: RuntimeDep,
    user: CurrentUser,
    sub: Annotated[str | None, Query(max_length=200, description="a sub-requirement id")] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[
        int, Query(ge=1, le=evidence_service.MAX_PAGE)
    ] = evidence_service.DEFAULT_PAGE,
) -> dict[str, Any]:
    """One sub-requirement's passages, best first, with highlights (`sub`), or a page of
    all sub-requirements. 409 while the job runs or for a report without evidence."""
    validate_job_id(job_id)
    if sub is not None:
        return await asyncio.to_thread(evidence_service.sub_evidence, rt, job_id, sub)
    return await asyncio.to_thread(evidence_service.all_evidence, rt, job_id, offset, limit)


@router.get("/{job_id}/papers")
async def papers(job_id: str, rt: RuntimeDep, user: CurrentUser) -> dict[str, Any]:
    """Per paper: title, year, authors, PDF link, and the sub-requirements it supports."""
    validate_job_id(job_id)
    return await asyncio.to_thread(evidence_service.papers, rt, job_id)


@router.get("/{job_id}/papers/{n}/file")
async def paper_file(job_id: str, n: int, rt: RuntimeDep, user: CurrentUser) -> FileResponse:
    """The PDF that is the job's input number `n`, inline (link it with #page=N)."""
    validate_job_id(job_id)
    path = await asyncio.to_thread(evidence_service.paper_file, rt, job_id, n)
    return FileResponse(
        path,
        media_type="application/pdf",
        filename=path.name,
        content_disposition_type="inline",
        headers={"Content-Security-Policy": PDF_POLICY, "X-Content-Type-Options": "nosniff"},
    )


@router.post("/{job_id}/revisions", status_code=201, response_model=RevisionCreated)
async def create_revision(
    job_id: str, body: RevisionBody, rt: RuntimeDep, executor: ExecutorDep, user: OperatorUser
) -> RevisionCreated:
    """A new job: the original's inputs and decisions plus these verdicts, recorded as
    evidence_review decisions. 422 for no, conflicting or unknown verdicts; 409 for a
    job that has not completed."""
    validate_job_id(job_id)
    given = [
        revisions.Verdict(v.evidence_id, v.verdict, v.note, v.sub_requirement)
        for v in body.verdicts
    ]
    row = await revisions.revise_job(
        rt,
        executor,
        job_id,
        given,
        note=body.note,
        created_by=user.name,
        model_verdicts=body.model_verdicts,
    )
    return RevisionCreated(job_id=row["job_id"], status=row["status"], revision_of=job_id)


@router.get("/{job_id}/agreement")
async def agreement(
    job_id: str,
    rt: RuntimeDep,
    user: CurrentUser,
    a: Annotated[str | None, Query(max_length=200, description="a rater")] = None,
    b: Annotated[str | None, Query(max_length=200, description="another rater")] = None,
) -> dict[str, Any]:
    """Agreement between any two raters of the job (its revisions' reviewers, and models
    by their recorded verdicts, named `llm:<model>`): Cohen's kappa over the passages
    both judged, the confusion table, per sub-requirement, and the conflicts; every
    pair, or only `a` and `b`. 422 for an unknown rater."""
    validate_job_id(job_id)
    return await asyncio.to_thread(agreement_service.agreement, rt, job_id, a, b)
