"""Screening as recorded decisions, and the PRISMA 2020 flow of every corpus: in-run
`screening` prompts (config.screening: ask), the flow's arithmetic on a corpus with
every kind of record, replay, and screening revisions made from the finished job."""

import csv
import io
import json
from pathlib import Path
from typing import Any

from tests.evidence_helpers import make_pdf, report_of, results_digest, runtime_of, wait_job
from tests.integration.conftest import Api

FIXTURES = Path(__file__).parents[1] / "fixtures" / "prisma"
EXCLUDED = "first-flush.md"
OFF_TOPIC = "exclude: off topic"
CONFIG = {"pillar_selections": "ALL", "run_mode": "ONCE", "screening": "ask"}


def every_kind(tmp: Path) -> list[tuple[str, tuple[str, bytes, str]]]:
    """PDF, TXT, MD, research-database CSV, .bib and .ris; a file sent twice (left out
    at upload), a CSV row whose DOI a BibTeX entry has, an unreadable PDF, and a
    library entry with nothing to read."""
    files = {p.name: p.read_bytes() for p in sorted(FIXTURES.iterdir())}
    files["roof-yield-copy.txt"] = files["roof-yield.txt"]
    files["tank-sizing.pdf"] = make_pdf(
        tmp / "tank-sizing.pdf",
        [
            "Tank sizing for rainwater harvesting. We sized tanks from daily rainfall and "
            "demand; a tank of three cubic metres met most of the demand of a household."
        ],
    ).read_bytes()
    files["broken.pdf"] = b"%PDF-1.4 these bytes are not a PDF document"
    return [("files", (name, data, "application/octet-stream")) for name, data in files.items()]


def create(api: Api, tmp: Path, config: dict[str, Any]) -> str:
    response = api.post("/api/jobs", files=every_kind(tmp), data={"config": json.dumps(config)})
    assert response.status_code == 201, response.text
    job_id: str = response.json()["job_id"]
    return job_id


def run_screening(api: Api, job_id: str, answers: dict[str, str]) -> tuple[dict[str, Any], list]:
    """Start the job, answer each screening prompt from `answers` by paper (include
    when not named), with a note on each exclusion; returns the job and the prompts."""
    asked = []
    with api.events() as ws:
        assert api.post(f"/api/jobs/{job_id}/start").status_code == 202
        while True:
            event = ws.receive_json()
            data = event["data"]
            if data.get("job_id") != job_id:
                continue
            if event["type"] == "prompt_request":
                assert data["type"] == "screening"
                asked.append(data)
                answer = answers.get(data["prompt_data"]["paper"], "include")
                body = {"response": answer}
                if answer != "include":
                    body["note"] = "about roofs, not first flush"
                response = api.post(f"/api/prompts/{data['prompt_id']}/respond", json=body)
                assert response.status_code == 200, response.text
            elif event["type"] == "job_update" and data.get("status") in (
                "completed",
                "failed",
                "cancelled",
                "interrupted",
            ):
                break
    job = api.get(f"/api/jobs/{job_id}").json()
    assert job["status"] == "completed", job["error"]
    return job, asked


def flow_csv(api: Api, job_id: str) -> list[dict[str, str]]:
    text = (runtime_of(api).workspace.results_dir(job_id) / "prisma_flow.csv").read_text()
    return list(csv.DictReader(io.StringIO(text)))


def cell(rows: list[dict[str, str]], step: str, detail: str = "", scope: str = "all") -> int:
    found = [r for r in rows if (r["scope"], r["step"], r["detail"]) == (scope, step, detail)]
    assert len(found) == 1, (scope, step, detail)
    return int(found[0]["count"])


def details(rows: list[dict[str, str]], step: str, scope: str = "all") -> dict[str, int]:
    return {
        r["detail"]: int(r["count"])
        for r in rows
        if r["scope"] == scope and r["step"] == step and r["detail"]
    }


