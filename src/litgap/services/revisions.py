"""Revision: a completed job re-run with a reviewer's verdicts on its evidence.

A revision is a new job (relation "revision_of") made as a replay is made: the
original's inputs (hard-linked, checked by sha256) and its decisions as a replay plan.
The verdicts become decisions too: the plan holds one `evidence_review` review per
sub-requirement whose passages were judged (review.py builds the prompt the flow will
ask, and its fingerprint), answered with the accepted ids, `source: user`, the
reviewer and the note. The verdicts recorded on the original (an in-run review, or an
earlier revision) are carried; a new verdict on the same passage replaces the old one.
The original, its results and its history are never touched.
"""

import asyncio
from dataclasses import dataclass
from typing import Any

from litgap.config import ReplayAnswer, StoredConfig
from litgap.exceptions import InvalidInput, NotRevisable
from litgap.executor import Executor
from litgap.ids import validate_job_id
from litgap.llm.records import is_model_rater, is_model_record, model_label
from litgap.llm.template import AS_VERDICT
from litgap.responses import fingerprint
from litgap.review import PROMPT_TYPE, VERDICTS, review_prompt, verdicts_from
from litgap.runtime import Runtime
from litgap.services.evidence import evidence_ids, iter_subs, read_report
from litgap.services.jobs import start_job
from litgap.services.replay import new_job_from, replay_answers
from litgap.status import JobStatus
from litgap.store import jobs as job_rows
from litgap.store import prompts as prompt_rows

Row = dict[str, Any]
RELATION = "revision_of"
MAX_VERDICTS = 2000
MAX_NAMED = 10  # unknown ids named in an error


@dataclass(frozen=True)
class Verdict:
    evidence_id: str
    verdict: str
    note: str | None = None
    # The sub-requirement the reviewer judged it under (the Evidence panel it came from).
    sub_requirement: str | None = None


@dataclass(frozen=True)
class Judged:
    """A verdict with who gave it: carried from the original, or new."""

    verdict: str
    by: str | None
    note: str | None


def check_verdicts(verdicts: list[Verdict], known: dict[str, list[str]]) -> dict[str, Verdict]:
    """The verdicts by evidence id. InvalidInput for none, too many, a verdict other than
    accept/reject, two different verdicts for one id, or ids the report does not have."""
    if not verdicts:
        raise InvalidInput("verdicts: give at least one verdict")
    if len(verdicts) > MAX_VERDICTS:
        raise InvalidInput(f"verdicts: {len(verdicts)} given; the limit is {MAX_VERDICTS}")
    by_id: dict[str, Verdict] = {}
    for item in verdicts:
        if item.verdict not in VERDICTS:
            raise InvalidInput(
                f"verdict {item.verdict[:40]!r} for {item.evidence_id[:40]!r}: "
                f"expected one of {list(VERDICTS)}"
            )
        seen = by_id.get(item.evidence_id)
        if seen is not None and seen.verdict != item.verdict:
            raise InvalidInput(
                f"conflicting verdicts for evidence {item.evidence_id!r}: "
                f"{seen.verdict} and {item.verdict}"
            )
        if seen is None or (item.note and not seen.note):
            by_id[item.evidence_id] = item
    unknown = [eid for eid in by_id if eid not in known]
    if unknown:
        named = ", ".join(repr(e[:40]) for e in unknown[:MAX_NAMED])
        more = f" and {len(unknown) - MAX_NAMED} more" if len(unknown) > MAX_NAMED else ""
        raise InvalidInput(
            f"unknown evidence ids (not passages of this job's report): {named}{more}"
        )
    return by_id


def carried_verdicts(rows: list[Row]) -> tuple[dict[str, Judged], dict[str, list[Row]]]:
    """The verdicts the original's evidence_review decisions applied (the last wins),
    and the passages each sub-requirement's reviews showed."""
    judged: dict[str, Judged] = {}
    shown: dict[str, list[Row]] = {}
    for row in rows:
        if row["type"] != PROMPT_TYPE or row["applied"] is None:
            continue
        if is_model_record(row):
            continue  # the model's verdicts are the plan's own answers (`model_judged`)
        data = row["prompt_data"]
        passages = {str(p.get("evidence_id")): p for p in data.get("passages", [])}
        sub_id = str(data.get("sub_requirement"))
        for eid, verdict in verdicts_from(list(data.get("options") or []), row["applied"]).items():
            passage = passages.get(eid, {})
            by = passage.get("judged_by") or row["answered_by"]
            judged[eid] = Judged(verdict, by, passage.get("note") or row["note"])
            if passage:
                shown.setdefault(sub_id, []).append(passage)
    return judged, shown


