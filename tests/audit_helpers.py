"""Builders for the audit tests: sample jobs run for real, their prompts answered from
a script, and prompt rows written straight to the store with chosen times."""

from datetime import timedelta
from typing import Any

from litgap.clock import iso, parse_iso
from litgap.config import JobConfig
from litgap.executor.inprocess import run_watching
from litgap.responses import PromptSpec
from litgap.runtime import Runtime
from litgap.services import jobs as job_service
from litgap.status import PromptSource
from litgap.store import jobs as job_rows
from litgap.store import prompts as prompt_rows
from tests.helpers import resolved_prompt_row

Row = dict[str, Any]


async def run_job(rt: Runtime, job_id: str, script: dict[str, list[Any]] | None = None) -> Row:
    """Start `job_id` and answer each prompt it asks with the next scripted answer for
    its type (prompts a replay answers are never asked). Returns the final job."""
    script = {k: list(v) for k, v in (script or {}).items()}

    async def answer(event: dict[str, Any]) -> None:
        data = event["data"]
        if event["type"] != "prompt_request":
            return
        answers = script.get(data["type"])
        if not answers:
            raise AssertionError(f"no scripted answer for {data['type']}: {data}")
        rt.broker.answer(
            data["prompt_id"], answers.pop(0), source=PromptSource.USER, answered_by="ada"
        )

    await run_watching(rt, job_id, answer)
    rt.docs.flush()
    return job_service.get_job(rt, job_id)


async def sample_job(rt: Runtime, script: dict[str, list[Any]], **config: Any) -> Row:
    row = job_service.create_sample_job(rt, JobConfig(**config), created_by="ada")
    return await run_job(rt, row["job_id"], script)


def add_prompt(
    rt: Runtime,
    job_id: str,
    seq: int,
    *,
    type: str = "run_mode",
    requested_at: str = "2025-11-17T10:00:00.000000Z",
    response_ms: int = 1000,
    status: str = "answered",
    response: Any = "ONCE",
    applied: Any = "__same__",
    source: str | None = "user",
    options: list[str] | None = None,
    default: Any = "ONCE",
) -> str:
    """A resolved prompt row, written directly, resolved `response_ms` after it was asked."""
    options = options or ["ONCE", "DEEP_LOOP"]
    spec = PromptSpec(type=type, message=f"Ask {type}", options=options, default=default)
    resolved = iso(parse_iso(requested_at) + timedelta(milliseconds=response_ms))
    value = response if applied == "__same__" else applied
    prompt_id = f"prompt_{job_id[4:]}{seq:04d}"[:39]
    row = resolved_prompt_row(
        job_id,
        seq,
        type,
        spec.prompt_data(),
        response,
        requested_at=requested_at,
        resolved_at=resolved,
        response_time_ms=response_ms,
        timeout_seconds=120,
        status=status,
        applied=value,
        source=source,
        prompt_id=prompt_id,
    )
    prompt_rows.insert_prompt(rt.engine, row)
    return prompt_id


def set_status(rt: Runtime, job_id: str, status: str) -> None:
    job_rows.update_job(rt.engine, job_id, status=status)
