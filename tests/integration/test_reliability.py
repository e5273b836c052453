"""Durability and bad input at the edges: races, truncated files, oversize bodies."""

import json
import threading
from pathlib import Path

from fastapi.testclient import TestClient

from litgap.web.app import create_app
from tests.conftest import make_settings
from tests.integration.conftest import Api, make_users
from tests.integration.test_api_jobs import create_sample


def test_two_clients_answering_at_once_one_wins_one_gets_409(api: Api) -> None:
    job_id = create_sample(api, {"pillar_selections": "ALL"})
    with api.events() as ws:
        api.post(f"/api/jobs/{job_id}/start")
        ask = api.next_prompt(ws, job_id)
        barrier = threading.Barrier(2)
        codes: list[int] = []

        def answer(who: str, value: str) -> None:
            barrier.wait()
            response = api.post(
                f"/api/prompts/{ask['prompt_id']}/respond", who=who, json={"response": value}
            )
            codes.append(response.status_code)

        threads = [
            threading.Thread(target=answer, args=("operator", "ONCE")),
            threading.Thread(target=answer, args=("admin", "ONCE")),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        api.wait_finished(ws, job_id)
    assert sorted(codes) == [200, 409]
    [record] = api.get(f"/api/jobs/{job_id}/prompts").json()["prompts"]
    assert record["answered_by"] in {"operator", "admin"}


def test_oversize_upload_is_413_and_saves_nothing(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, max_upload_bytes=1000)
    tokens = make_users(settings)
    with TestClient(create_app(settings)) as client:
        response = client.post(
            "/api/jobs",
            headers={"Authorization": f"Bearer {tokens['operator']}"},
            files=[("files", ("big.txt", b"x" * 5000, "text/plain"))],
        )
    assert response.status_code == 413
    assert "exceeds the limit of 1000 bytes" in response.json()["detail"]
    assert list((settings.workspace / "jobs").iterdir()) == []


def test_a_megabyte_note_is_refused_and_nothing_recorded(api: Api) -> None:
    job_id = create_sample(api, {"pillar_selections": "ALL"})
    with api.events() as ws:
        api.post(f"/api/jobs/{job_id}/start")
        ask = api.next_prompt(ws, job_id)
        response = api.post(
            f"/api/prompts/{ask['prompt_id']}/respond",
            json={"response": "ONCE", "note": "n" * 1_000_000},
        )
        api.post(f"/api/jobs/{job_id}/cancel")
    assert response.status_code == 422
    assert response.json()["detail"] == "note is 1000000 characters; the limit is 2000"


def test_truncated_job_data_is_listed_and_rewritten_at_start(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    tokens = make_users(settings)
    headers = {"Authorization": f"Bearer {tokens['operator']}"}
    with TestClient(create_app(settings)) as client:
        job_id = client.post("/api/jobs", headers=headers, json={"sample": True}).json()["job_id"]
    document = settings.workspace / "jobs" / job_id / "job_data.json"
    document.write_bytes(document.read_bytes()[:37])
    with TestClient(create_app(settings)) as client:
        listed = client.get("/api/jobs", headers=headers).json()["jobs"]
        assert [j["job_id"] for j in listed] == [job_id]
        client.app.state.runtime.docs.flush()  # type: ignore[attr-defined]
    assert json.loads(document.read_text())["job_id"] == job_id
