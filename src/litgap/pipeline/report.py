"""The report: one JSON-able document, and the files rendered from it.

Everything is deterministic: no timestamps, floats rounded where they are made, keys
sorted, file names instead of paths. The same analysis gives the same bytes.
"""

import csv
import io
from collections.abc import Sequence
from typing import Any

from litgap.pipeline import jsonfile
from litgap.pipeline.analysis import (
    EVIDENCE_PER_SUB,
    GAP_THRESHOLD,
    MAX_PAPER_SHARE,
    NOISE_SCORE,
    STRONG_SCORE,
    TOP_PAPERS,
    IterationResult,
    SubResult,
    gap_changes,
)
from litgap.pipeline.charts import COMPLETENESS_SVG, completeness_chart, render_charts
from litgap.pipeline.corpus import Corpus, Paper
from litgap.pipeline.errors import PipelineError
from litgap.pipeline.html_report import REPORT_HTML, ReportContext, render_html
from litgap.pipeline.pillars import Framework
from litgap.pipeline.prisma import PRISMA_CSV, PRISMA_SVG, markdown_lines
from litgap.pipeline.prisma import render_csv as render_prisma_csv
from litgap.pipeline.prisma import render_svg as render_prisma_svg
from litgap.pipeline.scorers.lexical import CHUNK_WORDS
from litgap.pipeline.searches import SEARCHES_CSV, attach_searches, render_searches_csv

SCHEMA_VERSION = 2
SUPPORTS_PER_PAPER = 10
MARKDOWN_PASSAGES = 3  # passages shown per sub-requirement in report.md
MARKDOWN_PASSAGE_CHARS = 240
REPORT_JSON = "gap_analysis_report.json"
COVERAGE_CSV = "coverage.csv"
REPORT_MD = "report.md"
CHART_SVG = COMPLETENESS_SVG
SUMMARY_GAPS = 10
MARKDOWN_GAPS = 15

Report = dict[str, Any]


def build_report(
    framework: Framework,
    corpus: Corpus,
    pillars: Sequence[str],
    run_mode: str,
    iterations: Sequence[IterationResult],
) -> Report:
    """The whole analysis as a JSON-able dict (see SCHEMA_VERSION).

    Raises PipelineError when there is no iteration or the iterations analysed other
    pillars than `pillars`.
    """
    if not iterations:
        raise PipelineError("a report needs at least one iteration")
    selected = framework.select(pillars)
    names = tuple(p.name for p in selected)
    for number, result in enumerate(iterations, start=1):
        if result.pillars != names or result.iteration != number:
            raise PipelineError(
                f"iteration {result.iteration} does not follow on: expected iteration {number} "
                f"of pillars {list(names)}"
            )
    final = iterations[-1]
    by_requirement = final.requirement_completeness()
    by_pillar = final.pillar_completeness()
    pillar_entries: list[dict[str, Any]] = []
    for pillar in selected:
        requirements = []
        for req in pillar.requirements:
            subs = [
                sub_entry(final.sub(sub.id), [it.sub(sub.id).completeness for it in iterations])
                for sub in req.subs
            ]
            requirements.append(
                {
                    "id": req.id,
                    "name": req.name,
                    "completeness": by_requirement[req.id],
                    "gap_count": sum(1 for s in subs if s["gap"]),
                    "sub_requirements": subs,
                }
            )
        pillar_entries.append(
            {
                "name": pillar.name,
                "description": pillar.description,
                "keywords": list(pillar.keywords),
                "completeness": by_pillar[pillar.name],
                "gap_count": sum(r["gap_count"] for r in requirements),
                "requirements": requirements,
            }
        )
    ranked = sorted(pillar_entries, key=lambda p: -p["completeness"])  # stable: file order
    position = {sub.id: i for i, sub in enumerate(final.subs)}
    gaps = sorted(
        (final.sub(g) for g in final.gaps), key=lambda s: (s.completeness, position[s.id])
    )
    supports = _supports(final)
    report: Report = {
        "schema_version": SCHEMA_VERSION,
        "run_mode": run_mode,
        "framework": {
            "source": framework.source,
            "pillars": framework.pillar_names(),
            "selected_pillars": list(names),
            "non_pillar_sections": list(framework.sections),
        },
        "corpus": {
            "papers": [_paper_entry(p, supports.get(p.id, [])) for p in corpus.papers],
            "skipped": [{"name": s.name, "reason": s.reason} for s in corpus.skipped],
        },
        "parameters": {
            "gap_threshold": GAP_THRESHOLD,
            "noise_score": NOISE_SCORE,
            "strong_score": STRONG_SCORE,
            "max_paper_share": MAX_PAPER_SHARE,
            "top_papers": TOP_PAPERS,
            "chunk_words": CHUNK_WORDS,
            "evidence_per_sub": EVIDENCE_PER_SUB,
        },
        "scorer": dict(final.scorer),
        "verdicts": dict(sorted(final.verdicts.items())),
        "summary": {
            "overall_completeness": final.overall_completeness,
            "pillars": dict(by_pillar),
            "strongest_pillar": ranked[0]["name"],
            "weakest_pillar": ranked[-1]["name"],
            "requirements": len(by_requirement),
            "sub_requirements": len(final.subs),
            "gap_count": final.gap_count,
            "iterations": len(iterations),
            "papers": len(corpus.papers),
            "skipped": len(corpus.skipped),
        },
        "pillars": pillar_entries,
        "gaps": [
            {
                "id": s.id,
                "text": s.text,
                "pillar": s.pillar,
                "requirement": s.requirement,
                "completeness": s.completeness,
            }
            for s in gaps
        ],
        "iterations": [
            _iteration_entry(result, iterations[i - 1] if i else None)
            for i, result in enumerate(iterations)
        ],
    }
    attach_searches(report)  # gaps[i]["searches"]: read from the report itself
    return report


