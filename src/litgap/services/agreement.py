"""Agreement between raters of one job: people (their revisions of it) and models
(their verdicts recorded on it and on its revisions), compared verdict by verdict.

A reviewer's verdicts are those they gave themselves in their revisions of the job
(each passage of an evidence_review record names who judged it), the latest winning.
A model is a rater named `llm:<model>` (llm/records.py): "supports" is its accept,
"does_not_support" its reject; "unclear" (and a malformed or refused answer) is no
verdict, counted apart. For every pair of raters (person and person, person and model,
model and model): the passages both judged, Cohen's kappa over them (scikit-learn; null
when it is undefined, e.g. both gave one and the same verdict to everything), observed
agreement, the confusion table, the same per sub-requirement, and the conflicts.
"""

from itertools import combinations
from typing import Any

from litgap.exceptions import InvalidInput
from litgap.ids import validate_job_id
from litgap.llm.records import is_model_record, model_label
from litgap.llm.template import AS_VERDICT
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


def model_verdicts(
    rt: Runtime, job_id: str
) -> tuple[dict[str, dict[str, str]], dict[str, Row], dict[str, int]]:
    """The verdicts of each model recorded on a job (rater -> pair key -> verdict: a model
    is asked about a passage for one sub-requirement, so its verdicts are keyed by
    `pair_key(sub, evidence_id)`), the passages as shown, and per rater how many answers
    gave no verdict."""
    given: dict[str, dict[str, str]] = {}
    passages: dict[str, Row] = {}
    unclear: dict[str, int] = {}
    for row in prompt_rows.job_prompts(rt.engine, job_id):
        if row["type"] != PROMPT_TYPE or not is_model_record(row):
            continue
        data = row["prompt_data"]
        rater = str(row["answered_by"])
        verdict = AS_VERDICT.get(str(model_label(row)))
        given.setdefault(rater, {})
        if verdict is None:
            unclear[rater] = unclear.get(rater, 0) + 1
            continue
        eid = str(data["options"][0])
        given[rater][pair_key(data.get("sub_requirement"), eid)] = verdict
        shown = (data.get("passages") or [{}])[0]
        passages[eid] = {**shown, "sub_requirement": data.get("sub_requirement")}
    return given, passages, unclear


def pair_key(sub: object, eid: str) -> str:
    return f"{sub}\n{eid}"


def _place(key: str, shown: dict[str, Row]) -> tuple[object, str]:
    """(sub-requirement, evidence_id) of a key: a pair key, or an evidence id."""
    sub, _, eid = key.rpartition("\n")
    return (sub if sub else shown.get(eid, {}).get("sub_requirement")), eid


