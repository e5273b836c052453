"""Charts: deterministic SVG to the byte in any process, a text alternative in each,
readable without colour, the parent drawn against this job, years only where known."""

import copy
import hashlib
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from litgap.pipeline.charts import (
    HEATMAP_SVG,
    NO_YEARS_NOTE,
    YEARS_SVG,
    contributions,
    evidence_by_year,
    radar_chart,
    render_charts,
)
from tests.unit.pipeline.sample_report import sample_report

SVG = "{http://www.w3.org/2000/svg}"
PARENT = {
    "Pillar 1: Rainwater Capture (SAMPLE)": 12.5,
    "Pillar 2: Water Quality & Treatment (SAMPLE)": 33.0,
    "Pillar 3: Community Governance (SAMPLE)": 71.0,
}
CHILD_SCRIPT = """
import hashlib, json, sys
from tests.unit.pipeline.sample_report import sample_report
from litgap.pipeline.charts import render_charts
parent = json.loads(sys.argv[1])
charts = render_charts(sample_report(), parent).charts
print(json.dumps({c.name: hashlib.sha256(c.svg).hexdigest() for c in charts}))
"""


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    return sample_report()


def test_every_chart_is_byte_identical_in_another_process(report: dict[str, Any]) -> None:
    here = {c.name: hashlib.sha256(c.svg).hexdigest() for c in render_charts(report, PARENT).charts}
    child = subprocess.run(
        [sys.executable, "-c", CHILD_SCRIPT, json.dumps(PARENT)],
        capture_output=True,
        check=True,
        text=True,
        timeout=300,
    )
    assert json.loads(child.stdout) == here
    assert len(here) == 5


def test_every_chart_is_byte_identical_when_drawn_twice(report: dict[str, Any]) -> None:
    first = render_charts(report, PARENT).charts
    second = render_charts(report, PARENT).charts
    assert [c.svg for c in first] == [c.svg for c in second]


def test_no_chart_names_a_date_or_the_matplotlib_version(report: dict[str, Any]) -> None:
    for chart in render_charts(report).charts:
        assert b"<dc:date>" not in chart.svg
        assert b"Matplotlib v" not in chart.svg and b"matplotlib.org" not in chart.svg


def test_each_chart_carries_its_text_alternative_as_title_and_desc(
    report: dict[str, Any],
) -> None:
    for chart in render_charts(report).charts:
        root = ET.fromstring(chart.svg)
        assert root.get("role") == "img"
        assert root.find(f"{SVG}title").text == chart.title
        assert root.find(f"{SVG}desc").text == chart.alt
        assert chart.alt.strip()


def test_text_alternatives_state_every_pillar_value(report: dict[str, Any]) -> None:
    radar = radar_chart(report)
    for pillar in report["pillars"]:
        assert f"{pillar['name']}: {pillar['completeness']:.0f}%" in radar.alt


def test_the_radar_draws_the_parent_as_a_second_series_only_when_given(
    report: dict[str, Any],
) -> None:
    alone = radar_chart(report)
    against = radar_chart(report, PARENT)
    assert "Parent job" not in alone.alt
    assert "Parent job (dashed): Pillar 1: Rainwater Capture (SAMPLE): 12%" in against.alt
    # The second series is dashed: readable without telling its colour apart.
    assert b"stroke-dasharray" in against.svg and b"stroke-dasharray" not in alone.svg


def test_heatmap_shares_of_each_pillar_add_up_to_all_its_evidence(
    report: dict[str, Any],
) -> None:
    papers, columns, values = contributions(report)
    assert columns == [p["name"] for p in report["pillars"]]
    assert len(papers) == len(report["corpus"]["papers"])  # the sample is under 30
    for c in range(len(columns)):
        assert sum(row[c] for row in values) == pytest.approx(100, abs=0.6)


def test_heatmap_of_one_pillar_has_its_requirements_as_columns() -> None:
    one = sample_report(["Pillar 2: Water Quality & Treatment (SAMPLE)"])
    _, columns, _ = contributions(one)
    assert columns == [f"{r['id']}: {r['name']}" for r in one["pillars"][0]["requirements"]]


def test_heatmap_shows_a_paper_that_carries_a_whole_pillar(report: dict[str, Any]) -> None:
    lone = copy.deepcopy(report)
    for req in lone["pillars"][0]["requirements"]:
        for sub in req["sub_requirements"]:
            for e in sub["evidence"]:
                e["paper"] = "sample-01-roof-yield.txt"
    papers, _, values = contributions(lone)
    assert values[papers.index("sample-01-roof-yield.txt")][0] == 100.0


def test_evidence_by_year_counts_the_passages_of_papers_with_a_year(
    report: dict[str, Any],
) -> None:
    years, _, counts = evidence_by_year(report)
    assert years == [2022, 2023, 2024]  # the sample CSV's three rows
    dated = {p["id"] for p in report["corpus"]["papers"] if p["year"]}
    for i, pillar in enumerate(report["pillars"]):
        passages = [
            e
            for r in pillar["requirements"]
            for s in r["sub_requirements"]
            for e in s["evidence"]
            if e["paper"] in dated
        ]
        assert sum(counts[i]) == len(passages)


def test_without_years_the_year_chart_is_left_out_with_a_note(report: dict[str, Any]) -> None:
    undated = copy.deepcopy(report)
    for paper in undated["corpus"]["papers"]:
        paper["year"] = None
    charts = render_charts(undated)
    assert YEARS_SVG not in [c.name for c in charts.charts]
    assert charts.notes == [NO_YEARS_NOTE]
    assert YEARS_SVG in [c.name for c in render_charts(report).charts]


def test_chart_text_from_a_framework_cannot_add_markup(report: dict[str, Any]) -> None:
    hostile = copy.deepcopy(report)
    hostile["pillars"][0]["name"] = '<script>alert(1)</script>&"'
    for chart in render_charts(hostile).charts:
        ET.fromstring(chart.svg)  # still well-formed
        assert b"<script" not in chart.svg
    heat = next(c for c in render_charts(hostile).charts if c.name == HEATMAP_SVG)
    assert "<script>alert(1)</script>" in heat.alt  # the alt keeps the text as text
