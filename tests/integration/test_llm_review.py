"""The model reviewer end to end: a job with `llm_review` against a real HTTP server that
speaks the chat-completions protocol (tests/llm_server.py), through the real app."""

import csv
import hashlib
import io
import json
import logging
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from litgap.llm.template import AS_VERDICT
from tests.evidence_helpers import report_of
from tests.integration.conftest import Api
from tests.live import free_port
from tests.llm_server import ChatServer, chat_server, expected_label

KEY = "sk-fixture-SECRET-4b1d9e"
BASE = {"pillar_selections": "ALL", "run_mode": "ONCE"}


@pytest.fixture
def server() -> Iterator[ChatServer]:
    with chat_server(api_key=KEY) as chat:
        yield chat


@pytest.fixture
def model_env(monkeypatch: pytest.MonkeyPatch, server: ChatServer) -> ChatServer:
    monkeypatch.setenv("LITGAP_LLM_BASE_URL", server.url)
    monkeypatch.setenv("LITGAP_LLM_MODEL", "fixture-model")
    monkeypatch.setenv("LITGAP_LLM_API_KEY", KEY)
    monkeypatch.setenv("LITGAP_LLM_RETRY_SECONDS", "0.01")
    monkeypatch.setenv("LITGAP_LLM_TIMEOUT_SECONDS", "2")
    return server


def run(api: Api, llm_review: dict[str, Any], **config: Any) -> dict[str, Any]:
    response = api.post(
        "/api/jobs",
        json={"sample": True, "config": {**BASE, **config, "llm_review": llm_review}},
    )
    assert response.status_code == 201, response.text
    job_id = response.json()["job_id"]
    with api.events() as ws:
        assert api.post(f"/api/jobs/{job_id}/start").status_code == 202
        job = api.wait_finished(ws, job_id)
    assert job["status"] == "completed", job["error"]
    return job  # type: ignore[no-any-return]


def wait(api: Api, job_id: str) -> dict[str, Any]:
    with api.events() as ws:
        job = api.get(f"/api/jobs/{job_id}").json()
        if job["status"] not in ("completed", "failed", "cancelled", "interrupted"):
            job = api.wait_finished(ws, job_id)
    return job  # type: ignore[no-any-return]


def model_records(job: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in job["prompts"] if "llm" in p["prompt_data"]]


def user_of(record: dict[str, Any], server: ChatServer) -> str:
    """The user message the server received for this record's request."""
    [raw] = [
        r.raw
        for r in server.received
        if hashlib.sha256(r.raw).hexdigest() == record["prompt_data"]["llm"]["request_hash"]
    ][:1]
    return str(json.loads(raw)["messages"][-1]["content"])


def test_each_verdict_is_an_evidence_review_decision_of_source_llm_with_its_request(
    api: Api, model_env: ChatServer
) -> None:
    job = run(api, {"top": 2})
    records = model_records(job)
    assert records and len(records) == model_env.calls  # one call per passage
    for record in records:
        block = record["prompt_data"]["llm"]
        eid = record["prompt_data"]["options"][0]
        label = expected_label(user_of(record, model_env))
        assert record["type"] == "evidence_review" and record["source"] == "llm"
        assert record["answered_by"] == "llm:fixture-model-q4"  # as the server says
        assert block["model"] == "fixture-model-q4"
        assert block["requested_model"] == "fixture-model"
        assert block["template"] == "evidence-v1" == record["prompt_data"]["template"]
        assert block["label"] == label and record["note"] == f"fixture says {label}"
        assert json.loads(block["raw_response"])["verdict"] == label
        assert block["prompt_tokens"] == 100 and block["completion_tokens"] == 20
        assert block["latency_ms"] >= 0 and block["calls"] == 1 and block["cached"] is False
        assert (
            record["response"]
            == {
                "supports": [eid],
                "does_not_support": [],
                "unclear": None,
            }[label]
        )
    # Every request asked for JSON by schema, with the key in the header only.
    sent = model_env.received[0]
    assert sent.body["response_format"]["type"] == "json_schema"
    assert sent.headers["Authorization"] == f"Bearer {KEY}"
    summary = job["results"]["llm_review"]
    assert summary["judged"] == len(records) and summary["calls"] == len(records)
    assert summary["model"] == "fixture-model-q4" and summary["counted"] is False
    assert summary["prompt_tokens"] == 100 * len(records)
    # Recorded only: the report counts no model verdict, and says who gave each.
    assert report_of(api, job["job_id"])["verdicts"] == {}
    html = api.get(f"/api/jobs/{job['job_id']}/results/report.html").text
    assert "llm:fixture-model-q4" in html and "(llm)" in html
    # Found by the decision search, by model name or by source.
    for q in ("fixture-model-q4", "llm"):
        found = api.get(f"/api/jobs/{job['job_id']}/prompts", params={"q": q}).json()
        assert [r["prompt_id"] for r in found["prompts"]] == [r["prompt_id"] for r in records]


