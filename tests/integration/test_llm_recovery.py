"""A server killed (SIGKILL) in the middle of a model review: at the next start the job
resumes, each verdict recorded before the kill is used again (same record, no second
call), the rest are asked, and no passage ends with two records."""

import hashlib
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from litgap.runtime import open_runtime
from litgap.services.auth import Role, create_user
from litgap.settings import Settings
from tests.live import LiveServer
from tests.llm_server import ChatServer, chat_server

KEY = "sk-recovery-SECRET-77"


@pytest.fixture
def chat() -> Iterator[ChatServer]:
    with chat_server(api_key=KEY, latency=0.25) as server:
        yield server


@pytest.fixture
def server(tmp_path: Path, chat: ChatServer) -> Iterator[LiveServer]:
    workspace = tmp_path / "ws"
    rt = open_runtime(Settings(workspace=workspace))
    _user, token = create_user(rt.engine, "ops", Role.OPERATOR)
    rt.close()
    env = {
        "LITGAP_LLM_BASE_URL": chat.url,
        "LITGAP_LLM_MODEL": "fixture-model",
        "LITGAP_LLM_API_KEY": KEY,
        "LITGAP_LLM_CONCURRENCY": "2",
    }
    live = LiveServer(workspace, token, env=env)
    yield live
    live.stop()


def test_kill_9_mid_review_loses_and_duplicates_no_verdict(
    server: LiveServer, chat: ChatServer
) -> None:
    config = {"pillar_selections": "ALL", "run_mode": "ONCE", "llm_review": {"top": 2}}
    server.start()
    with server.client() as http, server.events() as ws:
        job_id = http.post("/api/jobs", json={"sample": True, "config": config}).json()["job_id"]
        http.post(f"/api/jobs/{job_id}/start")
        for _ in range(4):
            server.next_event(ws, "prompt_resolved", job_id, source="llm")
        before = [p for p in http.get(f"/api/jobs/{job_id}").json()["prompts"]]
    server.kill()
    assert len(before) >= 4

    server.start()
    with server.client() as http, server.events() as ws:
        job = http.get(f"/api/jobs/{job_id}").json()
        if job["status"] != "completed":
            server.next_event(ws, "job_update", job_id, status="completed")
            job = http.get(f"/api/jobs/{job_id}").json()
    records = [p for p in job["prompts"] if "llm" in p["prompt_data"]]
    assert len(records) == job["results"]["llm_review"]["passages"]
    asked = Counter(
        (r["prompt_data"]["sub_requirement"], r["prompt_data"]["options"][0]) for r in records
    )
    assert set(asked.values()) == {1}  # each passage judged once
    assert len({r["seq"] for r in records}) == len(records)
    kept = {r["prompt_id"]: r for r in records}
    for old in before:  # the same records, untouched
        assert kept[old["prompt_id"]] == old
    # A verdict recorded before the kill was not asked again.
    sent = Counter(hashlib.sha256(r.raw).hexdigest() for r in chat.received)
    for old in before:
        assert sent[old["prompt_data"]["llm"]["request_hash"]] == 1
    document = json.loads((server.workspace / "jobs" / job_id / "job_data.json").read_text())
    assert [p["prompt_id"] for p in document["prompts"]] == [r["prompt_id"] for r in job["prompts"]]
