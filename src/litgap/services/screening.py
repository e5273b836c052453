"""Screening after the run: a reviewer includes or excludes papers of a completed job,
which makes a revision (relation "revision_of"), as evidence verdicts do.

The revision is made as revisions.py makes one: the original's inputs (hard-linked,
checked by sha256) and its decisions as a replay plan. The screening choices become
decisions too: the plan holds one `screening` prompt per paper decided so far
(screening.py builds the prompt the flow will ask, and its fingerprint), answered with
"include" or "exclude: <reason>", `source: user`, the reviewer and the note. The
original's own screening decisions (in-run, or an earlier revision) are carried with
their authors; a new choice on the same paper replaces the old one. So are its evidence
verdicts, as planned reviews (revisions.plan_reviews), so that leaving a paper out never
turns an answered review into a live question. A continuation carries the parent's
screening the same way (`carry`), and asks in-run only about the papers it added.
"""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from litgap.config import ReplayAnswer, StoredConfig
from litgap.exceptions import InvalidInput, NotRevisable
from litgap.executor import Executor
from litgap.ids import validate_job_id
from litgap.pipeline.prisma import describe, row_label, scopes, steps
from litgap.responses import fingerprint
from litgap.review import PROMPT_TYPE as REVIEW_TYPE
from litgap.runtime import Runtime
from litgap.screening import (
    EXCLUDE,
    INCLUDE,
    PROMPT_TYPE,
    STAGES,
    answer_for,
    decision_of,
    paper_entry,
    reasons_for,
    screening_prompt,
)
from litgap.services.evidence import read_report
from litgap.services.jobs import start_job
from litgap.services.replay import new_job_from, replay_answers
from litgap.services.revisions import carried_verdicts, plan_reviews, review_answers
from litgap.status import JobStatus, PromptStatus
from litgap.store import jobs as job_rows
from litgap.store import prompts as prompt_rows

Row = dict[str, Any]
RELATION = "revision_of"
MAX_CHOICES = 5000
MAX_NAMED = 10  # unknown papers named in an error


@dataclass(frozen=True)
class Choice:
    """One paper's screening choice as a reviewer gives it."""

    paper: str
    decision: str  # include | exclude
    reason: str | None = None
    stage: str = "full_text"
    note: str | None = None


@dataclass(frozen=True)
class Decided:
    """A paper's screening decision with who gave it: carried from a record, or new."""

    decision: str
    reason: str | None
    stage: str
    by: str | None
    note: str | None
    # A default applied on timeout: carried as the record it is (source "replay"), not
    # as anyone's decision.
    by_default: bool = False


def job_reasons(rt: Runtime, config: Row) -> list[str]:
    """The reasons a job (and a revision of it) offers: the defaults, the reasons the
    job kept from the process that created it, then the team's current ones."""
    kept = (config.get("settings") or {}).get("screening_reasons") or []
    return reasons_for([*kept, *rt.settings.screening_reasons])


def kept_reasons(settings: Row, reasons: Sequence[str]) -> Row:
    """A job's kept settings with the team's reasons of `reasons` (job_reasons) in them:
    a job made from another offers, and its plan's prompts show, the same list."""
    return {**settings, "screening_reasons": list(reasons[len(reasons_for()) :])}


def known_papers(report: Row) -> dict[str, Row]:
    """Every paper the job screened, by id: those its report analysed and those it
    excluded (the PRISMA flow's records), as a screening prompt shows them."""
    papers: dict[str, Row] = {}
    for paper in (report.get("corpus") or {}).get("papers", []):
        papers[str(paper["id"])] = paper_entry({**paper, "paper": paper["id"]})
    for record in (report.get("prisma") or {}).get("records", []):
        if record.get("outcome") == "excluded":
            papers[str(record["id"])] = paper_entry(
                {"paper": record["id"], "title": record.get("title")}
            )
    return dict(sorted(papers.items()))


def carried(rows: Sequence[Row]) -> dict[str, tuple[Decided, Row]]:
    """The screening decisions a history applied, by paper (the last wins), each with
    the paper as its prompt showed it; a default applied on timeout is marked so."""
    found: dict[str, tuple[Decided, Row]] = {}
    for row in rows:
        if row["type"] != PROMPT_TYPE or row["applied"] is None:
            continue
        if row["status"] not in (PromptStatus.ANSWERED, PromptStatus.TIMED_OUT):
            continue
        data = row["prompt_data"] or {}
        decision, reason = decision_of(row["applied"])
        by = data.get("judged_by") or row["answered_by"]
        note = data.get("note") or row["note"]
        stage = str(data.get("stage") or "title_abstract")
        by_default = row["status"] == PromptStatus.TIMED_OUT
        decided = Decided(decision, reason, stage, by, note, by_default)
        found[str(data.get("paper"))] = (decided, data)
    return found


