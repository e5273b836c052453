"""What report.html and the radar chart need to know about a job beyond its analysis:
its decisions so far, its parent and the parent's results. Read from the store by the
flow just before the results stage, handed to the pure pipeline as plain data."""

import json

from litgap.pipeline import ReportContext
from litgap.records import prompt_record
from litgap.runtime import Runtime
from litgap.services.lineage import lineage_entry
from litgap.store import jobs as job_rows
from litgap.store import prompts as prompt_rows


def report_context(rt: Runtime, job_id: str) -> ReportContext:
    """The job's resolved prompt records, its parent id and relation, the parent's
    manifest hash (as its export's LINEAGE.json names it) and completeness per pillar."""
    decisions = [prompt_record(r) for r in prompt_rows.job_prompts(rt.engine, job_id)]
    row = job_rows.get_job(rt.engine, job_id)
    parent_id = row.get("parent_job_id")
    if not parent_id or not job_rows.job_exists(rt.engine, parent_id):
        return ReportContext(job_id=job_id, decisions=decisions)
    entry = lineage_entry(rt, job_id)
    manifest_hash = json.loads(entry)["parent_manifest_hash"] if entry else None
    summary = job_rows.get_job(rt.engine, parent_id).get("summary") or {}
    pillars = summary.get("pillars") if isinstance(summary, dict) else None
    return ReportContext(
        job_id=job_id,
        decisions=decisions,
        parent_job_id=parent_id,
        relation=row.get("relation"),
        parent_manifest_hash=manifest_hash,
        parent_pillars=dict(pillars) if isinstance(pillars, dict) else None,
    )
