"""Two jobs side by side: their decisions, their config, their results, and whether the
second reproduced the first exactly.

Decisions are paired by prompt type and occurrence (the third `continue` of one job
with the third `continue` of the other), as replay pairs them. Results compare the two
gap_analysis_report.json files: completeness per pillar and per sub-requirement, and
the gaps each has that the other has not. "Reproduced exactly" means the two reports
are byte-identical (or, failing that, equal as JSON).

Between an original and its revision the reports' `verdicts` differ: the diff lists
each verdict given, changed or withdrawn, and names beside every changed
sub-requirement, requirement and gap the verdicts on its passages: why it changed.
"""

import json
from collections import Counter
from pathlib import Path
from typing import Any

from litgap.ids import validate_job_id
from litgap.records import prompt_record
from litgap.runtime import Runtime
from litgap.services.continuation import evidence_gained
from litgap.store import jobs as job_rows
from litgap.store import prompts as prompt_rows

Row = dict[str, Any]
REPORT_JSON = "gap_analysis_report.json"
# The replay plan differs between an original and its replay by construction; the
# decisions section shows what it changed.
IGNORED_CONFIG_KEYS = frozenset({"replay_answers", "evidence_reviews"})


def _keyed_decisions(records: list[Row]) -> dict[tuple[str, int], Row]:
    seen: Counter[str] = Counter()
    keyed = {}
    for record in records:
        seen[record["type"]] += 1
        keyed[(record["type"], seen[record["type"]])] = record
    return keyed


def diff_decisions(a: list[Row], b: list[Row]) -> list[Row]:
    """Pairs of decisions by (type, occurrence), in the order they were asked; `a`/`b`
    are the values each job went on with."""
    left, right = _keyed_decisions(a), _keyed_decisions(b)
    keys = list(left) + [k for k in right if k not in left]
    pairs = []
    for key in keys:
        ra, rb = left.get(key), right.get(key)
        if ra is None:
            verdict = "only_b"
        elif rb is None:
            verdict = "only_a"
        else:
            verdict = "same" if ra["applied"] == rb["applied"] else "changed"
        pairs.append(
            {
                "type": key[0],
                "occurrence": key[1],
                "a": ra["applied"] if ra else None,
                "b": rb["applied"] if rb else None,
                "verdict": verdict,
                "a_prompt_id": ra["prompt_id"] if ra else None,
                "b_prompt_id": rb["prompt_id"] if rb else None,
                "b_source": rb["source"] if rb else None,
                "b_drift": rb.get("drift") if rb else None,
            }
        )
    return pairs


def diff_config(a: Row, b: Row) -> list[Row]:
    """The config keys whose values differ."""
    keys = sorted((set(a) | set(b)) - IGNORED_CONFIG_KEYS)
    return [{"key": k, "a": a.get(k), "b": b.get(k)} for k in keys if a.get(k) != b.get(k)]


def diff_inputs(a: list[Row], b: list[Row]) -> list[Row]:
    """Input files (by path) whose content hash differs, or that only one job has."""
    left = {str(i.get("path")): i.get("sha256") for i in a}
    right = {str(i.get("path")): i.get("sha256") for i in b}
    paths = sorted(set(left) | set(right))
    return [
        {"path": p, "a": left.get(p), "b": right.get(p)}
        for p in paths
        if left.get(p) != right.get(p)
    ]