def check_choices(
    choices: Sequence[Choice], papers: dict[str, Row], reasons: Sequence[str]
) -> dict[str, Choice]:
    """The choices by paper. InvalidInput for none, too many, an exclusion without a
    reason or with one not on the list, an inclusion with a reason, an unknown stage,
    two different choices for one paper, or papers the job does not have."""
    if not choices:
        raise InvalidInput("choices: give at least one screening choice")
    if len(choices) > MAX_CHOICES:
        raise InvalidInput(f"choices: {len(choices)} given; the limit is {MAX_CHOICES}")
    by_paper: dict[str, Choice] = {}
    for item in choices:
        shown = repr(item.paper[:100])
        if item.stage not in STAGES:
            raise InvalidInput(
                f"choice for {shown}: stage {item.stage[:40]!r} is not one of {list(STAGES)}"
            )
        if item.decision == INCLUDE and item.reason is not None:
            raise InvalidInput(f"choice for {shown}: include takes no reason")
        if item.decision == EXCLUDE and item.reason is None:
            raise InvalidInput(
                f"choice for {shown}: exclude needs a reason, one of {list(reasons)}"
            )
        if item.reason is not None and item.reason not in reasons:
            raise InvalidInput(
                f"choice for {shown}: unknown reason {item.reason[:80]!r}; "
                f"the reasons are {list(reasons)}"
            )
        seen = by_paper.get(item.paper)
        if seen is not None and (seen.decision, seen.reason) != (item.decision, item.reason):
            raise InvalidInput(
                f"conflicting choices for paper {shown}: "
                f"{answer_for(seen.decision, seen.reason)} and "
                f"{answer_for(item.decision, item.reason)}"
            )
        if seen is None or (item.note and not seen.note):
            by_paper[item.paper] = item
    unknown = [p for p in by_paper if p not in papers]
    if unknown:
        named = ", ".join(repr(p[:100]) for p in unknown[:MAX_NAMED])
        more = f" and {len(unknown) - MAX_NAMED} more" if len(unknown) > MAX_NAMED else ""
        raise InvalidInput(f"unknown papers (not papers of this job's corpus): {named}{more}")
    return by_paper


def plan(
    decided: dict[str, tuple[Decided, Row]], reasons: Sequence[str], note_of: str | None = None
) -> tuple[list[Row], list[ReplayAnswer]]:
    """The screening plan (papers in id order, each with its stage, author and note)
    and the plan's answers to it, given by each decision's author. `note_of` names the
    reviewer whose answers carry their note in the record's own note too."""
    items: list[Row] = []
    answers: list[ReplayAnswer] = []
    for occurrence, (paper_id, (decision, shown)) in enumerate(sorted(decided.items()), 1):
        item = {**paper_entry({**shown, "paper": paper_id}), "stage": decision.stage}
        item.update({k: v for k, v in (("judged_by", decision.by), ("note", decision.note)) if v})
        spec = screening_prompt(item, reasons, decision.stage)
        items.append(item)
        answers.append(
            ReplayAnswer(
                type=PROMPT_TYPE,
                occurrence=occurrence,
                fingerprint=fingerprint(spec.type, spec.message, spec.options),
                response=answer_for(decision.decision, decision.reason),
                prompt_id=None,
                source="replay" if decision.by_default else "user",
                answered_by=decision.by,
                note=decision.note if note_of is None or decision.by == note_of else None,
            )
        )
    return items, answers


def carry(
    rows: Sequence[Row], answers: list[ReplayAnswer], reasons: Sequence[str]
) -> tuple[list[Row], list[ReplayAnswer]]:
    """A continuation's screening: the parent's decisions as a plan, and `answers` (the
    parent's replay plan) with its screening answers replaced by the plan's."""
    items, planned = plan(carried(rows), reasons)
    return items, [*(a for a in answers if a.type != PROMPT_TYPE), *planned]


