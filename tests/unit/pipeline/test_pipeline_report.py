"""The report and its files: complete, deterministic to the byte, safe to show."""

import csv
import io
import json
import random
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from litgap.pipeline import (
    SCHEMA_VERSION,
    Analyzer,
    PipelineError,
    build_report,
    has_converged,
    load_corpus,
    load_framework,
    parse_framework,
    render_outputs,
    sample_corpus_paths,
    sample_framework_path,
    summarize,
)
from litgap.pipeline.jsonfile import dumps as laid_out
from litgap.pipeline.report import render_csv, render_markdown, render_svg
from tests.unit.pipeline.inputs import SOIL, WATER, farm_corpus, framework_data

Write = Callable[[str, str | bytes], Path]
OUTPUTS = {
    *("gap_analysis_report.json", "coverage.csv", "report.md", "completeness.svg"),
    *("suggested_searches.csv", "report.html"),
    *("pillars_radar.svg", "papers_heatmap.svg", "iterations.svg"),  # no years: no year chart
}


def run(corpus_paths: Sequence[Path], mode: str = "DEEP_LOOP") -> dict[str, bytes]:
    """The whole pipeline as the flow drives it, all pillars, every continue answered yes."""
    framework = load_framework(sample_framework_path())
    corpus = load_corpus(corpus_paths)
    pillars = framework.pillar_names()
    analyzer = Analyzer(corpus, framework, pillars)
    results = [analyzer.iterate(None)]
    while mode == "DEEP_LOOP" and len(results) < 5:
        results.append(analyzer.iterate(results[-1]))
        if has_converged(results[-2], results[-1]):
            break
    return render_outputs(build_report(framework, corpus, pillars, mode, results))


def farm_report(pillars: Sequence[str] = (SOIL, WATER)) -> dict:
    framework = parse_framework(framework_data(), "farm.json")
    corpus = farm_corpus()
    analyzer = Analyzer(corpus, framework, pillars)
    one = analyzer.iterate(None)
    return build_report(framework, corpus, pillars, "DEEP_LOOP", [one, analyzer.iterate(one)])


def test_the_report_is_versioned_and_nests_pillar_requirement_sub_requirement() -> None:
    report = farm_report()
    assert report["schema_version"] == SCHEMA_VERSION
    soil = report["pillars"][0]
    assert soil["name"] == SOIL
    sub = soil["requirements"][0]["sub_requirements"][0]
    assert sub["id"] == "Sub-S1.1"
    assert set(sub) >= {"completeness", "gap", "evidence", "history", "supporting_papers"}
    assert set(sub["evidence"][0]) == {
        *("evidence_id", "paper", "title", "page", "section", "start", "end", "text"),
        *("score", "rank", "verdict"),
    }


def test_the_report_keeps_each_iteration_and_each_sub_requirements_history() -> None:
    report = farm_report()
    assert [it["iteration"] for it in report["iterations"]] == [1, 2]
    assert report["iterations"][0]["changes"] == []
    sub = report["pillars"][1]["requirements"][0]["sub_requirements"][1]
    assert len(sub["history"]) == 2


def test_the_report_only_covers_the_selected_pillars() -> None:
    report = farm_report([WATER])
    assert [p["name"] for p in report["pillars"]] == [WATER]
    assert report["framework"]["pillars"] == [SOIL, WATER]
    assert report["framework"]["non_pillar_sections"] == [
        "Framework_Overview",
        "Cross_Cutting_Requirements",
        "Success_Criteria",
    ]


def test_gaps_are_listed_weakest_first() -> None:
    gaps = [g["completeness"] for g in farm_report()["gaps"]]
    assert gaps == sorted(gaps)
    assert gaps


def test_a_report_needs_iterations_of_the_selected_pillars() -> None:
    framework = parse_framework(framework_data())
    corpus = farm_corpus()
    result = Analyzer(corpus, framework, [SOIL]).iterate(None)
    with pytest.raises(PipelineError, match="at least one iteration"):
        build_report(framework, corpus, [SOIL], "ONCE", [])
    with pytest.raises(PipelineError, match="does not follow on"):
        build_report(framework, corpus, [SOIL, WATER], "ONCE", [result])


def test_render_outputs_gives_every_result_file_as_bytes() -> None:
    outputs = render_outputs(farm_report())
    assert set(outputs) == OUTPUTS
    assert all(isinstance(data, bytes) for data in outputs.values())


def test_the_json_file_is_the_report_laid_out_with_sorted_keys() -> None:
    report = farm_report()
    data = render_outputs(report)["gap_analysis_report.json"]
    assert json.loads(data) == report
    assert data.decode() == laid_out(report) + "\n"


