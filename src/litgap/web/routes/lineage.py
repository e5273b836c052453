"""Job families: continue a completed job with new papers, and read a job's lineage."""

import asyncio
import json
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel
from starlette.datastructures import UploadFile

from litgap.exceptions import InvalidInput, PayloadTooLarge
from litgap.ids import validate_job_id
from litgap.services import continuation, lineage
from litgap.services.inputs import InputFile
from litgap.services.jobs import parse_config
from litgap.web.deps import CurrentUser, ExecutorDep, OperatorUser, RuntimeDep
from litgap.web.schemas import upload_body

router = APIRouter(prefix="/api/jobs", tags=["lineage"])

CONTINUE_SCHEMA = upload_body(
    {
        "config": {
            "type": "string",
            "description": "JobConfig keys to override, as a JSON string",
        },
        "keep_duplicates": {"type": "boolean", "default": False},
    }
)
_TRUE, _FALSE = ("true", "1", "on", "yes"), ("", "false", "0", "off", "no")


class ContinuationCreated(BaseModel):
    job_id: str
    continues: str
    status: str
    added: list[dict[str, Any]]
    duplicates: list[dict[str, Any]]


def _flag(value: object) -> bool:
    text = value.strip().lower() if isinstance(value, str) else ""
    if value is None or text in _FALSE:
        return False
    if text in _TRUE:
        return True
    raise InvalidInput(f"keep_duplicates: expected true or false, got {str(value)[:40]!r}")


def _config(value: object) -> Any:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return json.loads(value)
    except json.JSONDecodeError as err:
        raise InvalidInput(f"config is not valid JSON: {err}") from err


@router.post(
    "/{job_id}/continue",
    status_code=201,
    response_model=ContinuationCreated,
    openapi_extra=CONTINUE_SCHEMA,
)
async def continue_job(
    job_id: str, request: Request, rt: RuntimeDep, executor: ExecutorDep, user: OperatorUser
) -> ContinuationCreated:
    """A new job with this (completed) job's papers plus the uploaded ones, its decisions
    re-applied where the prompts match and its evidence verdicts carried over. Papers
    the corpus already has are left out (and listed) unless `keep_duplicates`. 409 when
    the job has not completed."""
    validate_job_id(job_id)
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > rt.settings.max_upload_bytes + 1024 * 1024:
        raise PayloadTooLarge(
            f"upload of {length} bytes exceeds the limit of {rt.settings.max_upload_bytes} bytes"
        )
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise InvalidInput(
            "send multipart/form-data: files, and optionally config, keep_duplicates"
        )
    async with request.form(max_files=2000, max_fields=20) as form:
        raw = _config(form.get("config"))
        overrides = parse_config(raw) if raw is not None else None
        keep = _flag(form.get("keep_duplicates"))
        uploads = [f for f in form.getlist("files") if isinstance(f, UploadFile)]
        files = [InputFile(f.filename or "upload", f.file) for f in uploads]
        row = await continuation.continue_job(
            rt,
            executor,
            job_id,
            files,
            overrides=overrides,
            keep_duplicates=keep,
            created_by=user.name,
        )
    return ContinuationCreated(
        job_id=row["job_id"],
        continues=job_id,
        status=row["status"],
        added=continuation.added_inputs(row),
        duplicates=list((row.get("config") or {}).get("duplicates", [])),
    )


@router.get("/{job_id}/lineage")
async def job_lineage(job_id: str, rt: RuntimeDep, user: CurrentUser) -> dict[str, Any]:
    """The job's family: `parents` (nearest first, each with the relation by which it
    was made), `children`, and `tree` from the first job down."""
    validate_job_id(job_id)
    return await asyncio.to_thread(lineage.job_lineage, rt, job_id)