def screening_state(rt: Runtime, job_id: str) -> Row:
    """What the job page shows: the PRISMA flow, every paper with its decision so far,
    the reasons and the stages. Raises as `read_report` does."""
    report = read_report(rt, job_id)
    original = job_rows.get_job(rt.engine, job_id)
    decided = carried(prompt_rows.job_prompts(rt.engine, job_id))
    papers = []
    for paper_id, entry in known_papers(report).items():
        decision = decided.get(paper_id)
        papers.append(
            {
                **entry,
                "decision": decision[0].decision if decision else None,
                "reason": decision[0].reason if decision else None,
                "stage": decision[0].stage if decision else None,
                "judged_by": decision[0].by if decision else None,
                "note": decision[0].note if decision else None,
            }
        )
    excluded = {
        str(r["id"])
        for r in (report.get("prisma") or {}).get("records", [])
        if r.get("outcome") == "excluded"
    }
    for paper in papers:
        paper["excluded"] = paper["paper"] in excluded
    flow = report.get("prisma")
    return {
        "job_id": job_id,
        "status": original["status"],
        "prisma": flow,
        # The flow as the page shows it: its words, and each scope's rows in order.
        "prisma_alt": describe(flow) if flow else None,
        "prisma_rows": [
            {
                "scope": scope,
                "rows": [
                    {"step": s, "detail": d, "label": row_label(s, d), "count": n}
                    for s, d, n in steps(box)
                ],
            }
            for scope, box in scopes(flow)
        ]
        if flow
        else [],
        "papers": papers,
        "reasons": job_reasons(rt, original["config"] or {}),
        "stages": list(STAGES),
    }


def create_screening_revision(
    rt: Runtime,
    job_id: str,
    choices: list[Choice],
    *,
    note: str | None = None,
    created_by: str | None = None,
) -> Row:
    """Create (as a draft) the revision of a completed job with these screening choices.
    Raises InvalidJobId, UnknownJob, NotRevisable (not completed, inputs gone), NoEvidence
    (no schema-2 report), InvalidInput (no, conflicting or unknown choices, an unknown
    reason, every paper excluded, a note over the limit)."""
    original = job_rows.get_job(rt.engine, validate_job_id(job_id))
    if original["status"] != JobStatus.COMPLETED.value:
        raise NotRevisable(
            f"job {job_id!r} is {original['status']}: only a completed job can be revised"
        )
    limit = rt.settings.max_note_chars
    for text in [note, *(c.note for c in choices)]:
        if text is not None and len(text) > limit:
            raise InvalidInput(f"note is {len(text)} characters; the limit is {limit}")
    if not (rt.workspace.inputs_dir(job_id) / "framework.json").is_file():
        raise NotRevisable(f"job {job_id!r} cannot be revised: its input files are gone")
    report = read_report(rt, job_id)
    reasons = job_reasons(rt, original["config"] or {})
    papers = known_papers(report)
    given = check_choices(choices, papers, reasons)
    rows = prompt_rows.job_prompts(rt.engine, job_id)
    decided = carried(rows)
    for paper_id, item in given.items():
        shown = decided[paper_id][1] if paper_id in decided else papers[paper_id]
        new = Decided(item.decision, item.reason, item.stage, created_by, item.note or note)
        decided[paper_id] = (new, shown)
    if all(p in decided and decided[p][0].decision == EXCLUDE for p in papers):
        raise InvalidInput("every paper of the job would be excluded: include at least one")
    items, screening_answers = plan(decided, reasons, note_of=created_by)
    judged, shown_passages = carried_verdicts(rows)
    reviews = plan_reviews(report, judged, shown_passages)
    decisions = [
        a
        for a in replay_answers(rows, {}, max_text_chars=rt.settings.max_text_response_chars)
        # The plans below hold people's decisions; a model's verdicts stay answers of
        # the plan (as in revisions.create_revision), recorded again without a call.
        if a.type != PROMPT_TYPE and (a.type != REVIEW_TYPE or a.llm is not None)
    ]
    stored = StoredConfig.model_validate(original["config"])
    config = stored.model_copy(
        update={
            "replay_answers": [
                *decisions,
                *screening_answers,
                *review_answers(reviews, judged, None, None),
            ],
            "screening_plan": items,
            # Every decision is in the plan: asking again in-run would ask them live.
            "screening": "none",
            "evidence_verdicts": {eid: judged[eid].verdict for eid in sorted(judged)},
            "evidence_reviews": reviews,
            "review_evidence": "none",
            # The revision offers the reasons the team has now, after the original's.
            "settings": kept_reasons(stored.settings, reasons),
        }
    )
    return new_job_from(
        rt, original, config, relation=RELATION, created_by=created_by, label=f"screening {job_id}"
    )


async def screen_job(
    rt: Runtime,
    executor: Executor,
    job_id: str,
    choices: list[Choice],
    *,
    note: str | None = None,
    created_by: str | None = None,
) -> Row:
    """Create the screening revision of a job and start it. Raises as
    `create_screening_revision` does."""
    row = await asyncio.to_thread(
        create_screening_revision, rt, job_id, choices, note=note, created_by=created_by
    )
    return start_job(rt, executor, row["job_id"])
