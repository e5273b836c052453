"""Agreement between reviewers: the revisions of one original, compared verdict by verdict.

A reviewer's verdicts are those they gave themselves in their revisions of the job
(each passage of an evidence_review record names who judged it), the latest winning.
For every pair of reviewers: the passages both judged, Cohen's kappa over them
(scikit-learn; null when it is undefined, e.g. both gave one and the same verdict to
everything), observed agreement, the same per sub-requirement, and the conflicts.
"""

from itertools import combinations
from typing import Any

from litgap.ids import validate_job_id
from litgap.review import PROMPT_TYPE, VERDICTS, verdicts_from
from litgap.runtime import Runtime
from litgap.store import jobs as job_rows
from litgap.store import lineage
from litgap.store import prompts as prompt_rows

Row = dict[str, Any]
RELATION = "revision_of"


def reviewer_verdicts(rt: Runtime, revision: Row) -> tuple[dict[str, str], dict[str, Row]]:
    """The verdicts the revision's reviewer gave (evidence_id -> verdict), and per id the
    passage as shown with its sub-requirement."""
    reviewer = revision["created_by"]
    given: dict[str, str] = {}
    passages: dict[str, Row] = {}
    for row in prompt_rows.job_prompts(rt.engine, revision["job_id"]):
        if row["type"] != PROMPT_TYPE or row["applied"] is None:
            continue
        data = row["prompt_data"]
        shown = {str(p.get("evidence_id")): p for p in data.get("passages", [])}
        for eid, verdict in verdicts_from(list(data.get("options") or []), row["applied"]).items():
            passage = shown.get(eid, {})
            if (passage.get("judged_by") or row["answered_by"]) != reviewer:
                continue
            given[eid] = verdict
            passages[eid] = {**passage, "sub_requirement": data.get("sub_requirement")}
    return given, passages


def _kappa(a: list[str], b: list[str]) -> float | None:
    # Undefined (0/0) when both reviewers gave one and the same verdict to everything.
    if not a or len(set(a) | set(b)) < 2:
        return None
    # Imported here: the serving process need not load scikit-learn to start.
    from sklearn.metrics import cohen_kappa_score

    value = float(cohen_kappa_score(a, b, labels=list(VERDICTS)))
    return None if value != value else round(value, 4)  # NaN: undefined


def _compare(
    name_a: str, a: dict[str, str], name_b: str, b: dict[str, str], shown: dict[str, Row]
) -> Row:
    common = [eid for eid in a if eid in b]
    by_sub: dict[str, list[str]] = {}
    for eid in common:
        by_sub.setdefault(str(shown.get(eid, {}).get("sub_requirement")), []).append(eid)
    conflicts = [
        {
            "evidence_id": eid,
            "sub_requirement": shown.get(eid, {}).get("sub_requirement"),
            "paper": shown.get(eid, {}).get("paper"),
            "page": shown.get(eid, {}).get("page"),
            "text": shown.get(eid, {}).get("text"),
            "verdicts": {name_a: a[eid], name_b: b[eid]},
        }
        for eid in common
        if a[eid] != b[eid]
    ]
    agreed = sum(1 for eid in common if a[eid] == b[eid])
    return {
        "a": name_a,
        "b": name_b,
        "common": len(common),
        "agreed": agreed,
        "observed_agreement": round(agreed / len(common), 4) if common else None,
        "kappa": _kappa([a[e] for e in common], [b[e] for e in common]),
        "sub_requirements": [
            {
                "sub_requirement": sub,
                "common": len(ids),
                "agreed": sum(1 for e in ids if a[e] == b[e]),
                "kappa": _kappa([a[e] for e in ids], [b[e] for e in ids]),
            }
            for sub, ids in by_sub.items()
        ],
        "conflicts": conflicts,
    }


def agreement(rt: Runtime, job_id: str) -> Row:
    """Reviewer agreement over the revisions of `job_id`. Raises InvalidJobId or
    UnknownJob; fewer than two reviewers is an answer with a message, not an error."""
    job_rows.get_job(rt.engine, validate_job_id(job_id))
    revisions = [c for c in lineage.children(rt.engine, [job_id]) if c["relation"] == RELATION]
    verdicts: dict[str, dict[str, str]] = {}
    shown: dict[str, Row] = {}
    made: dict[str, list[str]] = {}
    for child in revisions:
        row = job_rows.get_job(rt.engine, child["job_id"])
        name = row["created_by"] or "(unknown)"
        given, passages = reviewer_verdicts(rt, row)
        verdicts.setdefault(name, {}).update(given)  # oldest first: the latest wins
        shown.update(passages)
        made.setdefault(name, []).append(row["job_id"])
    reviewers = [
        {"name": name, "revisions": made[name], "judged": len(verdicts[name])} for name in made
    ]
    pairs = [
        _compare(x, verdicts[x], y, verdicts[y], shown)
        for x, y in combinations(sorted(verdicts), 2)
    ]
    message = None
    if len(verdicts) < 2:
        message = (
            f"job {job_id!r} has revisions by {len(verdicts)} reviewer(s); agreement needs "
            "revisions by at least two reviewers"
        )
    elif not any(p["common"] for p in pairs):
        message = "no passage was judged by two reviewers"
    return {
        "job_id": job_id,
        "reviewers": reviewers,
        "pairs": pairs,
        "kappa": pairs[0]["kappa"] if len(pairs) == 1 else None,
        "message": message,
    }