def test_the_json_file_puts_each_passage_on_a_line_of_its_own() -> None:
    report = farm_report()
    lines = render_outputs(report)["gap_analysis_report.json"].decode().splitlines()
    passage = report["pillars"][0]["requirements"][0]["sub_requirements"][0]["evidence"][0]
    assert json.dumps(passage, sort_keys=True, ensure_ascii=False) in [
        line.strip().rstrip(",") for line in lines
    ]


def test_two_runs_on_the_same_inputs_give_identical_bytes() -> None:
    assert run(sample_corpus_paths()) == run(sample_corpus_paths())


def test_the_order_of_the_input_files_does_not_change_a_byte() -> None:
    paths = sample_corpus_paths()
    shuffled = list(paths)
    random.Random(7).shuffle(shuffled)
    assert shuffled != paths
    assert run(shuffled) == run(paths)


def test_skipped_files_and_their_reasons_are_in_the_report(write: Write) -> None:
    outputs = run([*sample_corpus_paths(), write("empty.txt", "")], mode="ONCE")
    report = json.loads(outputs["gap_analysis_report.json"])
    assert report["corpus"]["skipped"] == [{"name": "empty.txt", "reason": "empty file"}]
    assert "- empty.txt: empty file" in outputs["report.md"].decode()


def test_coverage_csv_has_one_row_per_sub_requirement() -> None:
    rows = list(csv.DictReader(io.StringIO(render_outputs(farm_report())["coverage.csv"].decode())))
    assert [r["sub_requirement_id"] for r in rows] == [
        "Sub-S1.1",
        "Sub-S1.2",
        "Sub-S2.1",
        "Sub-S2.2",
        "Sub-W1.1",
        "Sub-W1.2",
    ]
    assert rows[0]["best_paper"] == "legumes.txt"
    assert rows[0]["gap"] == "no"


def test_coverage_csv_cells_cannot_run_as_spreadsheet_formulas() -> None:
    report = farm_report()
    report["pillars"][0]["requirements"][0]["sub_requirements"][0]["text"] = "=HYPERLINK(1)"
    rows = list(csv.reader(io.StringIO(render_csv(report).decode())))
    assert rows[1][4] == "'=HYPERLINK(1)"


def test_the_strongest_and_weakest_pillars_are_those_of_highest_and_lowest_completeness() -> None:
    summary = farm_report()["summary"]
    pillars = summary["pillars"]
    assert pillars[WATER] > pillars[SOIL]
    assert (summary["strongest_pillar"], summary["weakest_pillar"]) == (WATER, SOIL)


def test_markdown_summary_names_strongest_and_weakest_pillars_and_top_gaps() -> None:
    text = render_markdown(farm_report()).decode()
    assert "- Strongest pillar: Pillar 2: Water Use (39.7%)" in text
    assert "- Weakest pillar: Pillar 1: Soil Health (33.0%)" in text
    assert "Sub-W1.2: Groundwater recharge basins for aquifer storage" in text


def test_markdown_shows_names_from_files_as_text_not_markup() -> None:
    report = farm_report()
    report["corpus"]["skipped"] = [{"name": "<img src=x onerror=alert(1)>.pdf", "reason": "*x*"}]
    text = render_markdown(report).decode()
    assert "<img" not in text
    assert "- &lt;img src=x onerror=alert(1)&gt;.pdf: \\*x\\*" in text


def test_the_chart_is_well_formed_svg_without_a_date() -> None:
    svg = render_outputs(farm_report())["completeness.svg"]
    assert ET.fromstring(svg).tag == "{http://www.w3.org/2000/svg}svg"
    assert b"<dc:date>" not in svg


def test_the_chart_shows_names_with_markup_and_dollars_as_plain_text() -> None:
    report = farm_report()
    report["pillars"][0]["name"] = "Pillar $x^2$ <script>alert(1)</script> & --"
    svg = render_svg(report)
    ET.fromstring(svg)
    assert b"<script>" not in svg


def test_summarize_keeps_the_few_figures_a_job_record_needs() -> None:
    report = farm_report()
    summary = summarize(report)
    assert set(summary) == {
        "overall_completeness",
        "pillars",
        "gap_count",
        "top_gaps",
        "papers",
        "skipped",
    }
    assert summary["pillars"] == report["summary"]["pillars"]
    assert summary["top_gaps"][0] == {
        "id": report["gaps"][0]["id"],
        "pillar": report["gaps"][0]["pillar"],
        "completeness": report["gaps"][0]["completeness"],
    }
    assert (summary["papers"], summary["skipped"]) == (5, 0)
