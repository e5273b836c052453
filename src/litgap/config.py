"""A job's configuration: the decisions that may be preset, and the loop's limits."""

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints, field_validator

from litgap.llm.settings import LLMReviewConfig
from litgap.settings import check_timeouts

RunMode = Literal["ONCE", "DEEP_LOOP"]
# The pillar prompt's values that stand alone (responses.SPECIAL_VALUES).
SPECIAL_SELECTIONS = ("ALL", "DEEP", "NONE")
PillarName = Annotated[str, StringConstraints(min_length=1, max_length=2000)]


class JobConfig(BaseModel):
    """What a user may set when creating a job. A preset decision is not asked."""

    model_config = ConfigDict(extra="forbid")

    pillar_selections: Annotated[list[PillarName], Field(max_length=10_000)] | PillarName | None = (
        Field(
            default=None,
            description='Preset pillar selection: "ALL", "DEEP", "NONE" or pillar names',
        )
    )
    run_mode: RunMode | None = None
    max_iterations: StrictInt = Field(default=5, ge=1, le=50)
    convergence_threshold: float = Field(default=5.0, ge=0, le=100)
    # Strict: JSON `true` is not one second.
    prompt_timeouts: dict[str, StrictInt] = Field(default_factory=dict, max_length=10)
    continue_decisions: list[Literal["yes", "no"]] = Field(default_factory=list, max_length=50)
    keep_duplicates: bool = Field(
        default=False, description="Keep papers the corpus already has (same file, DOI or title)"
    )
    # Evidence engine (pipeline/scorers). Semantic is the default: it finds evidence
    # worded differently from the framework (paraphrase recall@1 1.00 against lexical's
    # 0.00, bench/fidelity.py), its field margin keeps the gaps lexical shows, and its
    # first run of 1,000 papers stays under a minute (docs/architecture.md, "Scorers").
    scorer: Literal["lexical", "semantic"] = Field(
        default="semantic",
        description="semantic (static vectors pick, embeddings judge) or lexical (TF-IDF)",
    )
    rerank: bool = Field(default=False, description="Re-order top passages by a cross-encoder")
    review_evidence: Literal["none", "gaps", "borderline"] = "none"
    # The model reviewer (llm/): which passages an LLM judges, and whether its verdicts count.
    llm_review: LLMReviewConfig | None = None
    # "ask": after reading the inputs, one `screening` prompt per paper (screening.py).
    screening: Literal["none", "ask"] = Field(
        default="none", description="none, or ask: include or exclude each paper, with a reason"
    )

    @field_validator("prompt_timeouts")
    @classmethod
    def _check_timeouts(cls, value: dict[str, int]) -> dict[str, int]:
        return check_timeouts(value)

    @field_validator("pillar_selections")
    @classmethod
    def _check_selection(cls, value: list[str] | str | None) -> list[str] | str | None:
        if isinstance(value, list):
            if not value:
                raise ValueError("choose at least one pillar")
            if len(set(value)) != len(value):
                raise ValueError("a pillar is chosen twice")
        return value


def selection_problem(value: list[str] | str, pillars: list[str]) -> tuple[int | None, str] | None:
    """Why a preset pillar selection would fail the job (flow.interpret_selection), as
    (index in the list or None, reason); None when it would not."""
    chosen = [value] if isinstance(value, str) else list(value)
    special = [i for i, c in enumerate(chosen) if c in SPECIAL_SELECTIONS]
    if special and len(chosen) > 1:
        i = special[0]
        return i, f"{chosen[i]!r} stands alone; it cannot be combined with pillars"
    if special:
        return None
    known = set(pillars)
    for i, name in enumerate(chosen):
        if name not in known:
            listed = ", ".join(repr(p) for p in pillars[:20])
            more = f" and {len(pillars) - 20} more" if len(pillars) > 20 else ""
            return (
                None if isinstance(value, str) else i,
                f"{name[:200]!r} is not a pillar of the framework; choose "
                f"{', '.join(SPECIAL_SELECTIONS)} or pillars: {listed}{more}",
            )
    return None


class ReplayAnswer(BaseModel):
    """A recorded answer that a replay gives again, when the prompt matches."""

    type: str
    occurrence: int
    fingerprint: str
    response: Any
    # The original's prompt; None for an answer no prompt gave yet (a revision's verdicts).
    prompt_id: str | None = None
    overridden: bool = False
    # Who gave it, when not the original's record (a revision's reviewer, source "user").
    source: Literal["user", "replay"] | None = None
    answered_by: str | None = None
    note: str | None = None
    # A model's verdict (llm/review.py): its record's `prompt_data.llm`. Matched by
    # fingerprint, not occurrence, and applied again without calling the model.
    llm: dict[str, Any] | None = None


class StoredConfig(JobConfig):
    """What the store keeps: the user's config plus the replay plan (set by replay only)."""

    replay_answers: list[ReplayAnswer] = Field(default_factory=list)
    # Settings.job_values() of the process that created the job: every run applies them.
    settings: dict[str, Any] = Field(default_factory=dict)
    # Uploads found to be papers the corpus already had (services/duplicates.py).
    duplicates: list[dict[str, Any]] = Field(default_factory=list)
    # Reviewer verdicts on passages by evidence_id (set by services, not users).
    evidence_verdicts: dict[str, Literal["accept", "reject"]] = Field(default_factory=dict)
    # A revision's reviews, one per sub-requirement: {id, text, requirement, pillar,
    # passages}; the flow asks them as evidence_review prompts (review.py).
    evidence_reviews: list[dict[str, Any]] = Field(default_factory=list)
    # A revision's screening decisions, one per paper: {paper, title, ..., stage,
    # judged_by, note}; the flow asks them as `screening` prompts first (screening.py).
    screening_plan: list[dict[str, Any]] = Field(default_factory=list)
    # A stored config without a scorer predates the choice, when every job ran lexical
    # (new jobs store theirs whatever it is, services/jobs.py).
    scorer: Literal["lexical", "semantic"] = "lexical"
    # models.scorer_info(scorer, rerank)["model"] at creation: a replay whose installed
    # model files differ can say so instead of silently scoring differently.
    scorer_model: dict[str, Any] | None = None


_TYPE_TAG = re.compile(r"^(list|dict|tuple|set)\[.*\]$|^(constrained-)?(str|int|float|bool)$")


def error_place(loc: tuple[int | str, ...]) -> str:
    """A pydantic error location as the request spells it (`pillar_selections -> 0`):
    the tags pydantic adds for the members of a union are left out."""
    parts = [str(p) for p in loc if not (isinstance(p, str) and _TYPE_TAG.match(p))]
    return " -> ".join(parts)
