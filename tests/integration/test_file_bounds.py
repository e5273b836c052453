"""A corpus file whose reading runs away is stopped at its time bound, reported as
skipped with the reason, and the job goes on with the other papers."""

from pathlib import Path

import pytest

from litgap.settings import Settings
from tests.conftest import make_settings
from tests.evidence_helpers import report_of, run_job, wait_job
from tests.integration.conftest import Api
from tests.unit.pipeline.inputs import inflating_pdf

SAMPLE = Path(__file__).parents[2] / "src/litgap/sample/corpus/sample-01-roof-yield.txt"


@pytest.fixture
def api_settings(tmp_path: Path) -> Settings:
    # One pdfium call on the inflating PDF takes ~20 s: far past this bound.
    return make_settings(tmp_path, max_file_seconds=1)


def test_a_pdf_whose_text_inflates_without_end_is_skipped_and_the_job_completes(
    api: Api,
) -> None:
    files = [
        ("files", ("bomb.pdf", inflating_pdf(30 * 1024 * 1024), "application/pdf")),
        ("files", (SAMPLE.name, SAMPLE.read_bytes(), "text/plain")),
    ]
    created = api.post("/api/jobs", files=files, data={"config": '{"run_mode": "ONCE"}'})
    assert created.status_code == 201, created.text
    job_id = created.json()["job_id"]
    run_job(api, job_id, answers=("ALL",))
    report = report_of(api, job_id)
    assert [p["id"] for p in report["corpus"]["papers"]] == [SAMPLE.name]
    [skipped] = report["corpus"]["skipped"]
    assert skipped["name"] == "bomb.pdf" and "max_file_seconds" in skipped["reason"]


def test_a_runaway_pdf_added_to_a_finished_job_is_screened_within_its_bound(
    api: Api,
) -> None:
    files = [("files", (SAMPLE.name, SAMPLE.read_bytes(), "text/plain"))]
    created = api.post("/api/jobs", files=files, data={"config": '{"run_mode": "ONCE"}'})
    parent = created.json()["job_id"]
    run_job(api, parent, answers=("ALL",))

    # Screening it for duplicates reads it in an analysis worker, within the run's bounds.
    bomb = [("files", ("bomb.pdf", inflating_pdf(30 * 1024 * 1024), "application/pdf"))]
    continued = api.post(f"/api/jobs/{parent}/continue", files=bomb)
    assert continued.status_code == 201, continued.text
    child = continued.json()["job_id"]
    assert continued.json()["duplicates"] == []
    assert wait_job(api, child)["status"] == "completed"
    [skipped] = report_of(api, child)["corpus"]["skipped"]
    assert skipped["name"] == "bomb.pdf" and "max_file_seconds" in skipped["reason"]
