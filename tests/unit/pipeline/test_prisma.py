"""The PRISMA 2020 flow (pipeline/prisma.py): records by source and outcome, sums that
add up, a continuation's added papers beside the running totals, and renderings that
are deterministic, escaped and readable without colour."""

import csv
import io
from typing import Any

import pytest

from litgap.pipeline.errors import PipelineError
from litgap.pipeline.prisma import (
    Exclusion,
    build_flow,
    check,
    duplicate_way,
    render_csv,
    render_svg,
    source_label,
)

FILES = ["a.pdf", "b.txt", "c.md", "db.csv", "lib.bib", "refs.ris", "bad.pdf"]
PAPERS = [
    ("a.pdf", "A"),
    ("b.txt", "B"),
    ("c.md", "C"),
    ("db.csv row 1", "D1"),
    ("lib.bib [k1]", "L1"),
    ("refs.ris entry 1", "R1"),
]
SKIPPED = [
    ("bad.pdf", "corrupt PDF: not a PDF"),
    ("db.csv row 2", "duplicate of 'lib.bib [k1]' (same DOI)"),
    ("lib.bib [k2]", "library entry without an abstract or an attached PDF"),
    ("refs.ris entry 2", "duplicate of 'c.md' (same title)"),
]
LEFT_OUT = [{"file": "b copy.txt", "paper": "b copy.txt", "reason": "same content", "kept": False}]


def flow() -> dict[str, Any]:
    return build_flow(FILES, PAPERS, SKIPPED, [Exclusion("c.md", "off topic")], LEFT_OUT)


def test_every_record_lands_in_one_box_and_the_boxes_add_up() -> None:
    box = flow()["totals"]
    assert (box["identified"], box["duplicates"], box["unreadable"]) == (11, 3, 2)
    assert (box["screened"], box["excluded"], box["included"]) == (6, 1, 5)
    assert box["identified"] - box["duplicates"] - box["unreadable"] == box["screened"]
    assert box["screened"] - box["excluded"] == box["included"]
    assert {s["name"]: s["count"] for s in box["by_source"]} == {
        "BibTeX: lib.bib": 2,
        "Markdown uploads": 1,
        "PDF uploads": 2,
        "RIS: refs.ris": 2,
        "TXT uploads": 2,
        "research database: db.csv": 2,
    }
    assert box["duplicates_by"] == [
        {"name": "same DOI", "count": 1},
        {"name": "same content", "count": 1},
        {"name": "same title", "count": 1},
    ]
    assert box["excluded_by"] == [{"name": "off topic", "count": 1}]


def test_an_exclusion_of_a_paper_that_was_not_screened_is_not_counted() -> None:
    box = build_flow(FILES, PAPERS, SKIPPED, [Exclusion("bad.pdf", "other")])["totals"]
    assert (box["excluded"], box["unreadable"]) == (0, 2)


def test_a_continuation_counts_its_added_papers_beside_the_running_totals() -> None:
    inherited = [{**LEFT_OUT[0], "inherited": True}]
    result = build_flow(FILES, PAPERS, SKIPPED, (), inherited, added=["refs.ris"])
    added = result["added"]
    assert (added["identified"], added["duplicates"], added["included"]) == (2, 1, 1)
    assert result["totals"]["identified"] == 11
    rows = csv.DictReader(io.StringIO(render_csv(result).decode()))
    assert next(rows)["scope"] == "added"


def test_duplicates_are_told_from_unreadable_files_by_their_reason() -> None:
    assert duplicate_way("same content as 'x.pdf'") == "same content"
    assert duplicate_way("duplicate of 'a [b] (c)' (same DOI)") == "same DOI"
    assert duplicate_way("corrupt PDF: (PDFium: Data format error)") is None
    assert source_label("notes.markdown") == "Markdown uploads"


def test_a_sum_that_fails_is_named() -> None:
    box = dict(flow()["totals"], included=4)
    with pytest.raises(PipelineError, match="screened is 6, not 5"):
        check(box)


def test_the_svg_is_deterministic_escaped_and_says_everything_in_words() -> None:
    hostile = ["<script>.bib", *FILES]
    made = build_flow(hostile, [("<script>.bib [k]", "X"), *PAPERS], SKIPPED)
    svg = render_svg(made)
    assert svg == render_svg(build_flow(list(reversed(hostile)), [("<script>.bib [k]", "X"),
                                                                   *PAPERS], SKIPPED))  # fmt: skip
    text = svg.decode()
    assert "<script>" not in text and "&lt;script&gt;.bib" in text
    assert '<title id="chart-title">PRISMA 2020 flow diagram</title>' in text
    assert "11 records identified" in text  # the text alternative holds every number
    # Removal boxes differ by their dashed outline, phases by their names: not by hue.
    assert 'stroke-dasharray="6 4"' in text and ">Identification</text>" in text


def test_a_csv_cell_that_would_be_a_formula_is_quoted() -> None:
    made = build_flow(FILES, PAPERS, [("bad.pdf", "=HYPERLINK(1)")])
    rows = list(csv.reader(io.StringIO(render_csv(made).decode())))
    assert ["all", "unreadable or over limits", "'=HYPERLINK(1)", "1"] in rows