def test_the_prisma_flow_adds_up_on_a_corpus_with_every_kind_of_record(
    api: Api, tmp_path: Path
) -> None:
    job_id = create(api, tmp_path, CONFIG)
    job, asked = run_screening(api, job_id, {EXCLUDED: OFF_TOPIC})
    rows = flow_csv(api, job_id)
    identified, duplicates = cell(rows, "identified"), cell(rows, "duplicates removed")
    unreadable, screened = cell(rows, "unreadable or over limits"), cell(rows, "screened")
    excluded, included = cell(rows, "excluded"), cell(rows, "included")
    # The arithmetic, as PRISMA 2020 draws it.
    assert identified - duplicates - unreadable == screened
    assert screened - excluded == included
    assert sum(details(rows, "identified").values()) == identified
    assert sum(details(rows, "duplicates removed").values()) == duplicates
    assert sum(details(rows, "unreadable or over limits").values()) == unreadable
    assert sum(details(rows, "excluded").values()) == excluded
    # And the numbers themselves, record by record.
    assert details(rows, "identified") == {
        "BibTeX: library.bib": 3,  # two entries with abstracts, one with nothing to read
        "Markdown uploads": 1,
        "PDF uploads": 2,  # one readable, one not
        "RIS: library.ris": 2,
        "TXT uploads": 2,  # one sent twice: left out when the job was made
        "research database: database.csv": 3,
    }
    assert (identified, duplicates, unreadable, screened, excluded, included) == (13, 2, 2, 9, 1, 8)
    assert details(rows, "duplicates removed") == {"same DOI": 1, "same content": 1}
    assert set(details(rows, "unreadable or over limits")) == {
        "corrupt PDF: Failed to load document (PDFium: Data format error).",
        "library entry without an abstract or an attached PDF",
    }
    assert details(rows, "excluded") == {"off topic": 1}
    assert details(rows, "excluded at stage") == {"title/abstract": 1}
    # One prompt per screened paper; the exclusion is a recorded decision like any other.
    assert len(asked) == screened
    records = [p for p in job["prompts"] if p["type"] == "screening"]
    assert [r["prompt_data"]["paper"] for r in records] == sorted(
        a["prompt_data"]["paper"] for a in asked
    )
    out = next(r for r in records if r["prompt_data"]["paper"] == EXCLUDED)
    assert (out["applied"], out["source"], out["answered_by"]) == (OFF_TOPIC, "user", "operator")
    assert out["note"] == "about roofs, not first flush"
    assert out["prompt_data"]["stage"] == "title_abstract"
    assert out["prompt_data"]["options"][:2] == ["include", OFF_TOPIC]
    # The excluded paper is no part of the analysis.
    report = report_of(api, job_id)
    assert EXCLUDED not in {p["id"] for p in report["corpus"]["papers"]}
    assert report["summary"]["papers"] == included
    passages = [
        e["paper"]
        for p in report["pillars"]
        for r in p["requirements"]
        for s in r["sub_requirements"]
        for e in s["evidence"]
    ]
    assert passages and EXCLUDED not in passages
    assert report["prisma"]["totals"]["included"] == included
    results = runtime_of(api).workspace.results_dir(job_id)
    svg = (results / "prisma_flow.svg").read_text()
    assert '<title id="chart-title">PRISMA 2020 flow diagram</title>' in svg
    assert "13 records identified" in svg and "off topic: 1" in svg
    markdown = (results / "report.md").read_text()
    assert "## PRISMA 2020 flow" in markdown and "| **Included** | 8 |" in markdown
    assert "- first-flush.md: off topic (title/abstract)" in markdown
    html = (results / "report.html").read_text()
    assert 'id="prisma"' in html and "first-flush.md: off topic (title/abstract)" in html


def test_a_reason_not_on_the_list_is_refused_naming_the_options(api: Api) -> None:
    response = api.post("/api/jobs", json={"sample": True, "config": CONFIG})
    job_id = response.json()["job_id"]
    with api.events() as ws:
        assert api.post(f"/api/jobs/{job_id}/start").status_code == 202
        ask = api.next_prompt(ws, job_id)
        answer = api.post(
            f"/api/prompts/{ask['prompt_id']}/respond", json={"response": "exclude: too long"}
        )
        assert answer.status_code == 422
        options = ", ".join(repr(o) for o in ask["prompt_data"]["options"])
        assert answer.json()["detail"] == (
            f"invalid response to prompt {ask['prompt_id']!r}: 'exclude: too long' is not "
            f"an option; allowed values: {options}"
        )
        assert api.post(f"/api/jobs/{job_id}/cancel").status_code == 202


