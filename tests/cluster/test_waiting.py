"""Waiting jobs in a cluster: a deadline continues a job with no one holding it, and a
cancel stops a waiting job for good."""

from collections.abc import Callable
from typing import Any

from tests.cluster.conftest import Cluster, read_events


def _is(job_id: str, kind: str, **match: object) -> Callable[[dict[str, Any]], bool]:
    return lambda e: (
        e["type"] == kind
        and e["data"].get("job_id") == job_id
        and all(e["data"].get(k) == v for k, v in match.items())
    )


def test_a_deadline_continues_the_job_with_the_default(cluster: Cluster) -> None:
    cluster.start_worker()
    with cluster.server.client() as http, cluster.server.events() as ws:
        job_id = http.post(
            "/api/jobs",
            json={
                "sample": True,
                "config": {"pillar_selections": "ALL", "prompt_timeouts": {"run_mode": 1}},
            },
        ).json()["job_id"]
        http.post(f"/api/jobs/{job_id}/start")
        [asked] = [e["data"] for e in read_events(ws, _is(job_id, "prompt_request"))[-1:]]
        resolved = read_events(ws, _is(job_id, "prompt_resolved"))[-1]["data"]
        read_events(ws, _is(job_id, "job_update", status="completed"))
        job = http.get(f"/api/jobs/{job_id}").json()
    assert resolved["prompt_id"] == asked["prompt_id"]
    [record] = job["prompts"]
    assert (record["status"], record["response"], record["applied"], record["source"]) == (
        "timed_out",
        None,
        "ONCE",
        "timeout_default",
    )
    assert record["timestamp"] >= asked["deadline"]


def test_cancelling_a_waiting_job_ends_it_and_its_prompt(cluster: Cluster) -> None:
    cluster.start_worker()
    with cluster.server.client() as http, cluster.server.events() as ws:
        job_id = http.post("/api/jobs", json={"sample": True}).json()["job_id"]
        http.post(f"/api/jobs/{job_id}/start")
        asked = read_events(ws, _is(job_id, "prompt_request"))[-1]["data"]
        read_events(ws, _is(job_id, "job_update", status="waiting_input"))
        assert http.post(f"/api/jobs/{job_id}/cancel").status_code == 202
        late = http.post(f"/api/prompts/{asked['prompt_id']}/respond", json={"response": "ALL"})
        job = http.get(f"/api/jobs/{job_id}").json()
    assert late.status_code == 409
    assert job["status"] == "cancelled" and job["pending_prompts"] == []
    assert [(p["prompt_id"], p["status"]) for p in job["prompts"]] == [
        (asked["prompt_id"], "cancelled")
    ]
    assert [r for r in cluster.queue_rows() if r["lock"] == job_id and r["status"] == "todo"] == []
