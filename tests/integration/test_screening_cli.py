"""`litgap run --screening ask`: each paper is screened at the terminal, shown with its
title and opening text, before the pillars are chosen; an exclusion is recorded like a
dashboard answer and leaves the paper out."""

import json
from pathlib import Path

from tests.integration.test_cli import corpus, litgap, only_job

__all__ = ["corpus"]  # the fixture, imported for this module's tests


def test_run_screens_each_paper_at_the_terminal(tmp_path: Path, corpus: Path) -> None:
    workspace = tmp_path / "ws"
    papers = 10  # seven sample papers and the three rows of its research database
    stdin = "2\n" + "\n" * (papers - 1) + "1\n\n"  # exclude the first; then ALL, ONCE
    result = litgap(
        "run", "--corpus", str(corpus), "--workspace", str(workspace), "--screening", "ask",
        stdin=stdin,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr + result.stdout
    assert "Estimating roof catchment yield in a temperate city" in result.stdout
    assert "2. exclude: off topic" in result.stdout
    job = only_job(workspace)
    records = [r for r in job["prompts"] if r["type"] == "screening"]
    assert len(records) == papers and {r["source"] for r in records} == {"cli"}
    first = records[0]
    assert first["prompt_data"]["paper"] == "sample-01-roof-yield.txt"
    assert first["applied"] == "exclude: off topic"
    assert [r["applied"] for r in records[1:]] == ["include"] * (papers - 1)
    results = workspace / "jobs" / job["job_id"] / "results"
    report = json.loads((results / "gap_analysis_report.json").read_text())
    assert "sample-01-roof-yield.txt" not in {p["id"] for p in report["corpus"]["papers"]}
    assert report["prisma"]["totals"]["excluded_by"] == [{"name": "off topic", "count": 1}]
