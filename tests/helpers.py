"""Small builders shared by tests: real rows in a real store, no stand-ins."""

import json
from typing import Any

from litgap.clock import now_iso
from litgap.ids import new_job_id
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
