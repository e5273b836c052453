"""Nothing lost: a server killed during a prompt resumes its jobs at the next start."""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from litgap.runtime import open_runtime
from litgap.services.auth import Role, create_user
from litgap.settings import Settings
from tests.live import LiveServer


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    workspace = tmp_path / "ws"
    rt = open_runtime(Settings(workspace=workspace))
    _user, token = create_user(rt.engine, "ops", Role.OPERATOR)
    rt.close()
    live = LiveServer(workspace, token)
    yield live
    live.stop()


def test_killed_server_resumes_a_waiting_job_and_completes_its_history(
    server: LiveServer,
) -> None:
    server.start()
    with server.client() as http, server.events() as ws:
        job_id = http.post("/api/jobs", json={"sample": True}).json()["job_id"]
        http.post(f"/api/jobs/{job_id}/start")
        first = server.next_event(ws, "prompt_request", job_id)
        http.post(f"/api/prompts/{first['prompt_id']}/respond", json={"response": "ALL"})
        second = server.next_event(ws, "prompt_request", job_id)
        assert second["type"] == "run_mode"
    server.kill()

    server.start()
    with server.client() as http, server.events() as ws:
        [pending] = http.get("/api/prompts", params={"job_id": job_id}).json()["prompts"]
        assert pending["prompt_id"] == second["prompt_id"]
        assert pending["deadline"] == second["deadline"]
        http.post(f"/api/prompts/{pending['prompt_id']}/respond", json={"response": "ONCE"})
        server.next_event(ws, "job_update", job_id, status="completed")
        job = http.get(f"/api/jobs/{job_id}").json()
    assert job["status"] == "completed"
    assert [(p["type"], p["applied"]) for p in job["prompts"]] == [
        ("pillar_selection", "ALL"),
        ("run_mode", "ONCE"),
    ]
    document = json.loads((server.workspace / "jobs" / job_id / "job_data.json").read_text())
    assert [p["prompt_id"] for p in document["prompts"]] == [
        first["prompt_id"],
        second["prompt_id"],
    ]


def test_prompt_whose_deadline_passed_during_the_outage_times_out_with_its_default(
    server: LiveServer,
) -> None:
    import time

    server.start()
    with server.client() as http, server.events() as ws:
        job_id = http.post(
            "/api/jobs",
            json={
                "sample": True,
                "config": {"pillar_selections": "ALL", "prompt_timeouts": {"run_mode": 1}},
            },
        ).json()["job_id"]
        http.post(f"/api/jobs/{job_id}/start")
        asked = server.next_event(ws, "prompt_request", job_id)
    server.kill()
    time.sleep(1.2)  # the outage outlasts the prompt's deadline
    server.start()
    with server.client() as http, server.events() as ws:
        job = http.get(f"/api/jobs/{job_id}").json()
        if job["status"] != "completed":
            server.next_event(ws, "job_update", job_id, status="completed")
            job = http.get(f"/api/jobs/{job_id}").json()
    [record] = job["prompts"]
    assert record["prompt_id"] == asked["prompt_id"]
    assert record["timed_out"] is True and record["response"] is None
    assert record["applied"] == "ONCE" and record["source"] == "timeout_default"


def test_job_whose_inputs_are_gone_becomes_interrupted_with_the_reason(
    server: LiveServer,
) -> None:
    import shutil

    server.start()
    with server.client() as http, server.events() as ws:
        job_id = http.post("/api/jobs", json={"sample": True}).json()["job_id"]
        http.post(f"/api/jobs/{job_id}/start")
        server.next_event(ws, "prompt_request", job_id)
    server.kill()
    shutil.rmtree(server.workspace / "jobs" / job_id / "inputs")
    server.start()
    with server.client() as http:
        job = http.get(f"/api/jobs/{job_id}").json()
    assert job["status"] == "interrupted"
    assert job["error"] == "cannot resume: the job's inputs are gone"
