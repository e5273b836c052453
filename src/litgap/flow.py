"""The job's script: the decision points, in order, and the pipeline calls between them.

This is the only place that asks. Everything it decides goes to the pure pipeline as
arguments, so the same inputs and the same answers give the same report: that is what
replay and crash recovery stand on.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from litgap.atomic import write_atomic
from litgap.context import JobContext
from litgap.exceptions import LitgapError
from litgap.pipeline import (
    Analyzer,
    IterationResult,
    build_report,
    gap_changes,
    has_converged,
    load_corpus,
    load_framework,
    render_outputs,
    summarize,
)
from litgap.responses import PromptSpec

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


def continue_prompt(result: IterationResult, details: list[dict[str, Any]]) -> PromptSpec:
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


def input_paths(inputs_dir: Path) -> tuple[Path, list[Path]]:
    corpus = sorted(p for p in (inputs_dir / "corpus").iterdir() if p.is_file())
    return inputs_dir / "framework.json", corpus


async def run_flow(ctx: JobContext) -> dict[str, Any]:
    """Run a job from its inputs to its results; returns the results summary."""
    config = ctx.config
    results_dir = ctx.runtime.workspace.results_dir(ctx.job_id)
    framework_path, corpus_paths = input_paths(ctx.runtime.workspace.inputs_dir(ctx.job_id))

    ctx.progress(0.02, "reading framework")
    framework = await ctx.compute(load_framework, framework_path)
    pillars = framework.pillar_names()
    ctx.progress(0.05, "reading corpus")
    corpus = await ctx.compute(
        load_corpus, corpus_paths, max_pages=ctx.runtime.settings.max_pdf_pages
    )

    selection_value = config.pillar_selections
    if selection_value is None:
        selection_value = await ctx.ask(pillar_prompt(pillars))
    selection = interpret_selection(selection_value, pillars)
    mode = selection.forced_mode or config.run_mode
    if mode is None:
        mode = await ctx.ask(run_mode_prompt())

    ctx.progress(0.2, "indexing passages")
    analyzer = await ctx.compute(Analyzer, corpus, framework, selection.pillars)
    ctx.progress(0.4, "iteration 1")
    iterations = [await ctx.compute(analyzer.iterate, None)]
    if mode == "DEEP_LOOP":
        await _deep_loop(ctx, analyzer, iterations)

    ctx.progress(0.9, "writing reports")
    report = build_report(framework, corpus, selection.pillars, mode, iterations)
    for name, data in sorted(render_outputs(report).items()):
        write_atomic(results_dir / name, data)
    ctx.progress(1.0, "done")
    return summarize(report)


async def _deep_loop(
    ctx: JobContext, analyzer: Analyzer, iterations: list[IterationResult]
) -> None:
    config = ctx.config
    presets = list(config.continue_decisions)
    while len(iterations) < config.max_iterations:
        current = iterations[-1]
        previous = iterations[-2] if len(iterations) > 1 else None
        if current.gap_count == 0:
            return
        if previous is not None and has_converged(previous, current, config.convergence_threshold):
            return
        details = gap_changes(previous, current) if previous is not None else []
        index = len(iterations) - 1
        if index < len(presets):
            decision = presets[index]
        else:
            decision = await ctx.ask(continue_prompt(current, details))
        if decision != "yes":
            return
        fraction = 0.4 + 0.5 * len(iterations) / config.max_iterations
        ctx.progress(fraction, f"iteration {len(iterations) + 1}")
        iterations.append(await ctx.compute(analyzer.iterate, current))
