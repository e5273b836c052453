"""Suggested searches for every gap: terms that set the gap apart, queries in four
forms, the same every time, safe in a spreadsheet."""

import copy
import csv
import io
from typing import Any

import pytest

from litgap.pipeline.searches import (
    CSV_COLUMNS,
    gap_searches,
    render_searches_csv,
    words,
)
from tests.unit.pipeline.sample_report import sample_report

# Written by hand from the sample framework: "Long-term funding for maintenance after
# installation" shares "maintenance" with two other sub-requirements, so its distinctive
# words are the other three; "Funding & Regulation" then adds "regulation" only.
FUNDING_BOOLEAN = (
    '("long-term" OR "funding" OR "installation") AND '
    '("regulation" OR "governance" OR "maintenance" OR "subsidy" OR "design" OR "tanks")'
)


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    return sample_report()


def _by_id(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {g["id"]: g["searches"] for g in report["gaps"]}


def test_every_gap_of_the_sample_has_its_searches_in_the_report(report: dict[str, Any]) -> None:
    assert [g["id"] for g in report["gaps"]] == ["Sub-S3.2.3", "Sub-S1.1.3", "Sub-S3.2.2"]
    assert all(
        set(g["searches"]) == {"terms", "plain", "boolean", "pubmed", "scopus"}
        for g in report["gaps"]
    )


def test_distinctive_terms_are_the_words_no_other_sub_requirement_uses(
    report: dict[str, Any],
) -> None:
    searches = _by_id(report)
    assert searches["Sub-S1.1.3"]["terms"]["distinctive"] == ["permeable", "pavement", "captures"]
    assert searches["Sub-S3.2.2"]["terms"]["distinctive"] == ["building", "code", "permit"]
    assert searches["Sub-S3.2.3"]["terms"]["distinctive"] == [
        "long-term",
        "funding",
        "installation",
    ]


def test_requirement_and_pillar_terms_give_the_context(report: dict[str, Any]) -> None:
    terms = _by_id(report)["Sub-S1.1.3"]["terms"]
    assert terms["requirement"] == ["catchment", "collection"]  # "Catchment & Collection"
    assert terms["pillar"] == ["rainwater harvesting", "roof catchment", "storage tank"]


def test_weak_evidence_adds_the_words_its_passages_share(report: dict[str, Any]) -> None:
    # The passages nearest to permeable pavement talk about runoff over an area.
    assert _by_id(report)["Sub-S1.1.3"]["terms"]["evidence"] == ["runoff", "area"]


def test_the_four_queries_of_a_gap(report: dict[str, Any]) -> None:
    funding = _by_id(report)["Sub-S3.2.3"]
    assert funding["plain"] == "long-term funding installation regulation design tanks"
    assert funding["boolean"] == FUNDING_BOOLEAN
    assert funding["scopus"] == f"TITLE-ABS-KEY({FUNDING_BOOLEAN})"
    assert funding["pubmed"] == (
        '("long-term"[tiab] OR "funding"[tiab] OR "installation"[tiab]) AND '
        '("regulation"[tiab] OR "governance"[tiab] OR "maintenance"[tiab] OR '
        '"subsidy"[tiab] OR "design"[tiab] OR "tanks"[tiab])'
    )


def test_searches_are_the_same_every_time(report: dict[str, Any]) -> None:
    assert gap_searches(report) == gap_searches(copy.deepcopy(report))
    assert render_searches_csv(report) == render_searches_csv(sample_report())


def test_a_keyword_cannot_add_quotes_or_operators_to_a_query(report: dict[str, Any]) -> None:
    hostile = copy.deepcopy(report)
    pillar = next(p for p in hostile["pillars"] if p["name"] == report["gaps"][0]["pillar"])
    pillar["keywords"] = ['x") OR ("y', "TITLE-ABS-KEY(z)"]
    boolean = gap_searches(hostile)[0]["boolean"]
    assert '"x or y"' in boolean and '"title-abs-key z"' in boolean
    assert boolean.count('"') % 2 == 0


def test_the_csv_has_a_row_per_gap_and_escapes_formulas(report: dict[str, Any]) -> None:
    hostile = copy.deepcopy(report)
    hostile["gaps"][0]["text"] = '=HYPERLINK("http://x")'
    rows = list(csv.reader(io.StringIO(render_searches_csv(hostile).decode())))
    assert rows[0] == CSV_COLUMNS
    assert [r[0] for r in rows[1:]] == [g["id"] for g in report["gaps"]]
    assert rows[1][1] == '\'=HYPERLINK("http://x")'
    assert rows[2][7] == report["gaps"][1]["searches"]["pubmed"]


def test_words_drop_stop_words_numbers_and_generic_research_words() -> None:
    assert words("The 3 studies of Long-term funding, using methods in 2024") == [
        "long-term",
        "funding",
    ]


def test_report_md_lists_the_searches_of_the_gaps(report: dict[str, Any]) -> None:
    from litgap.pipeline.report import render_markdown

    text = render_markdown(report).decode()
    assert "## Suggested searches" in text
    assert f"- Boolean: `{FUNDING_BOOLEAN}`" in text