def test_replaying_a_screened_job_reproduces_its_results_byte_for_byte(
    api: Api, tmp_path: Path
) -> None:
    job_id = create(api, tmp_path, CONFIG)
    run_screening(api, job_id, {EXCLUDED: OFF_TOPIC})
    response = api.post(f"/api/jobs/{job_id}/replay", json={})
    assert response.status_code == 201, response.text
    replay = wait_job(api, response.json()["job_id"])
    assert replay["status"] == "completed", replay["error"]
    screening = [p for p in replay["prompts"] if p["type"] == "screening"]
    assert screening and {p["source"] for p in screening} == {"replay"}
    # report.html and the radar name the job and draw its original: those differ.
    mine, theirs = results_digest(api, replay["job_id"]), results_digest(api, job_id)
    for name in ("report.html", "pillars_radar.svg"):
        del mine[name], theirs[name]
    assert mine == theirs and "prisma_flow.svg" in mine and "prisma_flow.csv" in mine


def test_screening_on_the_finished_job_makes_a_revision_that_carries_earlier_decisions(
    api: Api, tmp_path: Path
) -> None:
    job_id = create(api, tmp_path, CONFIG)
    run_screening(api, job_id, {EXCLUDED: OFF_TOPIC})
    state = api.get(f"/api/jobs/{job_id}/screening").json()
    assert state["reasons"][0] == "off topic" and state["stages"] == ["title_abstract", "full_text"]
    by_paper = {p["paper"]: p for p in state["papers"]}
    assert by_paper[EXCLUDED]["excluded"] and by_paper[EXCLUDED]["reason"] == "off topic"
    other = "library.ris entry 2"
    body = {
        "choices": [
            {"paper": other, "decision": "exclude", "reason": "wrong population", "note": "Brazil"}
        ],
        "note": "second look",
    }
    response = api.post(f"/api/jobs/{job_id}/screening", json=body)
    assert response.status_code == 201, response.text
    assert response.json()["revision_of"] == job_id
    revision = wait_job(api, response.json()["job_id"])
    assert revision["status"] == "completed", revision["error"]
    records = {
        p["prompt_data"]["paper"]: p for p in revision["prompts"] if p["type"] == "screening"
    }
    # The new choice is the reviewer's; the in-run exclusion is carried with its author.
    mine = records[other]
    assert (mine["applied"], mine["source"], mine["answered_by"], mine["note"]) == (
        "exclude: wrong population",
        "user",
        "operator",
        "Brazil",
    )
    assert mine["prompt_data"]["stage"] == "full_text"
    assert records[EXCLUDED]["applied"] == OFF_TOPIC
    assert records[EXCLUDED]["answered_by"] == "operator"
    report = report_of(api, revision["job_id"])
    papers = {p["id"] for p in report["corpus"]["papers"]}
    assert EXCLUDED not in papers and other not in papers
    totals = report["prisma"]["totals"]
    assert (totals["excluded"], totals["included"]) == (2, 7)
    assert totals["excluded_by_stage"] == [
        {"name": "full_text", "count": 1},
        {"name": "title_abstract", "count": 1},
    ]
    # Putting a paper back in is a choice too.
    back = {"choices": [{"paper": EXCLUDED, "decision": "include"}]}
    response = api.post(f"/api/jobs/{revision['job_id']}/screening", json=back)
    assert response.status_code == 201, response.text
    again = wait_job(api, response.json()["job_id"])
    assert again["status"] == "completed", again["error"]
    again_report = report_of(api, again["job_id"])
    assert EXCLUDED in {p["id"] for p in again_report["corpus"]["papers"]}
    assert again_report["prisma"]["totals"]["excluded"] == 1