def _delta(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else round(b - a, 2)


def _subs(report: Row) -> dict[str, Row]:
    return {
        sub["id"]: {**sub, "pillar": pillar["name"]}
        for pillar in report.get("pillars", [])
        for requirement in pillar.get("requirements", [])
        for sub in requirement.get("sub_requirements", [])
    }


def _gap(sub: Row, why: dict[str, list[str]]) -> Row:
    return {
        "id": sub["id"],
        "pillar": sub["pillar"],
        "text": sub.get("text"),
        "completeness": sub.get("completeness"),
        "verdicts": why.get(sub["id"], []),
    }


def diff_verdicts(a: Row, b: Row) -> list[Row]:
    """The reviewer verdicts that differ between two reports, with the sub-requirements
    whose passages they judge."""
    va, vb = a.get("verdicts") or {}, b.get("verdicts") or {}
    subs: dict[str, list[str]] = {}
    for report in (a, b):
        for sub_id, sub in _subs(report).items():
            for passage in sub.get("evidence", []):
                listed = subs.setdefault(str(passage.get("evidence_id")), [])
                if sub_id not in listed:
                    listed.append(sub_id)
    return [
        {
            "evidence_id": eid,
            "a": va.get(eid),
            "b": vb.get(eid),
            "sub_requirements": subs.get(eid, []),
        }
        for eid in sorted(set(va) | set(vb))
        if va.get(eid) != vb.get(eid)
    ]


def _why(verdicts: list[Row]) -> dict[str, list[str]]:
    """sub-requirement id -> the changed verdicts on its passages."""
    found: dict[str, list[str]] = {}
    for verdict in verdicts:
        for sub_id in verdict["sub_requirements"]:
            found.setdefault(sub_id, []).append(verdict["evidence_id"])
    return found


def _requirements(report: Row) -> dict[str, Row]:
    return {
        str(req["id"]): {
            "pillar": pillar["name"],
            "completeness": req.get("completeness"),
            "subs": [s["id"] for s in req.get("sub_requirements", [])],
        }
        for pillar in report.get("pillars", [])
        for req in pillar.get("requirements", [])
    }


def _changed_requirements(a: Row, b: Row, changed_subs: set[str]) -> list[Row]:
    left, right = _requirements(a), _requirements(b)
    found = []
    for req_id in list(left) + [r for r in right if r not in left]:
        ra, rb = left.get(req_id), right.get(req_id)
        ca = ra["completeness"] if ra else None
        cb = rb["completeness"] if rb else None
        if ca != cb:
            subs = (rb or ra or {}).get("subs", [])
            found.append(
                {
                    "id": req_id,
                    "pillar": (rb or ra or {}).get("pillar"),
                    "a": ca,
                    "b": cb,
                    "delta": _delta(ca, cb),
                    "sub_requirements": [s for s in subs if s in changed_subs],
                }
            )
    return found


def diff_reports(a: Row, b: Row) -> Row:
    """Completeness per pillar (all) and per sub-requirement (changed only), and the
    gaps added and removed going from `a` to `b`."""
    pillars_a = {p["name"]: p["completeness"] for p in a.get("pillars", [])}
    pillars_b = {p["name"]: p["completeness"] for p in b.get("pillars", [])}
    names = list(pillars_a) + [n for n in pillars_b if n not in pillars_a]
    subs_a, subs_b = _subs(a), _subs(b)
    ids = list(subs_a) + [i for i in subs_b if i not in subs_a]
    verdicts = diff_verdicts(a, b)
    why = _why(verdicts)
    changed = []
    for sub_id in ids:
        sa, sb = subs_a.get(sub_id), subs_b.get(sub_id)
        ca = sa["completeness"] if sa else None
        cb = sb["completeness"] if sb else None
        if ca != cb:
            pillar = (sb or sa or {}).get("pillar")
            changed.append(
                {
                    "id": sub_id,
                    "pillar": pillar,
                    "a": ca,
                    "b": cb,
                    "delta": _delta(ca, cb),
                    "verdicts": why.get(sub_id, []),
                }
            )
    gaps_a = {i for i, s in subs_a.items() if s.get("gap")}
    gaps_b = {i for i, s in subs_b.items() if s.get("gap")}
    overall_a = a.get("summary", {}).get("overall_completeness")
    overall_b = b.get("summary", {}).get("overall_completeness")
    return {
        "overall": {"a": overall_a, "b": overall_b, "delta": _delta(overall_a, overall_b)},
        "pillars": [
            {
                "pillar": n,
                "a": pillars_a.get(n),
                "b": pillars_b.get(n),
                "delta": _delta(pillars_a.get(n), pillars_b.get(n)),
            }
            for n in names
        ],
        "requirements": _changed_requirements(a, b, {str(c["id"]) for c in changed}),
        "subrequirements": changed,
        "gaps_added": [_gap(subs_b[i], why) for i in subs_b if i in gaps_b - gaps_a],
        "gaps_removed": [_gap(subs_a[i], why) for i in subs_a if i in gaps_a - gaps_b],
        "verdicts": verdicts,
    }


def _read_report(path: Path) -> tuple[bytes | None, Row | None]:
    try:
        raw = path.read_bytes()
        data = json.loads(raw)
    except (OSError, ValueError):
        return None, None
    return raw, data if isinstance(data, dict) else None


def _verdict(decisions: list[Row], reproduced: bool, missing: list[str]) -> str:
    counts = Counter(d["verdict"] for d in decisions)
    differing = [
        f"{counts[v]} {label}"
        for v, label in (("changed", "changed"), ("only_a", "only in A"), ("only_b", "only in B"))
        if counts[v]
    ]
    said = "decisions differ (" + ", ".join(differing) + ")" if differing else "same decisions"
    if reproduced:
        return f"identical results, though {said}" if differing else "reproduced exactly"
    if missing:
        return f"{said}; no results to compare for {' and '.join(missing)}"
    return f"{said}; results differ"


def _side(row: Row) -> Row:
    return {
        "job_id": row["job_id"],
        "status": row["status"],
        "replay_of": row["replay_of"],
        "parent_job_id": row.get("parent_job_id"),
        "relation": row.get("relation"),
    }


def diff_jobs(rt: Runtime, job_a: str, job_b: str) -> Row:
    """Compare two jobs. Raises InvalidJobId or UnknownJob for either."""
    row_a = job_rows.get_job(rt.engine, validate_job_id(job_a))
    row_b = job_rows.get_job(rt.engine, validate_job_id(job_b))
    records_a = [prompt_record(r) for r in prompt_rows.job_prompts(rt.engine, job_a)]
    records_b = [prompt_record(r) for r in prompt_rows.job_prompts(rt.engine, job_b)]
    decisions = diff_decisions(records_a, records_b)
    raw_a, report_a = _read_report(rt.workspace.results_dir(job_a) / REPORT_JSON)
    raw_b, report_b = _read_report(rt.workspace.results_dir(job_b) / REPORT_JSON)
    missing = [j for j, r in ((job_a, report_a), (job_b, report_b)) if r is None]
    reproduced = not missing and (raw_a == raw_b or report_a == report_b)
    if report_a is not None and report_b is not None:
        results = diff_reports(report_a, report_b)
        # Which sub-requirements B's new papers gave evidence to (services/continuation.py).
        results["evidence_gained"] = evidence_gained(report_a, report_b)
    else:
        results = {**diff_reports({}, {}), "evidence_gained": []}
    return {
        "a": _side(row_a),
        "b": _side(row_b),
        "decisions": decisions,
        "config": diff_config(row_a["config"] or {}, row_b["config"] or {}),
        "inputs": diff_inputs(row_a["inputs"] or [], row_b["inputs"] or []),
        "results": {**results, "missing": missing},
        "reproduced": reproduced,
        "verdict": _verdict(decisions, reproduced, missing),
    }