def sub_entry(result: SubResult, history: list[float]) -> dict[str, Any]:
    """A sub-requirement as the report lists it, with its evidence."""
    return {
        "id": result.id,
        "text": result.text,
        "completeness": result.completeness,
        "gap": result.is_gap,
        "supporting_papers": result.supporting_papers,
        "found_in_iteration": result.found_in,
        "history": history,
        "evidence": [
            {
                "evidence_id": e.evidence_id,
                "paper": e.paper,
                "title": e.title,
                "page": e.page,
                "section": e.section,
                "start": e.start,
                "end": e.end,
                "text": e.text,
                "score": e.score,
                "rank": e.rank,
                "verdict": e.verdict,
            }
            for e in result.evidence
        ],
    }


def _paper_entry(paper: Paper, supports: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": paper.id,
        "title": paper.title,
        "kind": paper.kind,
        "pages": len(paper.pages),
        "sha256": paper.sha256,
        "year": paper.year,
        "authors": list(paper.authors),
        "doi": paper.doi,
        "supports": supports,
        # Only when there are some: a continuation screens its new papers against them
        # (services/duplicates.existing_identities), and other reports keep their bytes.
        **({"other_titles": list(paper.other_titles)} if paper.other_titles else {}),
    }


def _supports(final: IterationResult) -> dict[str, list[dict[str, Any]]]:
    """Per paper id, the sub-requirements it supports most (above NOISE_SCORE), best first."""
    found: dict[str, list[tuple[float, int, dict[str, Any]]]] = {}
    for position, sub in enumerate(final.subs):
        for scored in sub.papers:
            entry = {
                "sub_requirement": sub.id,
                "score": scored.score,
                "evidence_id": scored.evidence_id,
            }
            found.setdefault(scored.paper, []).append((-scored.score, position, entry))
    return {
        paper: [entry for _, _, entry in sorted(items, key=lambda i: (i[0], i[1]))][
            :SUPPORTS_PER_PAPER
        ]
        for paper, items in found.items()
    }


def _iteration_entry(result: IterationResult, previous: IterationResult | None) -> dict[str, Any]:
    return {
        "iteration": result.iteration,
        "passage_words": result.search.window_words,
        "stride_words": result.search.stride * CHUNK_WORDS,
        "expanded_queries": result.search.expand,
        "searched": len(result.searched),
        "overall_completeness": result.overall_completeness,
        "pillars": result.pillar_completeness(),
        "gap_count": result.gap_count,
        "gaps": result.gaps,
        "changes": gap_changes(previous, result) if previous is not None else [],
    }


