"""The evidence API over real HTTP on a real completed job: a sub-requirement's
passages with highlights, all of them paged, the papers, their PDFs, and the precise
refusals."""

import json
import re
from pathlib import Path

import pytest

from litgap.pipeline.scorers.lexical import STOP_WORDS, TOKEN_PATTERN, light_stem
from litgap.services.evidence import highlights
from tests.evidence_helpers import (
    REPORT,
    make_pdf,
    report_of,
    run_job,
    run_sample,
    runtime_of,
    subs_of,
)
from tests.integration.conftest import Api


@pytest.fixture
def done(api: Api) -> str:
    job_id: str = run_sample(api)["job_id"]
    return job_id


def test_sub_evidence_lists_its_passages_best_first_with_its_context(api: Api, done: str) -> None:
    sub = subs_of(report_of(api, done))[0]
    body = api.get(f"/api/jobs/{done}/evidence", params={"sub": sub["id"]}, who="viewer").json()
    assert (body["sub_requirement"], body["text"], body["completeness"]) == (
        sub["id"], sub["text"], sub["completeness"],
    )  # fmt: skip
    assert body["requirement"]["id"].startswith("REQ-") and body["pillar"]
    ranks = [p["rank"] for p in body["passages"]]
    scores = [p["score"] for p in body["passages"]]
    assert ranks == sorted(ranks) and scores == sorted(scores, reverse=True)
    assert [p["evidence_id"] for p in body["passages"]] == [
        e["evidence_id"] for e in sub["evidence"]
    ]


def test_highlights_mark_words_sharing_a_stem_with_the_sub_requirement(api: Api, done: str) -> None:
    sub = subs_of(report_of(api, done))[0]
    body = api.get(f"/api/jobs/{done}/evidence", params={"sub": sub["id"]}).json()
    wanted = {
        light_stem(w.lower())
        for w in re.findall(TOKEN_PATTERN, sub["text"])
        if w.lower() not in STOP_WORDS
    }
    marked = 0
    for passage in body["passages"]:
        for start, end in passage["highlights"]:
            assert light_stem(passage["text"][start:end].lower()) in wanted
            marked += 1
    assert marked > 0


def test_highlights_fold_plurals_and_skip_stop_words() -> None:
    text = "The roofs and the tank"
    assert highlights(text, "roof of a tank") == [[4, 9], [18, 22]]


def test_all_evidence_is_paged_in_framework_order(api: Api, done: str) -> None:
    ids = [s["id"] for s in subs_of(report_of(api, done))]
    first = api.get(f"/api/jobs/{done}/evidence", params={"limit": 2}).json()
    second = api.get(f"/api/jobs/{done}/evidence", params={"offset": 2, "limit": 2}).json()
    assert first["total"] == len(ids)
    assert [i["sub_requirement"] for i in first["items"] + second["items"]] == ids[:4]


def test_a_page_over_the_limit_is_422(api: Api, done: str) -> None:
    response = api.get(f"/api/jobs/{done}/evidence", params={"limit": 201})
    assert response.status_code == 422
    assert response.json()["detail"].startswith("query -> limit")


def test_an_unknown_sub_requirement_is_404_naming_it(api: Api, done: str) -> None:
    response = api.get(f"/api/jobs/{done}/evidence", params={"sub": "Sub-nope"})
    assert response.status_code == 404
    assert response.json()["detail"] == (
        f"job {done!r} has no sub-requirement 'Sub-nope' in its report"
    )


def test_a_job_not_yet_run_is_409(api: Api) -> None:
    job_id = api.post("/api/jobs", json={"sample": True}).json()["job_id"]
    response = api.get(f"/api/jobs/{job_id}/evidence")
    assert response.status_code == 409
    assert response.json()["detail"] == (
        f"job {job_id!r} is draft: its evidence is in the report it writes when it completes"
    )


def test_a_report_made_before_evidence_ids_is_409(api: Api, done: str) -> None:
    path = runtime_of(api).workspace.results_dir(done) / REPORT
    old = json.loads(path.read_bytes())
    path.write_text(json.dumps({**old, "schema_version": 1}))
    response = api.get(f"/api/jobs/{done}/papers")
    assert response.status_code == 409
    assert "schema_version 1" in response.json()["detail"]


