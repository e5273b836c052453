"""The job's script: the decision points, in order, and the pipeline calls between them.

This is the only place that asks. Everything it decides goes to the pure pipeline as
arguments, so the same inputs and the same answers give the same report: that is what
replay and crash recovery stand on.
"""

import asyncio
from dataclasses import dataclass, replace
from typing import Any

from litgap import stages
from litgap.context import JobContext
from litgap.exceptions import LitgapError
from litgap.executor import runs_on_queue
from litgap.executor.pool import WorkerDied, WorkTimedOut
from litgap.report_context import report_context
from litgap.responses import PromptSpec
from litgap.review import review_evidence
from litgap.runtime import Runtime
from litgap.screening import reasons_for, screen_papers
from litgap.stages import IterationOutcome, JobInputs, Scoring

RUN_MODES = ["ONCE", "DEEP_LOOP"]
CONTINUE_OPTIONS = ["yes", "no"]
MAX_DETAILS = 25  # gap changes carried in a continue prompt; the report has them all


class CancelledByDecision(LitgapError):
    """The user chose NONE at pillar selection."""


@dataclass(frozen=True)
class Selection:
    pillars: list[str]
    forced_mode: str | None


def pillar_prompt(pillars: list[str]) -> PromptSpec:
    return PromptSpec(
        type="pillar_selection",
        message="Select which pillars to analyze",
        options=["ALL", "DEEP", *pillars, "NONE"],
        default=None,
        multiple=True,
    )


def run_mode_prompt() -> PromptSpec:
    return PromptSpec(
        type="run_mode",
        message="Select analysis mode",
        options=list(RUN_MODES),
        default="ONCE",
    )


def continue_prompt(result: IterationOutcome, details: list[dict[str, Any]]) -> PromptSpec:
    return PromptSpec(
        type="continue",
        message=(
            f"Iteration {result.iteration} complete: {result.gap_count} gaps remain. "
            "Continue deep review loop?"
        ),
        options=list(CONTINUE_OPTIONS),
        default="no",
        context={
            "iteration": result.iteration,
            "gap_count": result.gap_count,
            "details": details[:MAX_DETAILS],
            "details_total": len(details),
        },
    )


def interpret_selection(value: str | list[str], pillars: list[str]) -> Selection:
    """Turn a pillar_selection answer into pillars (and a mode, for DEEP)."""
    chosen = [value] if isinstance(value, str) else list(value)
    if chosen == ["NONE"]:
        raise CancelledByDecision("cancelled by decision: pillar_selection was NONE")
    if chosen == ["ALL"]:
        return Selection(list(pillars), None)
    if chosen == ["DEEP"]:
        return Selection(list(pillars), "DEEP_LOOP")
    unknown = [c for c in chosen if c not in pillars]
    if unknown:
        raise LitgapError(f"unknown pillar {unknown[0]!r}; pillars are: {', '.join(pillars)}")
    # Keep the framework's order, whatever order they were ticked in.
    return Selection([p for p in pillars if p in chosen], None)


def embedding_helpers(rt: Runtime) -> Any:
    """A cluster's workers, who embed shares of a large corpus beside the run (where
    jobs run on the queue); none for the embedded default."""
    if not runs_on_queue(rt.engine):
        return None
    from litgap.executor.queue import EmbedHelpers, conninfo

    return EmbedHelpers(conninfo(rt.settings.db_url))


async def run_flow(ctx: JobContext) -> dict[str, Any]:
    """Run a job from its inputs to its results; returns the results summary.

    Every piece of work is a stage in a worker process (`litgap.stages`); this coroutine
    only asks, decides and records, so the serving process's loop never waits on it.
    """
    config = ctx.config
    workspace = ctx.runtime.workspace
    inputs = JobInputs(
        inputs_dir=workspace.inputs_dir(ctx.job_id),
        limits=stages.reading_limits(ctx.runtime.settings),
        cache_dir=workspace.root / "cache",
        dedupe=not config.keep_duplicates,
        helpers=embedding_helpers(ctx.runtime),
    )
    scoring = Scoring(
        scorer=config.scorer,
        rerank=config.rerank,
        verdicts=tuple(sorted(config.evidence_verdicts.items())),
    )

    ctx.progress(0.02, "reading inputs")
    inputs = await _read_bounded(ctx, inputs)
    screening = config.screening == "ask" or bool(config.screening_plan)
    read = await ctx.compute(stages.read_inputs, inputs, screening)
    pillars = read.pillars
    if screening:
        # Screening comes first: what is excluded is never analysed (and never asked about).
        reasons = reasons_for(ctx.runtime.settings.screening_reasons)
        excluded = await screen_papers(ctx, read.papers, config, reasons)
        inputs = replace(inputs, excluded=excluded)

    selection_value = config.pillar_selections
    if selection_value is None:
        selection_value = await ctx.ask(pillar_prompt(pillars))
    selection = interpret_selection(selection_value, pillars)
    mode = selection.forced_mode or config.run_mode
    if mode is None:
        mode = await ctx.ask(run_mode_prompt())

    ctx.progress(0.2, "iteration 1")
    step = _Steps(ctx, inputs, selection.pillars, scoring)
    outcomes = [await step.iterate(None)]
    outcomes[0] = await step.review(outcomes[0], None)
    if mode == "DEEP_LOOP":
        await _deep_loop(ctx, step, outcomes)
    model_review = await step.model_review(outcomes) if config.llm_review else None

    ctx.progress(0.9, "writing reports")
    # Read off the loop: the parent's manifest hash reads its result files.
    context = await asyncio.to_thread(report_context, ctx.runtime, ctx.job_id)
    summary = await ctx.compute(
        stages.write_results,
        inputs,
        selection.pillars,
        mode,
        [o.state for o in outcomes],
        workspace.results_dir(ctx.job_id),
        context,  # decisions and lineage for report.html
    )
    ctx.progress(1.0, "done")
    return {**summary, "llm_review": model_review} if model_review else summary


