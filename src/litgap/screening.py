"""The `screening` decision point: a reviewer includes or excludes each paper of a job.

One prompt per paper, a single choice: "include", or "exclude: <reason>" for each
reason of the job's list (DEFAULT_REASONS, then the team's `screening_reasons`
setting). One record per paper keeps the audit plain: who excluded which paper, when,
why (the option) and with what note; an answer naming a reason that is not on the list
is not an option, so the prompt's own validation refuses it (422, naming the options).
`prompt_data` carries what the reviewer was shown: the paper (id, title, kind, year,
authors, DOI, the opening of its text) and the stage (title/abstract or full text).

Two sources of prompts, asked by the flow through one coroutine, `screen_papers`:

- a revision's plan (`StoredConfig.screening_plan`, built by services/screening.py):
  decisions given on the finished job's page, asked first and answered from the replay
  plan with `source: user`, the reviewer and their note;
- in-run screening (`config.screening: ask`): after the inputs are read, every paper
  the plan does not decide, at title/abstract stage. On timeout the paper is included:
  the machine never leaves a paper out on its own.

Excluded papers are left out of the corpus the pipeline analyses (stages.JobInputs
`excluded`), so their passages no longer count, and the PRISMA flow lists them.
"""

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from litgap.responses import PromptSpec

PROMPT_TYPE = "screening"
INCLUDE = "include"
EXCLUDE = "exclude"
EXCLUDE_PREFIX = "exclude: "
DEFAULT_REASONS = (
    "off topic",
    "wrong study type",
    "wrong population",
    "not retrievable",
    "duplicate not caught",
    "other",
)
STAGES = ("title_abstract", "full_text")
ABSTRACT_CHARS = 1500  # of a paper's opening text shown in its prompt

Paper = Mapping[str, Any]


class ScreeningContext(Protocol):
    """The part of JobContext this module uses."""

    async def ask(self, spec: PromptSpec) -> Any: ...


def reasons_for(extra: Sequence[str] = ()) -> list[str]:
    """The job's reasons: the defaults, then the team's not already among them."""
    reasons = list(DEFAULT_REASONS)
    known = {r.casefold() for r in reasons}
    for reason in extra:
        if reason.casefold() not in known:
            known.add(reason.casefold())
            reasons.append(reason)
    return reasons


def options_for(reasons: Sequence[str]) -> list[str]:
    return [INCLUDE, *(EXCLUDE_PREFIX + r for r in reasons)]


def paper_entry(paper: Paper) -> dict[str, Any]:
    """A paper as a screening prompt records it."""
    return {
        "paper": str(paper["paper"]),
        "title": str(paper.get("title") or paper["paper"]),
        "kind": paper.get("kind"),
        "year": paper.get("year"),
        "authors": list(paper.get("authors") or []),
        "doi": paper.get("doi"),
        "abstract": str(paper.get("abstract") or "")[:ABSTRACT_CHARS],
    }


def screening_prompt(paper: Paper, reasons: Sequence[str], stage: str) -> PromptSpec:
    """The screening prompt for one paper at `stage` (title_abstract or full_text).
    Its default includes the paper. Raises ValueError for an unknown stage."""
    if stage not in STAGES:
        raise ValueError(f"screening stage {stage!r}: expected one of {list(STAGES)}")
    entry = paper_entry(paper)
    shown = "title and abstract" if stage == "title_abstract" else "full text"
    context: dict[str, Any] = {**entry, "stage": stage, "reasons": list(reasons)}
    for key in ("judged_by", "note"):  # a revision's: who decided and why (not shown)
        if paper.get(key):
            context[key] = paper[key]
    return PromptSpec(
        type=PROMPT_TYPE,
        message=f"Screen {entry['paper']}: {entry['title']}"[:1000]
        + f" ({shown}). Include it, or exclude it with a reason.",
        options=options_for(reasons),
        default=INCLUDE,
        context=context,
    )


def decision_of(value: object) -> tuple[str, str | None]:
    """An applied answer as (include | exclude, reason or None)."""
    text = str(value or INCLUDE)
    if text.startswith(EXCLUDE_PREFIX):
        return EXCLUDE, text[len(EXCLUDE_PREFIX) :]
    return INCLUDE, None


def answer_for(decision: str, reason: str | None) -> str:
    """The option a decision is: "include" or "exclude: <reason>"."""
    return INCLUDE if decision == INCLUDE else EXCLUDE_PREFIX + str(reason)


async def screen_papers(
    ctx: ScreeningContext, papers: Sequence[Paper], config: Any, reasons: Sequence[str]
) -> tuple[tuple[str, str, str], ...]:
    """Ask the screening prompts due (a revision's plan, then in-run ones) and return
    the exclusions as sorted (paper id, reason, stage)."""
    excluded: dict[str, tuple[str, str]] = {}
    planned: set[str] = set()
    for item in getattr(config, "screening_plan", None) or []:
        stage = str(item.get("stage") or "full_text")
        decision, reason = decision_of(await ctx.ask(screening_prompt(item, reasons, stage)))
        planned.add(str(item["paper"]))
        if decision == EXCLUDE and reason is not None:
            excluded[str(item["paper"])] = (reason, stage)
    if (getattr(config, "screening", "none") or "none") == "ask":
        for paper in papers:
            if str(paper["paper"]) in planned:
                continue
            spec = screening_prompt(paper, reasons, "title_abstract")
            decision, reason = decision_of(await ctx.ask(spec))
            if decision == EXCLUDE and reason is not None:
                excluded[str(paper["paper"])] = (reason, "title_abstract")
    return tuple(sorted((paper, *why) for paper, why in excluded.items()))
