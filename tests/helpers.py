"""Small builders shared by tests: real rows in a real store, no stand-ins."""

import json
from typing import Any

from litgap.clock import now_iso
from litgap.ids import new_job_id
from litgap.responses import as_text, fingerprint
from litgap.runtime import Runtime
from litgap.status import JobStatus
from litgap.store import jobs as job_rows


def new_job(rt: Runtime) -> str:
    """A draft job row with its folder and document, as create_job leaves it."""
    job_id = new_job_id()
    rt.workspace.create_job_dirs(job_id)
    now = now_iso()
    job_rows.insert_job(
        rt.engine,
        {
            "job_id": job_id,
            "status": JobStatus.DRAFT.value,
            "created_at": now,
            "updated_at": now,
            "config": {},
            "inputs": [],
            "transitions": [{"status": "draft", "at": now}],
        },
    )
    rt.docs.write_now(job_id)
    return job_id


def document(rt: Runtime, job_id: str) -> dict[str, Any]:
    rt.docs.flush()
    data: dict[str, Any] = json.loads(rt.workspace.document(job_id).read_text())
    return data


def resolved_prompt_row(
    job_id: str,
    seq: int,
    prompt_type: str,
    prompt_data: dict[str, Any],
    response: Any,
    *,
    requested_at: str,
    resolved_at: str,
    response_time_ms: int,
    timeout_seconds: int = 60,
    status: str = "answered",
    applied: Any = ...,
    source: str | None = "user",
    prompt_id: str | None = None,
) -> dict[str, Any]:
    """A resolved prompt row as the broker stores it, for writing history straight into
    the store (benchmarks and analytics tests need many, with chosen times)."""
    value = response if applied is ... else applied
    return {
        "prompt_id": prompt_id or f"prompt_{job_id[4:]}{seq:06d}"[:39],
        "job_id": job_id,
        "seq": seq,
        "type": prompt_type,
        "status": status,
        "prompt_data": prompt_data,
        "timeout_seconds": timeout_seconds,
        "requested_at": requested_at,
        "deadline": resolved_at,
        "resolved_at": resolved_at,
        "response": response,
        "applied": value,
        "applied_text": as_text(value),
        "source": source,
        "answered_by": "ada" if source == "user" else None,
        "response_time_ms": response_time_ms,
        "fingerprint": fingerprint(
            prompt_type, str(prompt_data.get("message", "")), list(prompt_data.get("options", []))
        ),
    }
