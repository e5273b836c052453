"""Benchmark: render every result file of a report (`render_outputs`), per output.

Two reports: the sample job's (10 papers, 3 pillars, two iterations) and one of a
400-pillar framework over the sample corpus (tests/big_inputs.big_framework). Prints
the time of each chart, of report.html and of the whole `render_outputs`, and the
ratio to the goal (at most 0.3 s for the sample, 5 s for 400 pillars, on 2 cores); and
gap_analysis_report.json as written before issue 19 (`json.dumps(indent=2)`, 2.6 s for
400 pillars) beside today's writer.

    .venv/bin/python bench/render.py [--pillars 400] [--repeat 3]
"""

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from litgap.pipeline import (
    Analyzer,
    ReportContext,
    build_report,
    load_corpus,
    load_framework,
    render_outputs,
    sample_corpus_paths,
    sample_framework_path,
)
from litgap.pipeline import charts as chart_module
from litgap.pipeline import report as report_module
from litgap.pipeline.html_report import render_html
from tests.big_inputs import big_framework

GOALS = {"sample": 0.3, "big": 5.0}
INDENTED: dict[str, Any] = {
    "sort_keys": True,
    "indent": 2,
    "ensure_ascii": False,
    "allow_nan": False,
}


def report_for(framework_path: Path) -> dict[str, Any]:
    framework = load_framework(framework_path)
    corpus = load_corpus(sample_corpus_paths())
    chosen = list(framework.pillar_names())
    analyzer = Analyzer(corpus, framework, chosen)
    first = analyzer.iterate(None)
    return build_report(framework, corpus, chosen, "DEEP_LOOP", [first, analyzer.iterate(first)])


def best_of(repeat: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def measure(label: str, report: dict[str, Any], repeat: int) -> None:
    parent = {p["name"]: p["completeness"] / 2 for p in report["pillars"]}
    context = ReportContext(job_id="job_bench01", parent_pillars=parent)
    print(f"{label}: {len(report['pillars'])} pillars, {report['summary']['papers']} papers")
    parts: list[tuple[str, Callable[[], object]]] = [
        ("completeness.svg", lambda: chart_module.completeness_chart(report)),
        ("pillars_radar.svg", lambda: chart_module.radar_chart(report, parent)),
        ("papers_heatmap.svg", lambda: chart_module.heatmap_chart(report)),
        ("iterations.svg", lambda: chart_module.iterations_chart(report)),
        ("evidence_by_year.svg", lambda: chart_module.years_chart(report)),
    ]
    charts = chart_module.render_charts(report, parent)
    parts.append(("report.html (charts drawn)", lambda: render_html(report, charts, context)))
    parts += [
        # The writer before issue 19 (Python's own encoder, which indent= forces), beside
        # today's (pipeline/jsonfile.py: the C encoder, the outer structure indented).
        ("json.dumps(indent=2), before", lambda: json.dumps(report, **INDENTED)),
        ("gap_analysis_report.json", lambda: report_module.render_json(report)),
        ("coverage.csv", lambda: report_module.render_csv(report)),
        ("report.md", lambda: report_module.render_markdown(report)),
        ("suggested_searches.csv", lambda: report_module.render_searches_csv(report)),
    ]
    for name, work in parts:
        print(f"  {name:28s} {best_of(repeat, work):7.3f} s")
    before = len(json.dumps(report, **INDENTED).encode()) / 1e6
    now = len(report_module.render_json(report)) / 1e6
    print(f"  JSON size: {before:.1f} MB with indent=2, {now:.1f} MB as written")
    total = best_of(repeat, lambda: render_outputs(report, context))
    outputs = render_outputs(report, context)
    sizes = sum(len(v) for v in outputs.values())
    print("  sizes (MB): " + ", ".join(f"{k} {len(v) / 1e6:.1f}" for k, v in outputs.items()))
    goal = GOALS[label]
    print(
        f"  {'render_outputs':28s} {total:7.3f} s  (goal {goal:g} s, ratio {total / goal:.2f}; "
        f"{sizes / 1e6:.1f} MB written)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pillars", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    measure("sample", report_for(sample_framework_path()), args.repeat)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "framework.json"
        path.write_bytes(big_framework(args.pillars))
        start = time.perf_counter()
        big = report_for(path)
        print(f"(400-pillar report analysed in {time.perf_counter() - start:.1f} s, not counted)")
    measure("big", big, max(1, args.repeat - 2))


if __name__ == "__main__":
    main()
