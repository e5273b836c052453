"""Revisions over real HTTP: a completed job re-run with a reviewer's verdicts. The
refusals, the new job's lineage and plan, and (once the flow asks evidence_review) the
revision's recorded decisions and recomputed results."""

import csv
import io
import json
import zipfile
from typing import Any

import pytest

from litgap.review import PROMPT_TYPE
from tests.evidence_helpers import (
    report_of,
    results_digest,
    run_sample,
    runtime_of,
    sub_with_evidence,
    subs_of,
    wait_job,
)
from tests.integration.conftest import Api


@pytest.fixture
def done(api: Api) -> str:
    job_id: str = run_sample(api)["job_id"]
    return job_id


def revise(api: Api, job_id: str, body: dict[str, Any], who: str = "operator") -> Any:
    return api.post(f"/api/jobs/{job_id}/revisions", json=body, who=who)


def reject_all(
    report: dict[str, Any], sub: dict[str, Any], note: str = "off topic"
) -> dict[str, Any]:
    return {
        "verdicts": [{"evidence_id": e["evidence_id"], "verdict": "reject", "note": note,
                      "sub_requirement": sub["id"]} for e in sub["evidence"]],
        "note": "second reading",
    }  # fmt: skip


def job_count(api: Api) -> int:
    return len(api.get("/api/jobs", params={"limit": 200}).json()["jobs"])


def test_no_verdicts_is_422(api: Api, done: str) -> None:
    response = revise(api, done, {"verdicts": []})
    assert response.status_code == 422
    assert response.json()["detail"] == "verdicts: give at least one verdict"


def test_unknown_evidence_ids_are_422_and_named(api: Api, done: str) -> None:
    before = job_count(api)
    response = revise(
        api, done, {"verdicts": [{"evidence_id": "feedfacefeedface", "verdict": "accept"}]}
    )
    assert response.status_code == 422
    assert response.json()["detail"] == (
        "unknown evidence ids (not passages of this job's report): 'feedfacefeedface'"
    )
    assert job_count(api) == before


def test_conflicting_verdicts_for_one_id_are_422(api: Api, done: str) -> None:
    eid = subs_of(report_of(api, done))[0]["evidence"][0]["evidence_id"]
    body = {"verdicts": [{"evidence_id": eid, "verdict": "accept"},
                         {"evidence_id": eid, "verdict": "reject"}]}  # fmt: skip
    response = revise(api, done, body)
    assert response.status_code == 422
    assert response.json()["detail"] == (
        f"conflicting verdicts for evidence {eid!r}: accept and reject"
    )


def test_a_verdict_other_than_accept_or_reject_is_422(api: Api, done: str) -> None:
    eid = subs_of(report_of(api, done))[0]["evidence"][0]["evidence_id"]
    response = revise(api, done, {"verdicts": [{"evidence_id": eid, "verdict": "maybe"}]})
    assert response.status_code == 422


def test_a_job_that_has_not_completed_is_409(api: Api) -> None:
    job_id = api.post("/api/jobs", json={"sample": True}).json()["job_id"]
    response = revise(
        api, job_id, {"verdicts": [{"evidence_id": "feedfacefeedface", "verdict": "accept"}]}
    )
    assert response.status_code == 409
    assert response.json()["detail"] == (
        f"job {job_id!r} is draft: only a completed job can be revised"
    )


def test_a_viewer_cannot_revise(api: Api, done: str) -> None:
    sub = sub_with_evidence(report_of(api, done))
    response = revise(api, done, reject_all({}, sub), who="viewer")
    assert response.status_code == 403


def test_a_revision_is_a_new_job_naming_its_original(api: Api, done: str) -> None:
    sub = sub_with_evidence(report_of(api, done))
    response = revise(api, done, reject_all({}, sub))
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["revision_of"] == done and created["job_id"] != done
    job = wait_job(api, created["job_id"])
    assert (job["parent_job_id"], job["relation"], job["revision_of"]) == (
        done, "revision_of", done,
    )  # fmt: skip
    runtime = runtime_of(api)
    runtime.docs.flush()
    document = json.loads(runtime.workspace.document(created["job_id"]).read_text())
    assert (document["revision_of"], document["relation"]) == (done, "revision_of")


