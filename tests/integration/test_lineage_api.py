"""Continuation and lineage over real HTTP: POST /api/jobs/{id}/continue, duplicates
reported, ZIP libraries unpacked safely, GET /api/jobs/{id}/lineage, exports that
verify as a chain."""

import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from fpdf import FPDF
from typer.testing import CliRunner

from litgap.cli import app as cli_app
from litgap.settings import Settings
from litgap.web.app import create_app
from tests.integration.conftest import Api, make_users
from tests.integration.test_audit_api import replay, run_sample

FIXTURES = Path(__file__).parents[1] / "fixtures" / "library"
MENDEZ_PDF = "Mendez et al. - 2011 - The effect of roofing material on the quality of h.pdf"
NEW_PAPER = ("tank-cleaning.txt", b"Cleaning rainwater tanks\n\nSediment removal twice a year.")


@pytest.fixture
def api(api_settings: Settings) -> Iterator[Api]:
    tokens = make_users(api_settings)
    app = create_app(api_settings)
    with TestClient(app) as client:
        yield Api(app, client, tokens, api_settings)


def make_pdf(text: str) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=11)
    pdf.multi_cell(0, 6, text)
    return bytes(pdf.output())


def continue_job(
    api: Api, job_id: str, files: list[tuple[str, bytes]], **form: str
) -> dict[str, Any]:
    with api.events() as ws:
        response = api.post(
            f"/api/jobs/{job_id}/continue",
            files=[("files", (name, data)) for name, data in files],
            data=form,
        )
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        job = api.wait_finished(ws, created["job_id"])
    assert job["status"] == "completed", job["error"]
    return created


def test_continue_answers_201_naming_the_new_job_and_its_parent(api: Api) -> None:
    parent = run_sample(api)
    created = continue_job(api, parent["job_id"], [NEW_PAPER])
    assert created["continues"] == parent["job_id"]
    assert created["added"] == [
        {"name": "tank-cleaning.txt", "sha256": created["added"][0]["sha256"]}
    ]
    child = api.get(f"/api/jobs/{created['job_id']}").json()
    assert [p["source"] for p in child["prompts"]] == ["replay", "replay"]


def test_continue_of_a_job_that_has_not_completed_is_409(api: Api) -> None:
    draft = api.post("/api/jobs", json={"sample": True}).json()["job_id"]
    response = api.post(f"/api/jobs/{draft}/continue", files=[("files", NEW_PAPER)])
    assert response.status_code == 409
    assert response.json()["detail"] == (
        f"job {draft!r} is draft: only a completed job can be continued"
    )


def test_continue_as_a_viewer_is_403(api: Api) -> None:
    response = api.post("/api/jobs/job_abcdef/continue", who="viewer", files=[("files", NEW_PAPER)])
    assert response.status_code == 403


def test_a_pdf_of_a_paper_the_csv_already_has_is_reported_and_left_out(api: Api) -> None:
    parent = run_sample(api)
    report = api.get(f"/api/jobs/{parent['job_id']}/results/gap_analysis_report.json").json()
    row = next(p for p in report["corpus"]["papers"] if p["kind"] == "database row")
    pdf = FPDF()
    pdf.set_title(row["title"])
    pdf.add_page()
    pdf.set_font("helvetica", size=11)
    pdf.multi_cell(0, 6, "The full text of a paper the research database summarised.")
    files = [("same-paper.pdf", bytes(pdf.output())), NEW_PAPER]
    created = continue_job(api, parent["job_id"], files)
    [dup] = created["duplicates"]
    assert (dup["file"], dup["duplicate_of"], dup["reason"], dup["kept"]) == (
        "same-paper.pdf",
        row["id"],
        "same title",
        False,
    )
    assert [a["name"] for a in created["added"]] == ["tank-cleaning.txt"]


def test_continue_with_only_duplicates_is_422_and_creates_nothing(api: Api) -> None:
    parent = run_sample(api)
    before = len(api.get("/api/jobs").json()["jobs"])
    path = Path(api.settings.workspace) / "jobs" / parent["job_id"] / "inputs"
    same = (path / parent["inputs"][0]["path"]).read_bytes()
    response = api.post(
        f"/api/jobs/{parent['job_id']}/continue", files=[("files", ("x.txt", same))]
    )
    assert response.status_code == 422
    assert "nothing to add" in response.json()["detail"]
    assert len(api.get("/api/jobs").json()["jobs"]) == before


def test_a_zotero_export_with_files_as_a_zip_uses_the_pdf_full_text(api: Api) -> None:
    parent = run_sample(api)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "Exported Items/Exported Items.bib", (FIXTURES / "zotero.bib").read_bytes()
        )
        text = "Galvalume metal roofs gave the best harvested rainwater quality in the study."
        archive.writestr(f"Exported Items/files/17/{MENDEZ_PDF}", make_pdf(text))
    created = continue_job(api, parent["job_id"], [("library.zip", buffer.getvalue())])
    report = api.get(f"/api/jobs/{created['job_id']}/results/gap_analysis_report.json").json()
    papers = {p["id"]: p for p in report["corpus"]["papers"]}
    mendez = papers["Exported Items.bib [mendez_quality_2011]"]
    assert mendez["kind"] == "bibtex" and mendez["pages"] == 1
    assert MENDEZ_PDF not in papers


@pytest.mark.parametrize(
    ("entry", "reason"),
    [("../evil.txt", "points outside the archive"), ("/etc/evil.txt", "points outside")],
)
def test_a_zip_entry_outside_the_archive_is_422(api: Api, entry: str, reason: str) -> None:
    parent = run_sample(api)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(entry, "Some paper\n\ntext")
    response = api.post(
        f"/api/jobs/{parent['job_id']}/continue", files=[("files", ("x.zip", buffer.getvalue()))]
    )
    assert response.status_code == 422 and reason in response.json()["detail"]


