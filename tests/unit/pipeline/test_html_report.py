"""report.html: one self-contained page, the same bytes in any process, every section,
every string from a paper, a framework or a user escaped."""

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from litgap.pipeline import ReportContext, render_outputs
from litgap.pipeline.charts import render_charts
from litgap.pipeline.html_report import inline_svg, render_html
from tests.unit.pipeline.sample_report import sample_report

PAYLOAD = '<script>window.__pwned=true</script><img src=x onerror="window.__pwned=true">'
DECISIONS = [
    {
        "seq": 0,
        "type": "pillar_selection",
        "timestamp": "2025-03-01T10:00:05Z",
        "applied": ["ALL"],
        "status": "answered",
        "source": "user",
        "answered_by": "alice",
        "note": PAYLOAD,
        "prompt_data": {"message": "Which pillars?"},
    },
    {
        "seq": 1,
        "type": "run_mode",
        "timestamp": "2025-03-01T10:00:09Z",
        "applied": "DEEP_LOOP",
        "status": "timed_out",
        "source": "timeout_default",
        "answered_by": None,
        "note": None,
        "prompt_data": {"message": "Run mode?"},
    },
]
CONTEXT = ReportContext(
    job_id="job_child01",
    decisions=DECISIONS,
    parent_job_id="job_parent01",
    relation="continues",
    parent_manifest_hash="ab" * 32,
    parent_pillars={"Pillar 1: Rainwater Capture (SAMPLE)": 20.0},
)
CHILD_SCRIPT = """
import hashlib, sys
sys.path.insert(0, sys.argv[1])
from tests.unit.pipeline.test_html_report import CONTEXT
from tests.unit.pipeline.sample_report import sample_report
from litgap.pipeline import render_outputs
print(hashlib.sha256(render_outputs(sample_report(), CONTEXT)["report.html"]).hexdigest())
"""


@pytest.fixture(scope="module")
def html() -> str:
    return render_outputs(sample_report(), CONTEXT)["report.html"].decode()


def test_report_html_is_byte_identical_in_another_process(html: str) -> None:
    root = str(Path(__file__).parents[3])
    child = subprocess.run(
        [sys.executable, "-c", CHILD_SCRIPT, root],
        capture_output=True,
        check=True,
        text=True,
        timeout=300,
    )
    assert child.stdout.strip() == hashlib.sha256(html.encode()).hexdigest()


def test_report_html_has_every_section(html: str) -> None:
    for section in ("summary", "charts", "table", "gaps", "evidence", "decisions", "lineage"):
        assert f'<section id="{section}"' in html


def test_report_html_loads_nothing_and_runs_nothing(html: str) -> None:
    assert "<script" not in html
    # Only links within the page, and the heatmap's pixels as a data: URL.
    assert not re.search(r'\b(src|href)="(?!#|data:image/png;base64,)', html)
    assert "default-src 'none'" in html


def test_the_summary_names_overall_strongest_weakest_and_top_gaps(html: str) -> None:
    assert "Overall completeness is <strong>" in html
    assert "Strongest pillar: Pillar 2: Water Quality &amp; Treatment (SAMPLE)" in html
    assert "Long-term funding for maintenance after installation (Sub-S3.2.3" in html


def test_decisions_and_lineage_are_shown(html: str) -> None:
    assert "2025-03-01T10:00:05Z" in html and "alice" in html
    assert "timed_out (timeout_default)" in html
    assert "job_parent01" in html and "continues" in html and "ab" * 32 in html


def test_user_and_paper_text_is_escaped() -> None:
    report = sample_report()
    report["corpus"]["papers"][0]["title"] = PAYLOAD
    report["gaps"][0]["text"] = PAYLOAD
    html = render_html(report, render_charts(report), CONTEXT).decode()
    assert PAYLOAD not in html
    assert "&lt;script&gt;window.__pwned=true&lt;/script&gt;" in html


def test_inlined_charts_keep_their_ids_apart() -> None:
    charts = render_charts(sample_report()).charts
    one, two = inline_svg(charts[0].svg, "a-"), inline_svg(charts[1].svg, "b-")
    ids_one = set(re.findall(r'id="([^"]+)"', one))
    ids_two = set(re.findall(r'id="([^"]+)"', two))
    assert ids_one and ids_two and not ids_one & ids_two
    assert 'aria-labelledby="a-chart-title a-chart-desc"' in one
    assert not one.startswith("<?xml")


def test_without_context_the_page_says_there_is_no_parent() -> None:
    report: dict[str, Any] = sample_report()
    html = render_outputs(report)["report.html"].decode()
    assert "This job is made from no other job." in html
    assert json.loads(render_outputs(report)["gap_analysis_report.json"])["gaps"][0]["searches"]