def model_judged(rows: list[Row]) -> tuple[dict[str, Judged], dict[str, list[Row]]]:
    """The model's verdicts recorded on a job (supports -> accept, does_not_support ->
    reject; no verdict is none), each by `llm:<model>` with its reason as the note, and
    the passages they were given under."""
    judged: dict[str, Judged] = {}
    shown: dict[str, list[Row]] = {}
    for row in rows:
        if row["type"] != PROMPT_TYPE or not is_model_record(row):
            continue
        verdict = AS_VERDICT.get(str(model_label(row)))
        data = row["prompt_data"]
        if verdict is None or not data.get("passages"):
            continue
        passage = data["passages"][0]
        judged[str(passage["evidence_id"])] = Judged(verdict, row["answered_by"], row["note"])
        shown.setdefault(str(data.get("sub_requirement")), []).append(passage)
    return judged, shown


def home_subs(
    report: Row, judged: dict[str, Judged], shown: dict[str, list[Row]], named: dict[str, str]
) -> dict[str, str]:
    """The one sub-requirement each judged passage is recorded under: the one the
    reviewer judged it under (`named`, when that sub lists it), else the one an earlier
    review showed it under, else the first in framework order that lists it. A verdict
    applies wherever the passage appears; its record is made once, where it was given."""
    listing: dict[str, list[str]] = {}
    for sub in iter_subs(report):
        for passage in sub.get("evidence", []):
            listing.setdefault(passage["evidence_id"], []).append(str(sub["id"]))
    for sub_id, passages in shown.items():
        for passage in passages:
            listing.setdefault(str(passage.get("evidence_id")), []).append(sub_id)
    earlier = {str(p.get("evidence_id")): sub_id for sub_id, ps in shown.items() for p in ps}
    home = {}
    for eid in judged:
        subs = listing.get(eid, [])
        if named.get(eid) in subs:
            home[eid] = named[eid]
        elif eid in earlier:
            home[eid] = earlier[eid]
        elif subs:
            home[eid] = subs[0]
    return home


def plan_reviews(
    report: Row,
    judged: dict[str, Judged],
    shown: dict[str, list[Row]],
    named: dict[str, str] | None = None,
) -> list[Row]:
    """One review per sub-requirement with judged passages, in framework order: the
    report's passages (best first), then those an earlier review showed that the report
    no longer lists. Each passage is reviewed under one sub-requirement (`home_subs`)
    and names its verdict's author and note."""
    home = home_subs(report, judged, shown, named or {})
    reviews = []
    for sub in iter_subs(report):
        sub_id = str(sub["id"])
        listed = [p for p in sub.get("evidence", []) if home.get(p["evidence_id"]) == sub_id]
        ids = {p["evidence_id"] for p in listed}
        extra = [
            p
            for p in shown.get(sub_id, [])
            if home.get(str(p.get("evidence_id"))) == sub_id and p["evidence_id"] not in ids
        ]
        passages = []
        for passage in [*listed, *_unique(extra)]:
            verdict = judged[str(passage["evidence_id"])]
            entry = {
                key: passage.get(key)
                for key in ("evidence_id", "paper", "title", "page", "text", "score")
            }
            passages.append({**entry, "judged_by": verdict.by, "note": verdict.note})
        if passages:
            reviews.append(
                {
                    "id": sub_id,
                    "text": sub.get("text"),
                    "requirement": sub["requirement"]["id"],
                    "pillar": sub["pillar"],
                    "passages": passages,
                }
            )
    return reviews


def _unique(passages: list[Row]) -> list[Row]:
    seen: set[str] = set()
    kept = []
    for passage in passages:
        if passage["evidence_id"] not in seen:
            seen.add(passage["evidence_id"])
            kept.append(passage)
    return kept


