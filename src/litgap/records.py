"""The portable shapes of a job and its prompt records, as job_data.json holds them."""

from typing import Any

from litgap import eta
from litgap.status import JobStatus, PromptStatus

Row = dict[str, Any]

NO_HISTORY_MESSAGE = (
    "No prompt history available (job created before this feature or no prompts required)"
)


def prompt_record(row: Row) -> dict[str, Any]:
    """A resolved prompt as recorded: the original specification's fields first, then
    what an audit needs."""
    record: dict[str, Any] = {
        "prompt_id": row["prompt_id"],
        "type": row["type"],
        "response": row["response"],
        "timestamp": row["resolved_at"],
        "timeout_seconds": row["timeout_seconds"],
        "timed_out": row["status"] == PromptStatus.TIMED_OUT,
        "prompt_data": row["prompt_data"],
        "seq": row["seq"],
        "requested_at": row["requested_at"],
        "status": row["status"],
        "applied": row["applied"],
        "source": row["source"],
        "answered_by": row["answered_by"],
        "response_time_ms": row["response_time_ms"],
        "note": row["note"],
    }
    if row.get("replayed_from"):
        record["replayed_from"] = row["replayed_from"]
    if row.get("drift"):
        record["drift"] = row["drift"]
    return record


def pending_prompt(row: Row) -> dict[str, Any]:
    return {
        "prompt_id": row["prompt_id"],
        "job_id": row["job_id"],
        "type": row["type"],
        "seq": row["seq"],
        "prompt_data": row["prompt_data"],
        "timeout_seconds": row["timeout_seconds"],
        "requested_at": row["requested_at"],
        "deadline": row["deadline"],
        "drift": row.get("drift"),
    }


def job_header(row: Row) -> dict[str, Any]:
    """Everything job_data.json holds about a job except its prompts."""
    return {
        "job_id": row["job_id"],
        "status": row["status"],
        "created_at": row["created_at"],
        "started_at": row["started_at"],
        "completed_at": row["completed_at"],
        "updated_at": row["updated_at"],
        "config": row["config"],
        "inputs": row["inputs"],
        "results": row["summary"],
        "error": row["error"],
        "replay_of": row["replay_of"],
        # Lineage: the job this one was made from, and how (replay_of, revision_of,
        # continues); rows read before migration 0002 have neither.
        "parent_job_id": row.get("parent_job_id"),
        "relation": row.get("relation"),
        "revision_of": row.get("parent_job_id") if row.get("relation") == "revision_of" else None,
        "created_by": row["created_by"],
        "transitions": row["transitions"],
    }


def job_public(row: Row) -> dict[str, Any]:
    """A job as the API and the dashboard list it."""
    return {
        **job_header(row),
        "progress": row["progress"],
        "stage": row["stage"],
        "eta_seconds": running_eta(row),
        "legacy": bool(row["legacy"]),
    }


def running_eta(row: Row) -> int | None:
    """Seconds a running job has left by its current stage's rate (`eta.py`); None when
    it is not running or nothing was measured in this process."""
    if row["status"] != JobStatus.RUNNING:
        return None
    return eta.eta_seconds(row["job_id"])


def decision_label(record: dict[str, Any]) -> str:
    """The badge a decision carries in every view: one vocabulary for UI, CLI and export."""
    if record["status"] == PromptStatus.CANCELLED:
        return "Cancelled"
    if record["status"] == PromptStatus.TIMED_OUT:
        return "Default applied" if record.get("applied") is not None else "Timed out"
    if record.get("source") == "replay":
        return "Replayed"
    return "Responded"


def shown_value(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)