def test_a_completed_job_without_a_report_is_404(api: Api, done: str) -> None:
    (runtime_of(api).workspace.results_dir(done) / REPORT).unlink()
    response = api.get(f"/api/jobs/{done}/evidence")
    assert response.status_code == 404
    assert response.json()["detail"] == f"job {done!r} has no results/{REPORT}"


def test_papers_name_the_sub_requirements_they_support(api: Api, done: str) -> None:
    report = report_of(api, done)
    body = api.get(f"/api/jobs/{done}/papers", who="viewer").json()
    assert [p["paper"] for p in body["papers"]] == [p["id"] for p in report["corpus"]["papers"]]
    texts = {s["id"]: s["text"] for s in subs_of(report)}
    supported = [s for p in body["papers"] for s in p["supports"]]
    assert supported and all(s["text"] == texts[s["sub_requirement"]] for s in supported)
    assert all("year" in p and "title" in p for p in body["papers"])


def test_evidence_needs_authentication(api: Api, done: str) -> None:
    assert api.client.get(f"/api/jobs/{done}/evidence").status_code == 401
    assert api.client.get(f"/api/jobs/{done}/papers/0/file").status_code == 401


PDF_TEXT = (
    "Roof catchment yield estimated from rainfall depth and roof area matched metered "
    "inflow within ten percent on fourteen school roofs in the survey. "
) * 6


@pytest.fixture
def pdf_job(api: Api, tmp_path: Path) -> str:
    pdf = make_pdf(tmp_path / "roofs.pdf", ["Introduction to the survey.", PDF_TEXT])
    files = [
        ("files", ("roofs.pdf", pdf.read_bytes(), "application/pdf")),
        (
            "files",
            ("notes.txt", b"First flush diverters keep debris out of tanks. " * 20, "text/plain"),
        ),
    ]
    response = api.post("/api/jobs", files=files, data={"config": '{"run_mode": "ONCE"}'})
    assert response.status_code == 201, response.text
    job_id: str = response.json()["job_id"]
    run_job(api, job_id, answers=("ALL",))
    return job_id


def test_a_pdf_input_is_served_inline_as_pdf(api: Api, pdf_job: str, tmp_path: Path) -> None:
    papers = api.get(f"/api/jobs/{pdf_job}/papers").json()["papers"]
    url = next(p["file_url"] for p in papers if p["paper"].endswith(".pdf") or p["kind"] == "pdf")
    response = api.get(url, who="viewer")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith("inline")
    assert response.content == (tmp_path / "roofs.pdf").read_bytes()


def test_a_pdf_passage_links_its_page(api: Api, pdf_job: str) -> None:
    items = api.get(f"/api/jobs/{pdf_job}/evidence").json()["items"]
    linked = [p for i in items for p in i["passages"] if p["file_url"]]
    assert linked and all(p["file_url"].endswith(f"#page={p['page']}") for p in linked)


def test_an_input_that_is_not_a_pdf_is_not_served(api: Api, pdf_job: str) -> None:
    inputs = api.get(f"/api/jobs/{pdf_job}").json()["inputs"]
    n = next(i for i, item in enumerate(inputs) if item["name"] == "notes.txt")
    response = api.get(f"/api/jobs/{pdf_job}/papers/{n}/file")
    assert response.status_code == 404
    assert response.json()["detail"] == f"job {pdf_job!r}: input {n} ('notes.txt') is not a PDF"


def test_an_input_number_out_of_range_is_404(api: Api, pdf_job: str) -> None:
    response = api.get(f"/api/jobs/{pdf_job}/papers/99/file")
    assert response.status_code == 404
    assert "has no input file 99" in response.json()["detail"]


def test_a_path_in_place_of_an_input_number_is_refused(api: Api, pdf_job: str) -> None:
    response = api.get(f"/api/jobs/{pdf_job}/papers/..%2Fjob_data.json/file")
    assert response.status_code in (404, 422)