def test_a_zip_symlink_is_422(api: Api) -> None:
    parent = run_sample(api)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        link = zipfile.ZipInfo("link.txt")
        link.external_attr = 0o120777 << 16
        archive.writestr(link, "/etc/passwd")
    response = api.post(
        f"/api/jobs/{parent['job_id']}/continue", files=[("files", ("x.zip", buffer.getvalue()))]
    )
    assert response.status_code == 422 and "is a symlink" in response.json()["detail"]


def test_lineage_of_original_continuation_replay(api: Api) -> None:
    original = run_sample(api)
    child = continue_job(api, original["job_id"], [NEW_PAPER])["job_id"]
    again = replay(api, child)["job_id"]
    lineage = api.get(f"/api/jobs/{again}/lineage").json()
    assert [(p["job_id"], p["relation"]) for p in lineage["parents"]] == [
        (child, "continues"),
        (original["job_id"], None),
    ]
    assert lineage["relation"] == "replay_of"
    tree = lineage["tree"]
    assert tree["job_id"] == original["job_id"]
    assert [(c["job_id"], c["relation"]) for c in tree["children"]] == [(child, "continues")]
    assert [(c["job_id"], c["relation"]) for c in tree["children"][0]["children"]] == [
        (again, "replay_of")
    ]
    middle = api.get(f"/api/jobs/{child}/lineage").json()
    assert [c["job_id"] for c in middle["children"]] == [again]


def test_the_job_list_names_each_job_parent(api: Api) -> None:
    original = run_sample(api)
    child = continue_job(api, original["job_id"], [NEW_PAPER])["job_id"]
    jobs = {j["job_id"]: j for j in api.get("/api/jobs").json()["jobs"]}
    assert (jobs[child]["parent_job_id"], jobs[child]["relation"]) == (
        original["job_id"],
        "continues",
    )


def test_exports_of_a_chain_verify_and_a_swapped_parent_does_not(api: Api, tmp_path: Path) -> None:
    original = run_sample(api)
    other = run_sample(api)
    child = continue_job(api, original["job_id"], [NEW_PAPER])["job_id"]
    paths = {}
    for job_id in (original["job_id"], other["job_id"], child):
        paths[job_id] = tmp_path / f"{job_id}.zip"
        paths[job_id].write_bytes(api.get(f"/api/jobs/{job_id}/download").content)
    with zipfile.ZipFile(paths[child]) as archive:
        lineage = json.loads(archive.read("LINEAGE.json"))
    assert lineage["parent_job_id"] == original["job_id"]
    assert lineage["relation"] == "continues"
    assert [a["name"] for a in lineage["added"]] == ["tank-cleaning.txt"]
    runner = CliRunner()
    good = runner.invoke(cli_app, ["verify", str(paths[original["job_id"]]), str(paths[child])])
    assert good.exit_code == 0, good.output
    assert "a chain of 2 archives" in good.output
    # Another job's archive made to claim the parent's id, its manifest rewritten to
    # match: it verifies alone, but it is not what the child was made from.
    forged = tmp_path / "forged.zip"
    entries: dict[str, bytes] = {}
    with zipfile.ZipFile(paths[other["job_id"]]) as source:
        for name in source.namelist():
            entries[name] = source.read(name)
    doc = json.loads(entries["job_data.json"])
    doc["job_id"] = original["job_id"]
    entries["job_data.json"] = json.dumps(doc).encode()
    entries["MANIFEST.sha256"] = "".join(
        f"{hashlib.sha256(data).hexdigest()}  {name}\n"
        for name, data in sorted(entries.items())
        if name != "MANIFEST.sha256"
    ).encode()
    with zipfile.ZipFile(forged, "w") as out:
        for name, data in entries.items():
            out.writestr(name, data)
    bad = runner.invoke(cli_app, ["verify", str(forged), str(paths[child])])
    assert bad.exit_code == 1
    assert "BROKEN CHAIN" in bad.output and "ALTERED" not in bad.output


def test_lineage_of_original_revision_continuation_replay_carries_verdicts(api: Api) -> None:
    original = run_sample(api)
    report = api.get(f"/api/jobs/{original['job_id']}/results/gap_analysis_report.json").json()
    evidence_id = next(
        e["evidence_id"]
        for p in report["pillars"]
        for r in p["requirements"]
        for s in r["sub_requirements"]
        for e in s["evidence"]
    )
    with api.events() as ws:
        response = api.post(
            f"/api/jobs/{original['job_id']}/revisions",
            json={"verdicts": [{"evidence_id": evidence_id, "verdict": "reject"}]},
        )
        assert response.status_code == 201, response.text
        revision = response.json()["job_id"]
        assert api.wait_finished(ws, revision)["status"] == "completed"
    created = continue_job(api, revision, [NEW_PAPER])
    child = api.get(f"/api/jobs/{created['job_id']}").json()
    assert child["config"]["evidence_verdicts"] == {evidence_id: "reject"}
    again = replay(api, created["job_id"])["job_id"]
    lineage = api.get(f"/api/jobs/{again}/lineage").json()
    assert [(p["job_id"], p["relation"]) for p in lineage["parents"]] == [
        (created["job_id"], "continues"),
        (revision, "revision_of"),
        (original["job_id"], None),
    ]
    assert lineage["tree"]["job_id"] == original["job_id"]