def test_progress_and_cost_show_while_the_model_reviews(
    api: Api, model_env: ChatServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LITGAP_LLM_CONCURRENCY", "1")
    model_env.latency = 0.1
    response = api.post(
        "/api/jobs", json={"sample": True, "config": {**BASE, "llm_review": {"top": 2}}}
    )
    job_id = response.json()["job_id"]
    stages = []
    with api.events() as ws:
        api.post(f"/api/jobs/{job_id}/start")
        while True:
            data = ws.receive_json()["data"]
            if data.get("job_id") != job_id:
                continue
            if str(data.get("stage", "")).startswith("model review:"):
                stages.append(data["stage"])
            if data.get("status") == "completed":
                break
    assert stages, "the stage names the model review while it runs"
    assert re.fullmatch(r"model review: \d+/\d+ passages · \d+ calls · \d+ tokens", stages[-1])


def test_verdicts_count_in_the_report_when_the_config_says_so(
    api: Api, model_env: ChatServer
) -> None:
    job = run(api, {"top": 2, "counts": True})
    expected = {
        r["prompt_data"]["options"][0]: AS_VERDICT[r["prompt_data"]["llm"]["label"]]
        for r in model_records(job)
        if r["prompt_data"]["llm"]["label"] in AS_VERDICT
    }
    assert expected
    assert report_of(api, job["job_id"])["verdicts"] == expected
    assert job["results"]["llm_review"]["counted"] is True


def test_malformed_refused_and_failing_answers_are_retried_and_recorded_as_such(
    api: Api, model_env: ChatServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LITGAP_LLM_CONCURRENCY", "1")  # the script's order is the calls'
    # passage 1: malformed, then fine; 2: always malformed; 3: a refusal; 4: 429 then
    # 500 then fine; 5: a fenced answer; 6: a broken completion, then fine.
    model_env.script = [
        "malformed", "ok",
        "malformed", "badlabel", "malformed",
        "refuse",
        "429", "500", "ok",
        "fenced",
        "broken", "ok",
    ]  # fmt: skip
    job = run(api, {"top": 1})
    first = model_records(job)[:6]
    labels = [r["prompt_data"]["llm"]["label"] for r in first]
    calls = [r["prompt_data"]["llm"]["calls"] for r in first]
    assert labels[1:3] == ["malformed", "refused"]
    assert calls[:6] == [2, 3, 1, 3, 1, 2]
    assert first[1]["response"] is None and first[1]["applied"] is None
    assert first[1]["prompt_data"]["llm"]["raw_response"] == "Sure! The passage supports it."
    assert "not JSON" in first[1]["prompt_data"]["llm"]["error"]
    assert first[2]["prompt_data"]["llm"]["raw_response"] == "I cannot help with that."
    for index in (0, 3, 4, 5):
        assert labels[index] == expected_label(user_of(first[index], model_env))
    assert job["results"]["llm_review"]["labels"]["malformed"] == 1


def test_a_call_past_the_timeout_is_retried_then_left_unjudged_and_the_job_completes(
    api: Api, model_env: ChatServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LITGAP_LLM_TIMEOUT_SECONDS", "0.3")
    monkeypatch.setenv("LITGAP_LLM_RETRIES", "1")
    model_env.slow_seconds = 1.0
    model_env.script = ["slow", "ok", "slow", "slow"]  # passage 1 recovers, passage 2 not
    monkeypatch.setenv("LITGAP_LLM_CONCURRENCY", "1")
    job = run(api, {"top": 1})
    summary = job["results"]["llm_review"]
    assert summary["failed"] == 1
    assert summary["last_error"] == "no answer within 0.3 s (after 2 attempts)"
    assert summary["judged"] == summary["passages"] - 1
    assert model_records(job)[0]["prompt_data"]["llm"]["calls"] == 2


def test_the_budget_bounds_the_calls_and_says_what_was_left(
    api: Api, model_env: ChatServer
) -> None:
    job = run(api, {"top": 2, "max_calls": 3})
    assert model_env.calls == 3
    summary = job["results"]["llm_review"]
    left = summary["passages"] - 3
    assert summary["judged"] == 3 and summary["calls"] == 3
    assert summary["stopped"] == (
        f"the job's budget of 3 model calls is spent; {left} passages not judged"
    )


def test_an_unreachable_server_or_a_wrong_key_is_said_and_the_job_completes(
    api: Api, model_env: ChatServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LITGAP_LLM_API_KEY", "sk-wrong")
    job = run(api, {"top": 1})
    summary = job["results"]["llm_review"]
    assert summary["stopped"].startswith(
        f"the model server http://127.0.0.1:{model_env.port} refused the API key (HTTP 401): "
        "check LITGAP_LLM_API_KEY or LITGAP_LLM_API_KEY_FILE; "
    )
    assert model_records(job) == []
    port = free_port()
    monkeypatch.setenv("LITGAP_LLM_BASE_URL", f"http://127.0.0.1:{port}/v1")
    summary = run(api, {"top": 1})["results"]["llm_review"]
    assert summary["stopped"].startswith(
        f"the model server http://127.0.0.1:{port} is unreachable (ConnectError"
    )
    assert summary["judged"] == 0


def test_the_same_question_is_never_paid_for_twice(api: Api, model_env: ChatServer) -> None:
    first = run(api, {"top": 2})
    calls = model_env.calls
    second = run(api, {"top": 2})
    assert model_env.calls == calls  # every answer came from the cache
    again = model_records(second)
    assert len(again) == len(model_records(first))
    assert all(r["source"] == "llm" and r["prompt_data"]["llm"]["cached"] for r in again)
    assert [r["prompt_data"]["llm"]["label"] for r in again] == [
        r["prompt_data"]["llm"]["label"] for r in model_records(first)
    ]
    assert second["results"]["llm_review"]["calls"] == 0


def test_replay_and_revision_apply_the_recorded_verdicts_with_the_server_gone(
    api: Api, model_env: ChatServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = run(api, {"top": 2, "counts": True})
    recorded = model_records(original)
    first = recorded[0]["prompt_id"]
    refused = api.post(f"/api/jobs/{original['job_id']}/replay", json={"overrides": {first: []}})
    assert refused.status_code == 422
    assert refused.json()["detail"] == (
        f"override {first!r}: a model's verdict is not a decision to change; make a "
        "revision with your own verdicts instead"
    )
    model_env.stop()
    # Even the settings are gone: the record is all a replay needs.
    for key in ("LITGAP_LLM_BASE_URL", "LITGAP_LLM_MODEL", "LITGAP_LLM_API_KEY"):
        monkeypatch.delenv(key)
    calls = model_env.calls
    made = api.post(f"/api/jobs/{original['job_id']}/replay")
    assert made.status_code == 201, made.text
    replay = wait(api, made.json()["job_id"])
    assert replay["status"] == "completed", replay["error"]
    copies = model_records(replay)
    assert [(r["source"], r["replayed_from"]) for r in copies] == [
        ("replay", r["prompt_id"]) for r in recorded
    ]
    assert [r["applied"] for r in copies] == [r["applied"] for r in recorded]
    assert all(r["answered_by"] == "llm:fixture-model-q4" for r in copies)
    assert replay["results"]["llm_review"]["replayed"] == len(recorded)
    assert report_of(api, replay["job_id"]) == report_of(api, original["job_id"])
    made = api.post(
        f"/api/jobs/{original['job_id']}/revisions", json={"verdicts": [], "model_verdicts": True}
    )
    assert made.status_code == 201, made.text
    revision = wait(api, made.json()["job_id"])
    assert revision["status"] == "completed", revision["error"]
    # Its passages moved (the verdicts counted): those recorded are applied again, and
    # the others are left unjudged rather than asked.
    copies = model_records(revision)
    assert copies and all(r["source"] == "replay" for r in copies)
    stopped = revision["results"]["llm_review"]["stopped"]
    assert stopped is None or stopped.startswith("a revision applies recorded model verdicts only")
    assert model_env.calls == calls


def test_a_revision_with_the_model_verdicts_counts_them_named_as_the_models(
    api: Api, model_env: ChatServer
) -> None:
    original = run(api, {"top": 2})
    assert report_of(api, original["job_id"])["verdicts"] == {}
    made = api.post(
        f"/api/jobs/{original['job_id']}/revisions", json={"verdicts": [], "model_verdicts": True}
    )
    assert made.status_code == 201, made.text
    revision = wait(api, made.json()["job_id"])
    assert revision["status"] == "completed", revision["error"]
    expected = {
        r["prompt_data"]["options"][0]: AS_VERDICT[r["prompt_data"]["llm"]["label"]]
        for r in model_records(original)
        if r["prompt_data"]["llm"]["label"] in AS_VERDICT
    }
    assert report_of(api, revision["job_id"])["verdicts"] == expected
    planned = [
        p
        for r in revision["prompts"]
        if r["type"] == "evidence_review" and "llm" not in r["prompt_data"]
        for p in r["prompt_data"]["passages"]
    ]
    assert {p["evidence_id"] for p in planned} == set(expected)
    assert {p["judged_by"] for p in planned} == {"llm:fixture-model-q4"}


def test_no_verdict_to_revise_with_is_refused(api: Api) -> None:
    response = api.post("/api/jobs", json={"sample": True, "config": BASE})
    job_id = response.json()["job_id"]
    with api.events() as ws:
        api.post(f"/api/jobs/{job_id}/start")
        api.wait_finished(ws, job_id)
    made = api.post(f"/api/jobs/{job_id}/revisions", json={"verdicts": [], "model_verdicts": True})
    assert made.status_code == 422
    assert made.json()["detail"] == f"job {job_id!r} has no model verdict to revise with"


def test_the_api_key_is_written_nowhere(
    api: Api, model_env: ChatServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # httpx and httpcore log every request at DEBUG
    job = run(api, {"top": 2})
    assert caplog.records and KEY not in caplog.text
    assert model_records(job)
    api.app.state.runtime.docs.write_now(job["job_id"])
    export = api.get(f"/api/jobs/{job['job_id']}/download")
    assert export.status_code == 200
    with zipfile.ZipFile(io.BytesIO(export.content)) as archive:
        for name in archive.namelist():
            assert KEY.encode() not in archive.read(name), name
        history = json.loads(archive.read("prompt_history.json"))
        rows = list(csv.DictReader(io.StringIO(archive.read("prompt_history.csv").decode())))
    assert [r["prompt_data"]["llm"] for r in history] == [
        r["prompt_data"]["llm"] for r in model_records(job)
    ]
    assert {r["source"] for r in rows} == {"llm"}
    workspace = Path(api.settings.workspace)
    files = [p for p in workspace.rglob("*") if p.is_file()]
    assert any(p.name == "job_data.json" for p in files)
    for path in files:
        assert KEY.encode() not in path.read_bytes(), path


def test_cancelling_mid_review_keeps_what_was_recorded_and_stops_the_calls(
    api: Api, model_env: ChatServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LITGAP_LLM_CONCURRENCY", "1")
    model_env.latency = 0.3
    response = api.post(
        "/api/jobs", json={"sample": True, "config": {**BASE, "llm_review": {"top": 3}}}
    )
    job_id = response.json()["job_id"]
    with api.events() as ws:
        api.post(f"/api/jobs/{job_id}/start")
        while True:
            event = ws.receive_json()
            if event["type"] == "prompt_resolved" and event["data"].get("job_id") == job_id:
                break  # the first verdict is recorded
        assert api.post(f"/api/jobs/{job_id}/cancel").status_code == 202
        job = api.wait_finished(ws, job_id)
    assert job["status"] == "cancelled"
    calls = model_env.calls
    records = model_records(job)
    assert 1 <= len(records) <= calls <= len(records) + 1
    assert api.get("/api/prompts", params={"job_id": job_id}).json()["prompts"] == []
    model_env.latency = 0
    import time

    time.sleep(0.5)  # nothing is still calling in the background
    assert model_env.calls == calls


def test_verdicts_are_recorded_in_order_whatever_order_the_answers_come_in(
    api: Api, model_env: ChatServer
) -> None:
    model_env.slow_seconds = 0.5
    model_env.rules = {"Sub-S1.1.1:": "slow"}  # the first sub-requirement's answers come last
    job = run(api, {"top": 2})
    records = model_records(job)
    assert records[0]["prompt_data"]["sub_requirement"] == "Sub-S1.1.1"
    assert [r["seq"] for r in records] == sorted(r["seq"] for r in records)
    stamps = [r["timestamp"] for r in records]
    assert stamps == sorted(stamps)  # none was recorded before the slow ones
    first_answer = min(r["requested_at"] for r in records[2:])
    assert first_answer < records[0]["timestamp"]  # the others were asked meanwhile
