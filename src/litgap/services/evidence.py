"""Evidence a job's report holds: per sub-requirement its passages (best first) with the
words that matched highlighted, per paper the sub-requirements it supports, the papers'
own files, and the verdicts recorded on the job.

Everything is read from the job's `results/gap_analysis_report.json` (schema 2) and its
`evidence_review` decisions; nothing is recomputed but the highlights, which mark the
passage words whose folded stem (the lexical scorer's `light_stem`) is one of the
sub-requirement's words, stop words left out.
"""

import json
import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from litgap.exceptions import InvalidInput, NoEvidence, UnknownEvidence
from litgap.ids import validate_job_id
from litgap.llm.records import is_model_record, model_label
from litgap.llm.template import AS_VERDICT
from litgap.pipeline.scorers.lexical import STOP_WORDS, TOKEN_PATTERN, light_stem
from litgap.review import PROMPT_TYPE, verdicts_from
from litgap.runtime import Runtime
from litgap.status import JobStatus
from litgap.store import jobs as job_rows
from litgap.store import prompts as prompt_rows

Row = dict[str, Any]
REPORT_JSON = "gap_analysis_report.json"
MIN_SCHEMA = 2
MAX_PAGE = 200
DEFAULT_PAGE = 50
_WORD = re.compile(TOKEN_PATTERN)
_STOP = frozenset(STOP_WORDS)


def read_report(rt: Runtime, job_id: str) -> Row:
    """The job's report (schema 2 or later). Raises InvalidJobId, UnknownJob, NoEvidence
    (409: not completed, or a report made before evidence ids) or UnknownEvidence (404:
    a completed job without a report)."""
    row = job_rows.get_job(rt.engine, validate_job_id(job_id))
    path = rt.workspace.results_dir(job_id) / REPORT_JSON
    try:
        report = json.loads(path.read_bytes())
    except FileNotFoundError:
        if row["status"] != JobStatus.COMPLETED.value:
            raise NoEvidence(
                f"job {job_id!r} is {row['status']}: its evidence is in the report it "
                "writes when it completes"
            ) from None
        raise UnknownEvidence(f"job {job_id!r} has no results/{REPORT_JSON}") from None
    except (OSError, ValueError) as err:
        raise UnknownEvidence(f"job {job_id!r}: results/{REPORT_JSON} is unreadable") from err
    version = report.get("schema_version") if isinstance(report, dict) else None
    if not isinstance(version, int) or version < MIN_SCHEMA:
        raise NoEvidence(
            f"job {job_id!r} has a report of schema_version {version!r}, made before "
            f"evidence passages were kept (schema {MIN_SCHEMA}); replay it to get them"
        )
    return report


def iter_subs(report: Row) -> Iterator[Row]:
    """Every sub-requirement entry of a report, in framework order, with its
    requirement and pillar named."""
    for pillar in report.get("pillars", []):
        for requirement in pillar.get("requirements", []):
            for sub in requirement.get("sub_requirements", []):
                yield {
                    **sub,
                    "requirement": {"id": requirement.get("id"), "name": requirement.get("name")},
                    "pillar": pillar.get("name"),
                }


def evidence_ids(report: Row) -> dict[str, list[str]]:
    """evidence_id -> the sub-requirements whose passages include it."""
    found: dict[str, list[str]] = {}
    for sub in iter_subs(report):
        for passage in sub.get("evidence", []):
            found.setdefault(str(passage["evidence_id"]), []).append(str(sub["id"]))
    return found


@lru_cache(maxsize=4096)
def _stems(text: str) -> frozenset[str]:
    return frozenset(light_stem(w.lower()) for w in _WORD.findall(text) if w.lower() not in _STOP)


def highlights(text: str, query: str) -> list[list[int]]:
    """[start, end] offsets in `text` of the words that match a word of `query`."""
    wanted = _stems(query)
    return [
        [m.start(), m.end()]
        for m in _WORD.finditer(text)
        if m.group().lower() not in _STOP and light_stem(m.group().lower()) in wanted
    ]


def recorded_verdicts(rt: Runtime, job_id: str) -> dict[str, list[Row]]:
    """evidence_id -> the verdicts this job's evidence_review decisions gave it, in order."""
    found: dict[str, list[Row]] = {}
    for row in prompt_rows.job_prompts(rt.engine, job_id):
        if row["type"] == PROMPT_TYPE and is_model_record(row):
            # The model's verdict, shown beside people's, marked as the model's.
            data = row["prompt_data"]
            label = str(model_label(row))
            found.setdefault(str(data["options"][0]), []).append(
                {
                    "verdict": AS_VERDICT.get(label, "unclear"),
                    "label": label,
                    "model": True,
                    "sub_requirement": data.get("sub_requirement"),
                    "prompt_id": row["prompt_id"],
                    "source": row["source"],
                    "answered_by": row["answered_by"],
                    "note": row["note"],
                    "timestamp": row["resolved_at"],
                }
            )
            continue
        if row["type"] != PROMPT_TYPE or row["applied"] is None:
            continue
        data = row["prompt_data"]
        notes = {str(p.get("evidence_id")): p.get("note") for p in data.get("passages", [])}
        for eid, verdict in verdicts_from(list(data.get("options") or []), row["applied"]).items():
            found.setdefault(eid, []).append(
                {
                    "verdict": verdict,
                    "sub_requirement": data.get("sub_requirement"),
                    "prompt_id": row["prompt_id"],
                    "source": row["source"],
                    "answered_by": row["answered_by"],
                    "note": notes.get(eid) or row["note"],
                    "timestamp": row["resolved_at"],
                }
            )
    return found


