"""Row builders for the store tests: complete rows, as the services write them."""

from typing import Any

from litgap.ids import new_job_id, new_prompt_id
from litgap.status import JobStatus, PromptStatus

Row = dict[str, Any]


def job(
    job_id: str | None = None, *, at: str = "2026-01-01T00:00:00.000000Z", **fields: Any
) -> Row:
    return {
        "job_id": job_id or new_job_id(),
        "status": JobStatus.DRAFT.value,
        "created_at": at,
        "updated_at": at,
        "config": {"run_mode": None, "prompt_timeouts": {}},
        "inputs": [{"role": "corpus", "name": "paper.txt", "sha256": "ab" * 32, "size": 12}],
        "transitions": [{"status": "draft", "at": at}],
        "search_text": "",
        **fields,
    }


def prompt(
    job_id: str,
    seq: int,
    *,
    type: str = "run_mode",
    requested_at: str = "2026-01-01T00:00:01.000000Z",
    deadline: str = "2026-01-01T00:02:01.000000Z",
    **fields: Any,
) -> Row:
    return {
        "prompt_id": new_prompt_id(),
        "job_id": job_id,
        "seq": seq,
        "type": type,
        "status": PromptStatus.PENDING.value,
        "prompt_data": {
            "message": "Select analysis mode",
            "options": ["ONCE", "DEEP_LOOP"],
            "default": "ONCE",
        },
        "timeout_seconds": 120,
        "requested_at": requested_at,
        "deadline": deadline,
        "fingerprint": "f" * 64,
        **fields,
    }


def answered(value: Any, at: str = "2026-01-01T00:00:05.000000Z", **fields: Any) -> Row:
    """The values a resolution writes."""
    return {
        "status": PromptStatus.ANSWERED.value,
        "resolved_at": at,
        "response": value,
        "applied": value,
        "applied_text": value if isinstance(value, str) else "|".join(value),
        "source": "user",
        "answered_by": "ada",
        "response_time_ms": 4000,
        **fields,
    }