def test_the_revisions_plan_holds_the_verdicts_as_the_reviewers_answers(
    api: Api, done: str
) -> None:
    sub = sub_with_evidence(report_of(api, done))
    created = revise(api, done, reject_all({}, sub)).json()
    config = api.get(f"/api/jobs/{created['job_id']}").json()["config"]
    planned = [a for a in config["replay_answers"] if a["type"] == PROMPT_TYPE]
    # A verdict holds for the passage wherever it is evidence: every sub-requirement
    # listing a judged passage gets a review, this one first (framework order).
    assert {(str(a["response"]), a["source"], a["answered_by"], a["note"]) for a in planned} == {
        ("[]", "user", "operator", "second reading")
    }
    assert [a["occurrence"] for a in planned] == list(range(1, len(planned) + 1))
    assert config["evidence_verdicts"] == {e["evidence_id"]: "reject" for e in sub["evidence"]}
    assert config["evidence_reviews"][0]["id"] == sub["id"]
    wait_job(api, created["job_id"])


def test_the_originals_results_are_unchanged_by_a_revision(api: Api, done: str) -> None:
    before = results_digest(api, done)
    sub = sub_with_evidence(report_of(api, done))
    created = revise(api, done, reject_all({}, sub)).json()
    wait_job(api, created["job_id"])
    assert results_digest(api, done) == before


def test_the_revisions_flow_records_an_evidence_review_decision(api: Api, done: str) -> None:
    sub = sub_with_evidence(report_of(api, done))
    created = revise(api, done, reject_all({}, sub)).json()
    job = wait_job(api, created["job_id"])
    record = next(p for p in job["prompts"] if p["type"] == PROMPT_TYPE)
    assert (record["response"], record["source"], record["answered_by"], record["note"]) == (
        [], "user", "operator", "second reading",
    )  # fmt: skip
    data = record["prompt_data"]
    assert (data["sub_requirement"], data["text"]) == (sub["id"], sub["text"])
    assert [p["evidence_id"] for p in data["passages"]] == [
        e["evidence_id"] for e in sub["evidence"]
    ]
    assert all(p["fingerprint"] and p["page"] == e["page"]
               for p, e in zip(data["passages"], sub["evidence"], strict=True))  # fmt: skip


def test_rejecting_a_subs_passages_lowers_its_completeness(api: Api, done: str) -> None:
    sub = next(s for s in subs_of(report_of(api, done)) if s["completeness"] > 0 and s["evidence"])
    created = revise(api, done, reject_all({}, sub)).json()
    assert wait_job(api, created["job_id"])["status"] == "completed"
    revised = {s["id"]: s for s in subs_of(report_of(api, created["job_id"]))}
    assert revised[sub["id"]]["completeness"] < sub["completeness"]
    assert all(e["verdict"] == "reject" for e in revised[sub["id"]]["evidence"]
               if e["evidence_id"] in {x["evidence_id"] for x in sub["evidence"]})  # fmt: skip


def test_a_replay_of_a_revision_reproduces_it(api: Api, done: str) -> None:
    sub = sub_with_evidence(report_of(api, done))
    revision = revise(api, done, reject_all({}, sub)).json()["job_id"]
    wait_job(api, revision)
    replay = api.post(f"/api/jobs/{revision}/replay").json()["job_id"]
    wait_job(api, replay)
    result = api.get(f"/api/jobs/{revision}/diff/{replay}").json()
    assert result["reproduced"] and result["verdict"] == "reproduced exactly"
    assert any(d["type"] == PROMPT_TYPE for d in result["decisions"])


def test_the_diff_names_the_verdicts_behind_a_change(api: Api, done: str) -> None:
    sub = next(s for s in subs_of(report_of(api, done)) if s["completeness"] > 0 and s["evidence"])
    revision = revise(api, done, reject_all({}, sub)).json()["job_id"]
    wait_job(api, revision)
    results = api.get(f"/api/jobs/{done}/diff/{revision}").json()["results"]
    changed = {c["id"]: c for c in results["subrequirements"]}
    assert set(changed[sub["id"]]["verdicts"]) == {e["evidence_id"] for e in sub["evidence"]}


def test_verdicts_show_in_user_decisions_and_the_export(api: Api, done: str) -> None:
    sub = sub_with_evidence(report_of(api, done))
    revision = revise(api, done, reject_all({}, sub, note="wrong catchment")).json()["job_id"]
    wait_job(api, revision)
    found = api.get(
        f"/api/jobs/{revision}/prompts", params={"type": PROMPT_TYPE, "q": "wrong catchment"}
    )
    # One record, under the sub-requirement the passages were judged in.
    records = found.json()["prompts"]
    assert [r["prompt_data"]["sub_requirement"] for r in records] == [sub["id"]]
    archive = zipfile.ZipFile(io.BytesIO(api.get(f"/api/jobs/{revision}/download").content))
    rows = list(csv.DictReader(io.StringIO(archive.read("evidence_review.csv").decode())))
    assert [r["sub_requirement"] for r in rows] == [sub["id"]] * len(sub["evidence"])
    assert {r["verdict"] for r in rows} == {"reject"}