async def _read_bounded(ctx: JobContext, inputs: JobInputs) -> JobInputs:
    """Read each PDF alone, killed past its time bound: the extracted text lands in the
    cache for the stages that follow; a file that could not be read in time is left out
    and reported as skipped, and the job goes on."""
    limit = inputs.limits.max_file_seconds + stages.READ_GRACE_SECONDS
    unreadable = []
    # One call finds what the cache lacks: a continuation or a replay reads only those.
    for name in await ctx.compute(stages.unread_files, inputs, stages.BOUNDED_SUFFIXES):
        try:
            await ctx.compute_within(limit, stages.read_file, inputs, name)
        except (WorkTimedOut, WorkerDied) as err:
            reason = (
                f"reading took longer than {limit:g} s (max_file_seconds) and was stopped"
                if isinstance(err, WorkTimedOut)
                else f"its reader crashed ({err.detail})"
            )
            unreadable.append((name, reason))
    return replace(inputs, unreadable=tuple(unreadable)) if unreadable else inputs


class _Steps:
    """Runs iterations with the verdicts known so far, and the evidence reviews due after
    each one. A review that changes the verdicts re-runs its iteration with them, so the
    passages a reviewer rejected no longer count (and replaying the answers reproduces
    the same report)."""

    def __init__(
        self, ctx: JobContext, inputs: JobInputs, pillars: list[str], scoring: Scoring
    ) -> None:
        self.ctx = ctx
        self.inputs = inputs
        self.pillars = pillars
        self.scoring = scoring
        config = ctx.config
        self.reviewing = (
            config.review_evidence != "none"
            or bool(config.evidence_reviews)
            or config.llm_review is not None  # the model judges the report's passages
        )

    async def iterate(self, before: IterationOutcome | None) -> IterationOutcome:
        return await self.ctx.compute(
            stages.run_iteration,
            self.inputs,
            self.pillars,
            self.scoring,
            before.state if before is not None else None,
            self.ctx.config.convergence_threshold,
            self.reviewing,
        )

    async def review(
        self, outcome: IterationOutcome, before: IterationOutcome | None
    ) -> IterationOutcome:
        if not self.reviewing:
            return outcome
        known = dict(self.scoring.verdicts)
        verdicts = await review_evidence(
            self.ctx, outcome, self.ctx.config, previous=before, verdicts=known
        )
        if verdicts == known:
            return outcome
        self.scoring = replace(self.scoring, verdicts=tuple(sorted(verdicts.items())))
        return await self.iterate(before)

    async def model_review(self, outcomes: list[IterationOutcome]) -> dict[str, Any]:
        """The model judges the last iteration's passages (llm/review.py). Its verdicts
        change the report only when `llm_review.counts`; a reviewer's verdict on the
        same passage wins. Returns the review's summary for the job's results."""
        from litgap.llm.review import review_with_model  # httpx only for jobs that use it

        config = self.ctx.config.llm_review
        assert config is not None
        run = await review_with_model(self.ctx, outcomes[-1].subs, config)
        if config.counts:
            known = dict(self.scoring.verdicts)
            verdicts = {**run.verdicts, **known}
            if verdicts != known:
                self.scoring = replace(self.scoring, verdicts=tuple(sorted(verdicts.items())))
                before = outcomes[-2] if len(outcomes) > 1 else None
                outcomes[-1] = await self.iterate(before)
        return run.summary(config)


async def _deep_loop(ctx: JobContext, step: _Steps, outcomes: list[IterationOutcome]) -> None:
    config = ctx.config
    presets = list(config.continue_decisions)
    while len(outcomes) < config.max_iterations:
        current = outcomes[-1]
        if current.gap_count == 0:
            return
        if len(outcomes) > 1 and current.converged:
            return
        index = len(outcomes) - 1
        if index < len(presets):
            decision = presets[index]
        else:
            decision = await ctx.ask(continue_prompt(current, current.details))
        if decision != "yes":
            return
        fraction = 0.2 + 0.7 * len(outcomes) / config.max_iterations
        ctx.progress(fraction, f"iteration {len(outcomes) + 1}")
        outcomes.append(await step.review(await step.iterate(current), current))