def review_answers(
    reviews: list[Row], judged: dict[str, Judged], reviewer: str | None, note: str | None
) -> list[ReplayAnswer]:
    """The plan's answers to the reviews: the accepted ids, given by the reviewer (or,
    for a review holding only carried verdicts, by the one who gave them)."""
    answers = []
    for occurrence, review in enumerate(reviews, start=1):
        spec = review_prompt(review, review["passages"])
        authors = {p.get("judged_by") for p in review["passages"]}
        by = reviewer if reviewer in authors or len(authors) != 1 else authors.pop()
        if is_model_rater(by):  # the model's verdicts, adopted by the one revising
            by = reviewer
        answers.append(
            ReplayAnswer(
                type=PROMPT_TYPE,
                occurrence=occurrence,
                fingerprint=fingerprint(spec.type, spec.message, spec.options),
                response=[e for e in spec.options if judged[e].verdict == "accept"],
                prompt_id=None,
                source="user",
                answered_by=by,
                note=note if by == reviewer else None,
            )
        )
    return answers


def create_revision(
    rt: Runtime,
    job_id: str,
    verdicts: list[Verdict],
    *,
    note: str | None = None,
    created_by: str | None = None,
    model_verdicts: bool = False,
) -> Row:
    """Create (as a draft) the revision of a completed job. With `model_verdicts`, the
    model's verdicts recorded on the job count too (a person's on the same passage wins),
    each named as the model's. Raises InvalidJobId,
    UnknownJob, NotRevisable (not completed, inputs gone or changed), NoEvidence (no
    schema-2 report), InvalidInput (no verdicts, conflicting or unknown ids, a note
    over the limit)."""
    original = job_rows.get_job(rt.engine, validate_job_id(job_id))
    if original["status"] != JobStatus.COMPLETED.value:
        raise NotRevisable(
            f"job {job_id!r} is {original['status']}: only a completed job can be revised"
        )
    limit = rt.settings.max_note_chars
    for text in [note, *(v.note for v in verdicts)]:
        if text is not None and len(text) > limit:
            raise InvalidInput(f"note is {len(text)} characters; the limit is {limit}")
    if not (rt.workspace.inputs_dir(job_id) / "framework.json").is_file():
        raise NotRevisable(f"job {job_id!r} cannot be revised: its input files are gone")
    report = read_report(rt, job_id)
    given = check_verdicts(verdicts, evidence_ids(report)) if verdicts or not model_verdicts else {}
    rows = prompt_rows.job_prompts(rt.engine, job_id)
    judged, shown = carried_verdicts(rows)
    if model_verdicts:
        # The model's verdicts count in this revision; a person's on a passage wins.
        by_model, model_shown = model_judged(rows)
        if not by_model and not verdicts:
            raise InvalidInput(f"job {job_id!r} has no model verdict to revise with")
        judged = {**by_model, **judged}
        for sub_id, passages in model_shown.items():
            shown.setdefault(sub_id, []).extend(passages)
    for eid, item in given.items():
        judged[eid] = Judged(item.verdict, created_by, item.note)
    named = {eid: item.sub_requirement for eid, item in given.items() if item.sub_requirement}
    reviews = plan_reviews(report, judged, shown, named)
    decisions = [
        a
        for a in replay_answers(rows, {}, max_text_chars=rt.settings.max_text_response_chars)
        # The reviews below hold people's verdicts, merged; the model's verdicts stay
        # answers of the plan, so the revision records them again without a call.
        if a.type != PROMPT_TYPE or a.llm is not None
    ]
    config = StoredConfig.model_validate(original["config"]).model_copy(
        update={
            "replay_answers": [*decisions, *review_answers(reviews, judged, created_by, note)],
            "evidence_verdicts": {eid: judged[eid].verdict for eid in sorted(judged)},
            "evidence_reviews": reviews,
            # Its reviews are all in the plan: asking again in-run would ask them live.
            "review_evidence": "none",
        }
    )
    return new_job_from(
        rt, original, config, relation=RELATION, created_by=created_by, label=f"revision {job_id}"
    )


async def revise_job(
    rt: Runtime,
    executor: Executor,
    job_id: str,
    verdicts: list[Verdict],
    *,
    note: str | None = None,
    created_by: str | None = None,
    model_verdicts: bool = False,
) -> Row:
    """Create the revision of a job and start it. Raises as `create_revision` does."""
    row = await asyncio.to_thread(
        create_revision,
        rt,
        job_id,
        verdicts,
        note=note,
        created_by=created_by,
        model_verdicts=model_verdicts,
    )
    return start_job(rt, executor, row["job_id"])