def summarize(report: Report) -> dict[str, Any]:
    """The few figures a job record keeps: overall, per pillar, gaps, paper counts."""
    summary = report["summary"]
    return {
        "overall_completeness": summary["overall_completeness"],
        "pillars": dict(summary["pillars"]),
        "gap_count": summary["gap_count"],
        "top_gaps": [
            {"id": g["id"], "pillar": g["pillar"], "completeness": g["completeness"]}
            for g in report["gaps"][:SUMMARY_GAPS]
        ],
        "papers": summary["papers"],
        "skipped": summary["skipped"],
    }


def render_outputs(report: Report, context: ReportContext | None = None) -> dict[str, bytes]:
    """The result files, as bytes keyed by file name; writing them is the caller's job.
    `context` (decisions, lineage, the parent's completeness) feeds report.html and the
    radar chart; without it they show this job alone."""
    context = context or ReportContext()
    charts = render_charts(report, context.parent_pillars)
    # The PRISMA flow (report["prisma"], added by the results stage) when it is known.
    prisma = report.get("prisma")
    flow_files = (
        {PRISMA_SVG: render_prisma_svg(prisma), PRISMA_CSV: render_prisma_csv(prisma)}
        if prisma
        else {}
    )
    return {
        **flow_files,
        REPORT_JSON: render_json(report),
        COVERAGE_CSV: render_csv(report),
        REPORT_MD: render_markdown(report),
        SEARCHES_CSV: render_searches_csv(report),
        REPORT_HTML: render_html(report, charts, context),
        **{chart.name: chart.svg for chart in charts.charts},
    }


def render_json(report: Report) -> bytes:
    """gap_analysis_report.json: keys sorted, outer structure indented, each passage or
    entry on one line (jsonfile.dumps: 2.6 s with indent=2 for 400 pillars). Raises
    ValueError for NaN or an infinity."""
    return (jsonfile.dumps(report) + "\n").encode("utf-8")


COVERAGE_COLUMNS = [
    "pillar",
    "requirement_id",
    "requirement",
    "sub_requirement_id",
    "sub_requirement",
    "completeness",
    "gap",
    "supporting_papers",
    "found_in_iteration",
    "best_score",
    "best_paper",
    "best_page",
    "best_snippet",
]