def paper_files(rt: Runtime, job_id: str, report: Row) -> dict[str, int]:
    """paper id -> index of its PDF among the job's recorded inputs (by content hash)."""
    row = job_rows.get_job(rt.engine, job_id)
    by_sha = {
        item.get("sha256"): n
        for n, item in enumerate(row["inputs"])
        if item.get("role") == "corpus" and str(item.get("path", "")).lower().endswith(".pdf")
    }
    papers = report.get("corpus", {}).get("papers", [])
    return {str(p["id"]): by_sha[p.get("sha256")] for p in papers if p.get("sha256") in by_sha}


def _file_url(job_id: str, n: int | None, page: int | None) -> str | None:
    if n is None:
        return None
    url = f"/api/jobs/{job_id}/papers/{n}/file"
    return f"{url}#page={page}" if page else url


def _sub_view(job_id: str, sub: Row, files: dict[str, int], recorded: dict[str, list[Row]]) -> Row:
    query = str(sub.get("text", ""))
    return {
        "sub_requirement": sub["id"],
        "text": sub.get("text"),
        "requirement": sub["requirement"],
        "pillar": sub["pillar"],
        "completeness": sub.get("completeness"),
        "gap": sub.get("gap"),
        "passages": [
            {
                **passage,
                "highlights": highlights(str(passage.get("text", "")), query),
                "file_url": _file_url(
                    job_id, files.get(str(passage.get("paper"))), passage.get("page")
                ),
                "recorded_verdicts": recorded.get(str(passage["evidence_id"]), []),
            }
            for passage in sub.get("evidence", [])
        ],
    }


def sub_evidence(rt: Runtime, job_id: str, sub_id: str) -> Row:
    """One sub-requirement's evidence. Raises as read_report does, and UnknownEvidence
    for a sub-requirement the report does not have."""
    report = read_report(rt, job_id)
    for sub in iter_subs(report):
        if sub["id"] == sub_id:
            files = paper_files(rt, job_id, report)
            return {
                "job_id": job_id,
                **_sub_view(job_id, sub, files, recorded_verdicts(rt, job_id)),
            }
    raise UnknownEvidence(f"job {job_id!r} has no sub-requirement {sub_id[:100]!r} in its report")


def all_evidence(rt: Runtime, job_id: str, offset: int = 0, limit: int = DEFAULT_PAGE) -> Row:
    """A page of sub-requirements with their evidence, in framework order. Raises
    InvalidInput for a bad page, and as read_report does."""
    if offset < 0:
        raise InvalidInput(f"offset {offset}: expected 0 or more")
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit {limit}: expected 1..{MAX_PAGE}")
    report = read_report(rt, job_id)
    subs = list(iter_subs(report))
    files = paper_files(rt, job_id, report)
    recorded = recorded_verdicts(rt, job_id)
    return {
        "job_id": job_id,
        "total": len(subs),
        "offset": offset,
        "limit": limit,
        "items": [_sub_view(job_id, s, files, recorded) for s in subs[offset : offset + limit]],
    }


def papers(rt: Runtime, job_id: str) -> Row:
    """Per paper: title, year, authors, its file link (PDFs), and the sub-requirements
    it supports most (best first)."""
    report = read_report(rt, job_id)
    files = paper_files(rt, job_id, report)
    texts = {str(s["id"]): s.get("text") for s in iter_subs(report)}
    items = []
    for paper in report.get("corpus", {}).get("papers", []):
        pid = str(paper["id"])
        items.append(
            {
                "paper": pid,
                "title": paper.get("title"),
                "year": paper.get("year"),
                "authors": paper.get("authors", []),
                "doi": paper.get("doi"),
                "kind": paper.get("kind"),
                "file_url": _file_url(job_id, files.get(pid), None),
                "supports": [
                    {**s, "text": texts.get(str(s.get("sub_requirement")))}
                    for s in paper.get("supports", [])
                ],
            }
        )
    return {"job_id": job_id, "papers": items}


def paper_file(rt: Runtime, job_id: str, n: int) -> Path:
    """The PDF that is the job's recorded input number `n` (never a path from a user).
    Raises InvalidJobId, UnknownJob, UnknownEvidence (no such input, or not a PDF)."""
    row = job_rows.get_job(rt.engine, validate_job_id(job_id))
    inputs = row["inputs"]
    if not 0 <= n < len(inputs):
        raise UnknownEvidence(f"job {job_id!r} has no input file {n} (it has {len(inputs)})")
    item = inputs[n]
    relative = str(item.get("path", ""))
    if item.get("role") != "corpus" or not relative.lower().endswith(".pdf"):
        raise UnknownEvidence(f"job {job_id!r}: input {n} ({item.get('name')!r}) is not a PDF")
    folder = rt.workspace.inputs_dir(job_id).resolve()
    path = (folder / relative).resolve()
    # The recorded path is ours, but a tampered row must still not leave the folder.
    if not path.is_relative_to(folder) or not path.is_file():
        raise UnknownEvidence(f"job {job_id!r}: input {n} ({item.get('name')!r}) is gone")
    return path
