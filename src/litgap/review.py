"""The `evidence_review` decision point: a reviewer judges a sub-requirement's passages.

One prompt per reviewed sub-requirement: a multi-select whose options are the judged
passages' evidence ids; the response is the ids accepted, every other option is
rejected. `prompt_data` carries what the reviewer was shown: the sub-requirement (id,
text, requirement, pillar) and the passages (id, paper, title, page, text, score and
a fingerprint of the text), so the record stands on its own in every export.

Two sources of prompts, asked by the flow through one coroutine, `review_evidence`:

- a revision's plan (`StoredConfig.evidence_reviews`, built by services/revisions.py):
  the reviewer's verdicts given after the run, asked first and answered from the
  replay plan with `source: user`, the reviewer and their note;
- in-run review (`review_evidence` config): after iteration 1, every gap ("gaps") or
  every sub-requirement within BORDERLINE_BAND points of GAP_THRESHOLD
  ("borderline"); after each deep iteration only those whose completeness or
  passages changed. On timeout the machine's own judgement applies: the default
  accepts the passages that count (score at or above SUPPORT_SCORE).
"""

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from litgap.pipeline.thresholds import GAP_THRESHOLD, SUPPORT_SCORE
from litgap.responses import PromptSpec

PROMPT_TYPE = "evidence_review"
VERDICTS = ("accept", "reject")
BORDERLINE_BAND = 15.0
""""borderline" reviews sub-requirements with |completeness - GAP_THRESHOLD| <= this:
from 35 to 65 with the default threshold of 50, where one passage more or less flips
a gap."""
MAX_PASSAGES = 10  # offered per in-run prompt: the best ones
MAX_IN_RUN_PROMPTS = 50  # per review point: a framework of hundreds of gaps stays usable

Sub = Mapping[str, Any]


class ReviewOutcome(Protocol):
    """What the flow hands over after an iteration: its number and its sub-requirements
    in the report's shape (id, text, requirement, pillar, completeness, evidence)."""

    @property
    def iteration(self) -> int: ...

    @property
    def subs(self) -> Sequence[Sub]: ...


class ReviewContext(Protocol):
    """The part of JobContext this module uses."""

    async def ask(self, spec: PromptSpec) -> Any: ...


def text_fingerprint(text: str) -> str:
    """Identifies a passage's text (whitespace folded): drift shows in a record."""
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()[:16]


def passage_entry(passage: Mapping[str, Any]) -> dict[str, Any]:
    """A passage as an evidence_review prompt records it."""
    text = str(passage.get("text", ""))
    entry = {
        "evidence_id": str(passage["evidence_id"]),
        "paper": passage.get("paper"),
        "title": passage.get("title"),
        "page": passage.get("page"),
        "text": text,
        "score": passage.get("score"),
        "fingerprint": text_fingerprint(text),
    }
    # A revision's passages name who judged each and why (not part of the fingerprint).
    for key in ("judged_by", "note"):
        if passage.get(key):
            entry[key] = passage[key]
    return entry


def review_prompt(
    sub: Sub, passages: Sequence[Mapping[str, Any]], *, iteration: int | None = None
) -> PromptSpec:
    """The evidence_review prompt for one sub-requirement and the passages to judge (in
    the order given). Its default accepts the passages the machine counts."""
    entries = [passage_entry(p) for p in passages]
    counted = [
        e["evidence_id"]
        for e in entries
        if isinstance(e["score"], int | float) and e["score"] >= SUPPORT_SCORE
    ]
    context: dict[str, Any] = {
        "sub_requirement": str(sub["id"]),
        "text": str(sub.get("text", "")),
        "requirement": sub.get("requirement"),
        "pillar": sub.get("pillar"),
        "passages": entries,
        # Accepting none (rejecting every passage) is a valid answer.
        "min_choices": 0,
    }
    if iteration is not None:
        context["iteration"] = iteration
        context["completeness"] = sub.get("completeness")
    return PromptSpec(
        type=PROMPT_TYPE,
        message=f"Review the evidence for {sub['id']}: {sub.get('text', '')}"[:1000]
        + " Tick the passages that support it; the others are rejected.",
        options=[e["evidence_id"] for e in entries],
        default=counted,
        multiple=True,
        context=context,
    )


def verdicts_from(options: Sequence[str], accepted: object) -> dict[str, str]:
    """An answer as verdicts: the accepted ids, and every other option rejected."""
    chosen = {accepted} if isinstance(accepted, str) else set(accepted or [])  # type: ignore[call-overload]
    return {eid: "accept" if eid in chosen else "reject" for eid in options}


def subs_to_review(mode: str, current: Sequence[Sub], previous: Sequence[Sub] | None) -> list[Sub]:
    """The sub-requirements an in-run review asks about, in framework order: "gaps" or
    "borderline" ones, and after a deep iteration only those that changed."""
    if mode == "none":
        return []
    before = {str(s["id"]): s for s in previous or ()}
    chosen = []
    for sub in current:
        completeness = float(sub.get("completeness") or 0.0)
        if mode == "gaps":
            wanted = completeness < GAP_THRESHOLD
        elif mode == "borderline":
            wanted = abs(completeness - GAP_THRESHOLD) <= BORDERLINE_BAND
        else:
            raise ValueError(f"review_evidence {mode!r}: expected none, gaps or borderline")
        if not wanted or not sub.get("evidence"):
            continue
        if previous is not None and not _changed(before.get(str(sub["id"])), sub):
            continue
        chosen.append(sub)
    return chosen[:MAX_IN_RUN_PROMPTS]


def _changed(before: Sub | None, after: Sub) -> bool:
    if before is None:
        return True
    ids = [e.get("evidence_id") for e in before.get("evidence", ())]
    return before.get("completeness") != after.get("completeness") or ids != [
        e.get("evidence_id") for e in after.get("evidence", ())
    ]


async def review_evidence(
    ctx: ReviewContext,
    result: ReviewOutcome,
    config: Any,
    *,
    previous: ReviewOutcome | None = None,
    verdicts: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Ask the evidence_review prompts due after `result` and return every verdict known
    so far (`verdicts` given earlier, updated by these answers). The first call (no
    `previous`) also asks a revision's planned reviews, before any in-run one."""
    known = dict(verdicts or {})
    if previous is None:
        for planned in getattr(config, "evidence_reviews", None) or []:
            spec = review_prompt(planned, planned.get("passages", []))
            known.update(verdicts_from(spec.options, await ctx.ask(spec)))
    mode = getattr(config, "review_evidence", "none") or "none"
    before = previous.subs if previous is not None else None
    for sub in subs_to_review(mode, result.subs, before):
        passages = [p for p in sub.get("evidence", ()) if p.get("evidence_id")][:MAX_PASSAGES]
        spec = review_prompt(sub, passages, iteration=result.iteration)
        known.update(verdicts_from(spec.options, await ctx.ask(spec)))
    return known