def render_csv(report: Report) -> bytes:
    """One row per sub-requirement, with its best evidence."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COVERAGE_COLUMNS)
    for pillar, req, sub in _walk(report):
        best = sub["evidence"][0] if sub["evidence"] else None
        writer.writerow(
            [
                _cell(pillar["name"]),
                _cell(req["id"]),
                _cell(req["name"]),
                _cell(sub["id"]),
                _cell(sub["text"]),
                f"{sub['completeness']:.2f}",
                "yes" if sub["gap"] else "no",
                sub["supporting_papers"],
                sub["found_in_iteration"],
                f"{best['score']:.4f}" if best else "",
                _cell(best["paper"]) if best else "",
                best["page"] if best and best["page"] is not None else "",
                _cell(_snippet(best["text"])) if best else "",
            ]
        )
    return out.getvalue().encode("utf-8")


def _cell(text: str) -> str:
    # A spreadsheet runs a cell starting with = + - @ as a formula; texts from papers
    # and frameworks are data, so such a cell gets a leading apostrophe.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


_SEARCH_LABELS = [
    ("Plain", "plain"),
    ("Boolean", "boolean"),
    ("PubMed", "pubmed"),
    ("Scopus", "scopus"),
]


def _walk(report: Report) -> list[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]]:
    return [
        (pillar, req, sub)
        for pillar in report["pillars"]
        for req in pillar["requirements"]
        for sub in req["sub_requirements"]
    ]


def render_markdown(report: Report) -> bytes:
    """The executive summary: where the corpus is strong, where it is thin, what was skipped."""
    s = report["summary"]
    fw = report["framework"]
    by_name = {p["name"]: p for p in report["pillars"]}
    lines = [
        "# Gap analysis report",
        "",
        f"Run mode: {_md(report['run_mode'])} · iterations: {s['iterations']} · "
        f"framework: {_md(fw['source'])} ({len(fw['selected_pillars'])} of "
        f"{len(fw['pillars'])} pillars analysed) · corpus: {s['papers']} papers read, "
        f"{s['skipped']} skipped",
        "",
        "## Executive summary",
        "",
        f"Overall completeness is **{s['overall_completeness']:.1f}%**. "
        f"{s['gap_count']} of {s['sub_requirements']} sub-requirements are gaps "
        f"(completeness below {report['parameters']['gap_threshold']:g}).",
        "",
        f"- Strongest pillar: {_md(s['strongest_pillar'])} "
        f"({by_name[s['strongest_pillar']]['completeness']:.1f}%)",
        f"- Weakest pillar: {_md(s['weakest_pillar'])} "
        f"({by_name[s['weakest_pillar']]['completeness']:.1f}%)",
        "",
        "## Pillars",
        "",
        "| Pillar | Completeness | Gaps |",
        "|---|---:|---:|",
    ]
    for p in report["pillars"]:
        subs = sum(len(r["sub_requirements"]) for r in p["requirements"])
        lines.append(
            f"| {_md(p['name'])} | {p['completeness']:.1f}% | {p['gap_count']} of {subs} |"
        )
    lines += ["", "## Top gaps", ""]
    gaps = report["gaps"][:MARKDOWN_GAPS]
    if gaps:
        lines += ["| Sub-requirement | Pillar | Completeness |", "|---|---|---:|"]
        for g in gaps:
            lines.append(
                f"| {_md(g['id'])}: {_md(g['text'])} | {_md(g['pillar'])} | "
                f"{g['completeness']:.1f}% |"
            )
        if len(report["gaps"]) > len(gaps):
            lines += ["", f"… and {len(report['gaps']) - len(gaps)} more in coverage.csv."]
        lines += ["", "## Suggested searches", ""]
        for g in gaps:
            searches = g["searches"]
            lines += [f"### {_md(g['id'])}: {_md(g['text'])}", ""]
            for label, key in _SEARCH_LABELS:
                # In a code span nothing is markup; a backtick in a query cannot occur.
                lines.append(f"- {label}: `{searches[key]}`")
            lines.append("")
        lines.append(f"Every gap's searches are in {SEARCHES_CSV}.")
    else:
        lines.append("No gaps: every sub-requirement reaches the threshold.")
    lines += ["", "## Evidence", ""]
    lines += [
        f"The best {MARKDOWN_PASSAGES} of up to {report['parameters']['evidence_per_sub']} "
        "passages kept per sub-requirement (all of them are in gap_analysis_report.json).",
    ]
    for _, _, sub in _walk(report):
        lines += ["", f"### {_md(sub['id'])}: {_md(sub['text'])} ({sub['completeness']:.1f}%)", ""]
        shown = sub["evidence"][:MARKDOWN_PASSAGES]
        for e in shown:
            page = f", p. {e['page']}" if e["page"] is not None else ""
            verdict = f", {e['verdict']}ed" if e["verdict"] else ""
            lines.append(
                f"- {_md(e['paper'])}{page} (score {e['score']:.4f}{verdict}): "
                f"{_md(_snippet(e['text'], MARKDOWN_PASSAGE_CHARS))}"
            )
        if not shown:
            lines.append("No passage scores above zero.")
    lines += ["", "## Iterations", "", "| Iteration | Passage size | Gaps | Overall |"]
    lines.append("|---:|---:|---:|---:|")
    for it in report["iterations"]:
        lines.append(
            f"| {it['iteration']} | {it['passage_words']} words | {it['gap_count']} | "
            f"{it['overall_completeness']:.1f}% |"
        )
    lines += ["", "## Skipped files", ""]
    skipped = report["corpus"]["skipped"]
    lines += [f"- {_md(k['name'])}: {_md(k['reason'])}" for k in skipped] or ["None."]
    if report.get("prisma"):
        lines += ["", *markdown_lines(report["prisma"], _md)]
    return ("\n".join(lines) + "\n").encode("utf-8")


# "<" becomes an entity (no renderer turns that into a tag); "&" can stay, since an
# entity written by a user only ever decodes to text.
_MD_ESCAPES = str.maketrans(
    {
        "<": "&lt;",
        ">": "&gt;",
        "|": "\\|",
        "\\": "\\\\",
        "`": "\\`",
        "*": "\\*",
        "_": "\\_",
        "[": "\\[",
        "]": "\\]",
        "#": "\\#",
    }
)


def _md(text: str) -> str:
    # Names and reasons come from users' files: no markup, links or HTML of theirs may
    # take effect where the report is rendered.
    return " ".join(str(text).split()).translate(_MD_ESCAPES)


def render_svg(report: Report) -> bytes:
    """Completeness per pillar and requirement as a bar chart (see charts.py)."""
    return completeness_chart(report).svg


def _snippet(text: str, limit: int = 300) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _short(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
