"""What report.html and the radar chart need to know about a job beyond its analysis:
its decisions so far, its parent and the parent's results. Read from the store by the
flow just before the results stage, handed to the pure pipeline as plain data."""

import json
from pathlib import PurePosixPath
from typing import Any

from litgap.pipeline import ReportContext
from litgap.records import prompt_record
from litgap.runtime import Runtime
from litgap.services.lineage import lineage_entry
from litgap.store import jobs as job_rows
from litgap.store import prompts as prompt_rows


def report_context(rt: Runtime, job_id: str) -> ReportContext:
    """The job's resolved prompt records, its parent id and relation, the parent's
    manifest hash (as its export's LINEAGE.json names it) and completeness per pillar,
    and what its PRISMA flow needs beyond the corpus (`prisma_inputs`)."""
    decisions = [prompt_record(r) for r in prompt_rows.job_prompts(rt.engine, job_id)]
    row = job_rows.get_job(rt.engine, job_id)
    left_out, added = prisma_inputs(rt, row)
    parent_id = row.get("parent_job_id")
    if not parent_id or not job_rows.job_exists(rt.engine, parent_id):
        return ReportContext(
            job_id=job_id, decisions=decisions, left_out=left_out, added_files=added
        )
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
        left_out=left_out,
        added_files=added,
    )


def prisma_inputs(
    rt: Runtime, row: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[str] | None]:
    """The uploads left out before the job existed (its config's duplicates not kept),
    and for a continuation the corpus files it added (by their name in inputs/corpus)
    with the uploads its ancestors left out (marked `inherited`: running totals)."""
    left_out = _left_out(row)
    if row.get("relation") != "continues":
        return left_out, None
    added = [
        PurePosixPath(str(i.get("path", ""))).name
        for i in row.get("inputs") or []
        if i.get("added") and i.get("role") == "corpus"
    ]
    seen = {row["job_id"]}
    parent = row
    # Each continuation's config lists only what its own upload left out.
    while parent.get("relation") == "continues" and parent.get("parent_job_id") not in seen:
        parent_id = str(parent.get("parent_job_id"))
        if not job_rows.job_exists(rt.engine, parent_id):
            break
        seen.add(parent_id)
        parent = job_rows.get_job(rt.engine, parent_id)
        left_out = [{**d, "inherited": True} for d in _left_out(parent)] + left_out
    return left_out, added


def _left_out(row: dict[str, Any]) -> list[dict[str, Any]]:
    config = row.get("config") or {}
    duplicates = config.get("duplicates") or []
    return [dict(d) for d in duplicates if isinstance(d, dict) and not d.get("kept")]