def _confusion(a: list[str], b: list[str]) -> Row:
    """Rows: the first rater's verdict; columns: the second's."""
    return {
        "labels": list(VERDICTS),
        "counts": [
            [sum(1 for x, y in zip(a, b, strict=True) if (x, y) == (row, col)) for col in VERDICTS]
            for row in VERDICTS
        ],
    }


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
    common = [key for key in a if key in b]
    by_sub: dict[str, list[str]] = {}
    for key in common:
        by_sub.setdefault(str(_place(key, shown)[0]), []).append(key)
    conflicts = []
    for key in common:
        if a[key] == b[key]:
            continue
        sub, eid = _place(key, shown)
        passage = shown.get(eid, {})
        conflicts.append(
            {
                "evidence_id": eid,
                "sub_requirement": sub,
                "paper": passage.get("paper"),
                "page": passage.get("page"),
                "text": passage.get("text"),
                "verdicts": {name_a: a[key], name_b: b[key]},
            }
        )
    agreed = sum(1 for eid in common if a[eid] == b[eid])
    return {
        "a": name_a,
        "b": name_b,
        "common": len(common),
        "agreed": agreed,
        "observed_agreement": round(agreed / len(common), 4) if common else None,
        "kappa": _kappa([a[e] for e in common], [b[e] for e in common]),
        "confusion": _confusion([a[e] for e in common], [b[e] for e in common]),
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


def agreement(rt: Runtime, job_id: str, a: str | None = None, b: str | None = None) -> Row:
    """Agreement between the raters of `job_id` (its revisions' reviewers, and the models
    whose verdicts are recorded on it or its revisions); every pair, or only raters `a`
    and `b`. Raises InvalidJobId, UnknownJob, InvalidInput (an unknown rater, or only
    one of a and b); fewer than two raters is an answer with a message, not an error."""
    job_rows.get_job(rt.engine, validate_job_id(job_id))
    revisions = [c for c in lineage.children(rt.engine, [job_id]) if c["relation"] == RELATION]
    verdicts: dict[str, dict[str, str]] = {}
    shown: dict[str, Row] = {}
    made: dict[str, list[str]] = {}
    kinds: dict[str, str] = {}
    unclear: dict[str, int] = {}
    judged_under: dict[str, dict[str, object]] = {}
    for child in revisions:
        row = job_rows.get_job(rt.engine, child["job_id"])
        name = row["created_by"] or "(unknown)"
        given, passages = reviewer_verdicts(rt, row)
        verdicts.setdefault(name, {}).update(given)  # oldest first: the latest wins
        for eid in given:  # where they judged it: what a model's verdict is matched on
            judged_under.setdefault(name, {})[eid] = passages[eid].get("sub_requirement")
        shown.update(passages)
        made.setdefault(name, []).append(row["job_id"])
        kinds[name] = "person"
    for source in [job_id, *(c["job_id"] for c in revisions)]:
        by_model, passages, no_verdict = model_verdicts(rt, source)
        for name, given in by_model.items():
            verdicts.setdefault(name, {}).update(given)
            made.setdefault(name, []).append(source)
            kinds[name] = "model"
            # A revision's copies of the original's verdicts are the same answers.
            if source == job_id or name not in unclear:
                unclear[name] = unclear.get(name, 0) + no_verdict.get(name, 0)
        for eid, passage in passages.items():
            shown.setdefault(eid, passage)
    reviewers = [
        {
            "name": name,
            "kind": kinds[name],
            "revisions": made[name],
            "judged": len(verdicts[name]),
            "unclear": unclear.get(name, 0),
        }
        for name in made
    ]
    names = sorted(verdicts)
    if (a is None) != (b is None):
        raise InvalidInput("give both raters a and b, or neither")
    chosen = list(combinations(names, 2))
    if a is not None and b is not None:
        for name in (a, b):
            if name not in verdicts:
                raise InvalidInput(
                    f"unknown rater {name[:100]!r}; the raters of job {job_id!r} are: "
                    f"{', '.join(names) or 'none'}"
                )
        chosen = [(a, b)]

    def keyed(name: str, with_model: bool) -> dict[str, str]:
        # People's verdicts hold wherever the passage appears; a model's hold for the
        # sub-requirement it was asked about, so a pair with a model compares the passage
        # under the sub-requirement the person judged it in.
        if kinds[name] == "model" or not with_model:
            return verdicts[name]
        under = judged_under.get(name, {})
        return {pair_key(under.get(eid), eid): v for eid, v in verdicts[name].items()}

    pairs = []
    for x, y in chosen:
        with_model = "model" in (kinds[x], kinds[y])
        pairs.append(_compare(x, keyed(x, with_model), y, keyed(y, with_model), shown))
    message = None
    if len(verdicts) < 2 and not any(k == "model" for k in kinds.values()):
        message = (
            f"job {job_id!r} has revisions by {len(verdicts)} reviewer(s); agreement needs "
            "revisions by at least two reviewers"
        )
    elif len(verdicts) < 2:
        message = (
            f"job {job_id!r} has {len(verdicts)} rater(s); agreement needs two: reviewers' "
            "revisions or a model's verdicts"
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
