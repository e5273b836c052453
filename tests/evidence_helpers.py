"""Builders for the evidence tests: a completed sample job run over real HTTP, a PDF
made with fpdf2, and the report a job wrote."""

import hashlib
import json
from pathlib import Path
from typing import Any

from fpdf import FPDF

from litgap.runtime import Runtime
from tests.integration.conftest import Api

REPORT = "gap_analysis_report.json"


def runtime_of(api: Api) -> Runtime:
    runtime: Runtime = api.app.state.runtime
    return runtime


def run_job(api: Api, job_id: str, answers: tuple[Any, ...] = ("ALL", "ONCE")) -> dict[str, Any]:
    """Start a draft job, answer its prompts in order over HTTP, wait for its end."""
    with api.events() as ws:
        assert api.post(f"/api/jobs/{job_id}/start").status_code == 202
        for answer in answers:
            ask = api.next_prompt(ws, job_id)
            response = api.post(
                f"/api/prompts/{ask['prompt_id']}/respond", json={"response": answer}
            )
            assert response.status_code == 200, response.text
        job = api.wait_finished(ws, job_id)
    assert job["status"] == "completed", job["error"]
    return job


def run_sample(api: Api) -> dict[str, Any]:
    response = api.post("/api/jobs", json={"sample": True, "config": {}})
    assert response.status_code == 201, response.text
    return run_job(api, response.json()["job_id"])


def wait_job(api: Api, job_id: str) -> dict[str, Any]:
    with api.events() as ws:
        job = api.get(f"/api/jobs/{job_id}").json()
        if job["status"] in ("completed", "failed", "cancelled", "interrupted"):
            return job  # type: ignore[no-any-return]
        return api.wait_finished(ws, job_id)


def report_of(api: Api, job_id: str) -> dict[str, Any]:
    path = runtime_of(api).workspace.results_dir(job_id) / REPORT
    data: dict[str, Any] = json.loads(path.read_bytes())
    return data


def subs_of(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        sub
        for pillar in report["pillars"]
        for requirement in pillar["requirements"]
        for sub in requirement["sub_requirements"]
    ]


def sub_with_evidence(report: dict[str, Any], count: int = 2) -> dict[str, Any]:
    """The first sub-requirement with at least `count` passages."""
    return next(s for s in subs_of(report) if len(s["evidence"]) >= count)


def results_digest(api: Api, job_id: str) -> dict[str, str]:
    folder = runtime_of(api).workspace.results_dir(job_id)
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def make_pdf(path: Path, pages: list[str]) -> Path:
    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 6, text)
    pdf.output(str(path))
    return path
