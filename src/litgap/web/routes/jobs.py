"""/api/jobs: create, start, cancel, list, read, history, result files."""

import asyncio
import functools
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from litgap.config import error_place
from litgap.exceptions import InvalidInput, UnknownResultFile
from litgap.ids import validate_job_id
from litgap.services import jobs as job_service
from litgap.services.inputs import InputFile
from litgap.status import JobStatus
from litgap.text import check_text
from litgap.web.deps import CurrentUser, ExecutorDep, OperatorUser, RuntimeDep
from litgap.web.schemas import Accepted, JobCreated, JobCreateSample, JobList, upload_body

router = APIRouter(prefix="/api/jobs", tags=["jobs"])

T = TypeVar("T")
# Creating a job writes and fsyncs its inputs. Run in the default thread pool, 50
# creations at once held all its threads, and an answer's or a sign-in's short store
# read queued behind them (answer p99 0.8-1.4 s under bench/load.py --mode users).
# Creations run here instead, as many at once as users who create together: each
# waits on the disk twice (its folders, its commit), and creations that wait together
# share journal and SQLite commits. 50 at once, their runs starting beside them: p99
# of all creations 168-247 ms with 48 threads, 195-267 ms with 16, 465-658 ms with 4.
_CREATORS = ThreadPoolExecutor(max_workers=48, thread_name_prefix="job-create")


async def _creating(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    return await asyncio.get_running_loop().run_in_executor(
        _CREATORS, functools.partial(fn, *args, **kwargs)
    )


MULTIPART_SCHEMA = upload_body(
    {
        "pillars": {"type": "string", "format": "binary"},
        "config": {"type": "string", "description": "JobConfig as a JSON string"},
    },
    JobCreateSample.model_json_schema(),
)


UPLOAD_FIELDS = frozenset({"files", "pillars", "config", "sample"})


def _json_config(raw: str | None) -> Any:
    if raw is None or raw == "":
        return None
    try:
        return json.loads(raw)
    except json.JSONDecodeError as err:
        raise InvalidInput(f"config is not valid JSON: {err}") from err
    except RecursionError as err:
        raise InvalidInput("config: JSON nested too deeply") from err


@router.post("", status_code=201, response_model=JobCreated, openapi_extra=MULTIPART_SCHEMA)
async def create_job(request: Request, rt: RuntimeDep, user: OperatorUser) -> JobCreated:
    """Create a draft job from uploaded papers (multipart) or from the bundled sample (JSON)."""
    # The body's size, and its text when it is JSON, were checked as it arrived
    # (web/limits.py).
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("application/json"):
        try:
            body = JobCreateSample.model_validate_json(await request.body())
        except ValidationError as err:
            first = err.errors()[0]
            place = error_place(first["loc"]) or "body"
            raise InvalidInput(f"{place}: {first['msg']}") from err
        if not body.sample:
            raise InvalidInput(
                'a JSON request creates a job from the bundled sample: send {"sample": true}, '
                "or upload papers as multipart/form-data"
            )
        row = await _creating(job_service.create_sample_job, rt, body.config, created_by=user.name)
        return JobCreated(job_id=row["job_id"], status=row["status"])
    if not ctype.startswith("multipart/form-data"):
        raise InvalidInput("send multipart/form-data (files, pillars, config) or application/json")
    async with request.form(max_files=2000, max_fields=20) as form:
        # A misnamed field (say, "framework" for "pillars") would be ignored silently
        # and the job would run on the sample framework.
        unknown = sorted(set(form.keys()) - UPLOAD_FIELDS)
        if unknown:
            expected = ", ".join(sorted(UPLOAD_FIELDS))
            raise InvalidInput(f"unknown form field {unknown[0][:40]!r}; expected {expected}")
        config = job_service.parse_config(_json_config(_field(form.get("config"))))
        if _field(form.get("sample")) in ("true", "1", "on"):
            row = await _creating(job_service.create_sample_job, rt, config, created_by=user.name)
            return JobCreated(job_id=row["job_id"], status=row["status"])
        uploads = [f for f in form.getlist("files") if isinstance(f, UploadFile)]
        pillars = form.get("pillars")
        files = [InputFile(f.filename or "upload", f.file) for f in uploads]
        framework = None
        if isinstance(pillars, UploadFile) and pillars.filename:
            framework = InputFile(pillars.filename, pillars.file)
        row = await _creating(
            job_service.create_job,
            rt,
            files=files,
            framework=framework,
            config=config,
            created_by=user.name,
        )
    duplicates = (row.get("config") or {}).get("duplicates", [])
    return JobCreated(job_id=row["job_id"], status=row["status"], duplicates=duplicates)


def _check_query(**params: str | None) -> None:
    # A search term goes into SQL: NUL would be refused by PostgreSQL with a 500.
    for name, value in params.items():
        if value is not None:
            check_text(value, f"query -> {name}")


def _field(value: object) -> str | None:
    return value if isinstance(value, str) else None


@router.post("/{job_id}/start", status_code=202, response_model=Accepted)
async def start_job(
    job_id: str, rt: RuntimeDep, executor: ExecutorDep, user: OperatorUser
) -> Accepted:
    row = await job_service.start_job_async(rt, executor, job_id)
    return Accepted(job_id=job_id, status=row["status"])


@router.post("/{job_id}/cancel", status_code=202, response_model=Accepted)
async def cancel_job(
    job_id: str, rt: RuntimeDep, executor: ExecutorDep, user: OperatorUser
) -> Accepted:
    row = await job_service.cancel_job_async(rt, executor, job_id)
    return Accepted(job_id=job_id, status=row["status"])


@router.get("", response_model=JobList)
async def list_jobs(
    rt: RuntimeDep,
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    status: Annotated[JobStatus | None, Query()] = None,
    prompt_type: Annotated[str | None, Query(max_length=40)] = None,
    response: Annotated[str | None, Query(max_length=500)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> JobList:
    """Jobs, newest first; `prompt_type` + `response` find jobs by their decisions."""
    _check_query(prompt_type=prompt_type, response=response, q=q)
    rows, next_cursor = job_service.list_jobs(
        rt,
        limit=limit,
        cursor=cursor,
        status=status.value if status else None,
        prompt_type=prompt_type,
        response=response,
        q=q,
    )
    return JobList(jobs=rows, next_cursor=next_cursor)


@router.get("/{job_id}")
async def get_job(job_id: str, rt: RuntimeDep, user: CurrentUser) -> dict[str, Any]:
    """The job with `prompts` (the records of job_data.json) and `pending_prompts`."""
    return job_service.get_job(rt, job_id)


@router.get("/{job_id}/prompts")
async def job_prompts(
    job_id: str,
    rt: RuntimeDep,
    user: CurrentUser,
    type: Annotated[str | None, Query(max_length=40)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    _check_query(type=type, q=q)
    records = job_service.job_history(rt, job_id, type, q)
    return {"job_id": job_id, "prompts": records}


@router.get("/{job_id}/results/{name}")
async def result_file(job_id: str, name: str, rt: RuntimeDep, user: CurrentUser) -> FileResponse:
    """One result file; only names the job's results folder lists are served."""
    validate_job_id(job_id)
    if name not in job_service.result_files(rt, job_id):
        raise UnknownResultFile(job_id, name)
    path = rt.workspace.results_dir(job_id) / name
    inline = name.endswith((".json", ".csv", ".md", ".txt", ".svg", ".png"))
    return FileResponse(
        path,
        filename=name,
        content_disposition_type="inline"
        if inline and not name.endswith(".html")
        else "attachment",
        headers={
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
            "X-Content-Type-Options": "nosniff",
        },
    )
