"""In-run evidence review (`review_evidence` config): the flow asks an evidence_review
prompt per gap after iteration 1, and the answers steer the report."""

from typing import Any

from tests.evidence_helpers import report_of, subs_of
from tests.integration.conftest import Api

END = ("completed", "failed", "cancelled", "interrupted")


def start(api: Api, config: dict[str, Any]) -> str:
    response = api.post("/api/jobs", json={"sample": True, "config": config})
    assert response.status_code == 201, response.text
    job_id: str = response.json()["job_id"]
    return job_id


def test_rejecting_every_passage_of_a_reviewed_gap_leaves_it_without_counted_evidence(
    api: Api,
) -> None:
    job_id = start(api, {"pillar_selections": "ALL", "run_mode": "ONCE", "review_evidence": "gaps"})
    asked: list[dict[str, Any]] = []
    with api.events() as ws:
        assert api.post(f"/api/jobs/{job_id}/start").status_code == 202
        while True:
            event = ws.receive_json()
            data = event["data"]
            if data.get("job_id") != job_id:
                continue
            if event["type"] == "prompt_request":
                assert data["type"] == "evidence_review"
                asked.append(data)
                answer = api.post(
                    f"/api/prompts/{data['prompt_id']}/respond", json={"response": []}
                )
                assert answer.status_code == 200, answer.text
            elif event["type"] == "job_update" and data.get("status") in END:
                break
    job = api.get(f"/api/jobs/{job_id}").json()
    assert job["status"] == "completed", job["error"]
    assert asked, "the sample has gaps, so the flow must ask about them"
    report = report_of(api, job_id)
    rejected = {eid for p in asked for eid in p["prompt_data"]["options"]}
    assert set(report["verdicts"]) == rejected and set(report["verdicts"].values()) == {"reject"}
    reviewed = {p["prompt_data"]["sub_requirement"] for p in asked}
    for sub in subs_of(report):
        if sub["id"] in reviewed:
            assert all(
                e["verdict"] == "reject" for e in sub["evidence"] if e["evidence_id"] in rejected
            )


def test_an_unanswered_review_applies_the_machines_judgement(api: Api) -> None:
    config = {
        "pillar_selections": "ALL",
        "run_mode": "ONCE",
        "review_evidence": "gaps",
        "prompt_timeouts": {"evidence_review": 1},
    }
    job_id = start(api, config)
    with api.events() as ws:
        assert api.post(f"/api/jobs/{job_id}/start").status_code == 202
        job = api.wait_finished(ws, job_id)
    assert job["status"] == "completed", job["error"]
    reviews = [r for r in job["prompts"] if r["type"] == "evidence_review"]
    assert reviews and all(
        r["source"] == "timeout_default" and r["response"] is None for r in reviews
    )
    assert all(r["applied"] == r["prompt_data"]["default"] for r in reviews)