def test_screening_choices_are_checked_with_exact_messages(api: Api, tmp_path: Path) -> None:
    job_id = create(api, tmp_path, {"pillar_selections": "ALL", "run_mode": "ONCE"})
    with api.events() as ws:
        assert api.post(f"/api/jobs/{job_id}/start").status_code == 202
        assert api.wait_finished(ws, job_id)["status"] == "completed"
    reasons = api.get(f"/api/jobs/{job_id}/screening").json()["reasons"]
    paper = EXCLUDED

    def refused(choices: list[dict[str, Any]], status: int = 422) -> str:
        response = api.post(f"/api/jobs/{job_id}/screening", json={"choices": choices})
        assert response.status_code == status, response.text
        detail: str = response.json()["detail"]
        return detail

    assert refused([]) == "choices: give at least one screening choice"
    assert refused([{"paper": "nope.pdf", "decision": "include"}]) == (
        "unknown papers (not papers of this job's corpus): 'nope.pdf'"
    )
    assert refused([{"paper": paper, "decision": "exclude", "reason": "boring"}]) == (
        f"choice for {paper!r}: unknown reason 'boring'; the reasons are {reasons}"
    )
    assert refused([{"paper": paper, "decision": "exclude"}]) == (
        f"choice for {paper!r}: exclude needs a reason, one of {reasons}"
    )
    assert refused([{"paper": paper, "decision": "include", "reason": "off topic"}]) == (
        f"choice for {paper!r}: include takes no reason"
    )
    assert (
        refused(
            [
                {"paper": paper, "decision": "exclude", "reason": "off topic"},
                {"paper": paper, "decision": "include"},
            ]
        )
        == f"conflicting choices for paper {paper!r}: exclude: off topic and include"
    )
    everyone = [
        {"paper": p["paper"], "decision": "exclude", "reason": "other"}
        for p in api.get(f"/api/jobs/{job_id}/screening").json()["papers"]
    ]
    assert refused(everyone) == "every paper of the job would be excluded: include at least one"
    choice = {"paper": paper, "decision": "exclude", "reason": "off topic"}
    response = api.post(f"/api/jobs/{job_id}/screening", json={"choices": [choice]}, who="viewer")
    assert response.status_code == 403
    draft = api.post("/api/jobs", json={"sample": True, "config": {}}).json()["job_id"]
    response = api.post(f"/api/jobs/{draft}/screening", json={"choices": [choice]})
    assert response.status_code == 409
    assert response.json()["detail"] == (
        f"job {draft!r} is draft: only a completed job can be revised"
    )


def test_a_continuation_carries_the_screening_and_asks_only_about_new_papers(
    api: Api, tmp_path: Path
) -> None:
    job_id = create(api, tmp_path, CONFIG)
    run_screening(api, job_id, {EXCLUDED: OFF_TOPIC})
    new = FIXTURES.parent / "prisma" / "roof-yield.txt"
    added = (
        "files",
        (
            "gutter-guards.txt",
            b"Gutter guards and leaf screens\n\n"
            b"Leaf screens on gutters kept tanks cleaner; turbidity fell.",
            "text/plain",
        ),
    )
    response = api.post(f"/api/jobs/{job_id}/continue", files=[added])
    assert response.status_code == 201, response.text
    child_id = response.json()["job_id"]
    asked: list[str] = []
    with api.events() as ws:
        job = api.get(f"/api/jobs/{child_id}").json()
        while job["status"] not in ("completed", "failed", "cancelled", "interrupted"):
            event = ws.receive_json()
            data = event["data"]
            if data.get("job_id") != child_id:
                continue
            if event["type"] == "prompt_request":
                asked.append(data["prompt_data"]["paper"])
                api.post(f"/api/prompts/{data['prompt_id']}/respond", json={"response": "include"})
            elif event["type"] == "job_update" and data.get("status"):
                job = api.get(f"/api/jobs/{child_id}").json()
    assert job["status"] == "completed", job["error"]
    assert asked == ["gutter-guards.txt"] and new.exists()
    report = report_of(api, child_id)
    assert EXCLUDED not in {p["id"] for p in report["corpus"]["papers"]}
    prisma = report["prisma"]
    assert prisma["added"]["identified"] == 1 and prisma["added"]["included"] == 1
    assert (prisma["totals"]["identified"], prisma["totals"]["included"]) == (14, 9)
    rows = flow_csv(api, child_id)
    assert cell(rows, "included", scope="added") == 1 and cell(rows, "included") == 9
