"""The audit API over real HTTP: download, replay, diff, analytics, and cross-job
decision search; who may do what."""

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from litgap.runtime import Runtime
from litgap.services.manifest import verify_archive
from litgap.settings import Settings
from litgap.web.app import create_app
from tests.audit_helpers import add_prompt
from tests.helpers import new_job
from tests.integration.conftest import Api, make_users

HISTORY = {"prompt_history.json", "prompt_history.txt", "prompt_history.csv"}


@pytest.fixture
def api(api_settings: Settings) -> Iterator[Api]:
    tokens = make_users(api_settings)
    app = create_app(api_settings)
    with TestClient(app) as client:
        yield Api(app, client, tokens, api_settings)


def runtime_of(api: Api) -> Runtime:
    runtime: Runtime = api.app.state.runtime
    return runtime


def create_sample(api: Api, config: dict[str, Any] | None = None) -> str:
    response = api.post("/api/jobs", json={"sample": True, "config": config or {}})
    assert response.status_code == 201, response.text
    job_id: str = response.json()["job_id"]
    return job_id


def run_sample(api: Api, pillars: Any = "ALL", mode: str = "ONCE") -> dict[str, Any]:
    """A sample job whose two decisions are answered over HTTP."""
    job_id = create_sample(api)
    with api.events() as ws:
        api.post(f"/api/jobs/{job_id}/start")
        for answer in (pillars, mode):
            ask = api.next_prompt(ws, job_id)
            assert api.post(f"/api/prompts/{ask['prompt_id']}/respond",
                            json={"response": answer}).status_code == 200  # fmt: skip
        job = api.wait_finished(ws, job_id)
    assert job["status"] == "completed", job["error"]
    return job


def replay(api: Api, job_id: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    with api.events() as ws:
        response = api.post(f"/api/jobs/{job_id}/replay", json=body)
        assert response.status_code == 201, response.text
        created = response.json()
        job = api.wait_finished(ws, created["job_id"])
    assert created["status"] == "queued" and created["replay_of"] == job_id
    return job


def zip_names(content: bytes) -> set[str]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return set(archive.namelist())


def test_download_is_a_verified_zip_with_the_prompt_history(api: Api, tmp_path: Path) -> None:
    job = run_sample(api)
    response = api.get(f"/api/jobs/{job['job_id']}/download", who="viewer")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="{job["job_id"]}.zip"'
    )
    assert response.headers["x-litgap-partial"] == "false"
    assert zip_names(response.content) >= HISTORY
    assert "results/gap_analysis_report.json" in zip_names(response.content)
    path = tmp_path / "job.zip"
    path.write_bytes(response.content)
    assert verify_archive(path).ok


def test_download_of_a_job_waiting_for_an_answer_is_marked_partial(api: Api) -> None:
    job_id = create_sample(api)
    with api.events() as ws:
        api.post(f"/api/jobs/{job_id}/start")
        api.next_prompt(ws, job_id)
        response = api.get(f"/api/jobs/{job_id}/download")
    assert response.status_code == 200
    assert response.headers["x-litgap-partial"] == "true"
    assert "PARTIAL.txt" in zip_names(response.content)
    assert not HISTORY & zip_names(response.content)  # nothing answered yet


def test_replay_reproduces_the_original_exactly(api: Api) -> None:
    original = run_sample(api)
    again = replay(api, original["job_id"])
    assert again["status"] == "completed"
    assert [p["source"] for p in again["prompts"]] == ["replay", "replay"]
    compared = api.get(f"/api/jobs/{original['job_id']}/diff/{again['job_id']}", who="viewer")
    assert compared.status_code == 200
    assert compared.json()["reproduced"] is True
    assert compared.json()["verdict"] == "reproduced exactly"


def test_what_if_override_shows_in_the_diff(api: Api) -> None:
    original = run_sample(api)
    pillars = original["prompts"][0]
    first_pillar = pillars["prompt_data"]["options"][2]
    again = replay(api, original["job_id"], {"overrides": {pillars["prompt_id"]: [first_pillar]}})
    compared = api.get(f"/api/jobs/{original['job_id']}/diff/{again['job_id']}").json()
    assert compared["reproduced"] is False
    assert compared["decisions"][0]["verdict"] == "changed"
    assert compared["decisions"][0]["b"] == [first_pillar]
    assert [p["pillar"] for p in compared["results"]["pillars"] if p["b"] is not None] == [
        first_pillar
    ]


def test_override_outside_the_options_is_422_naming_the_allowed_values(api: Api) -> None:
    original = run_sample(api)
    mode = original["prompts"][1]
    response = api.post(f"/api/jobs/{original['job_id']}/replay",
                        json={"overrides": {mode["prompt_id"]: "TWICE"}})  # fmt: skip
    assert response.status_code == 422
    assert response.json()["detail"] == (
        f"invalid response to prompt {mode['prompt_id']!r}: 'TWICE' is not an option; "
        "allowed values: 'ONCE', 'DEEP_LOOP'"
    )


def test_replay_as_a_viewer_is_403(api: Api) -> None:
    original = run_sample(api)
    response = api.post(f"/api/jobs/{original['job_id']}/replay", who="viewer")
    assert response.status_code == 403
    assert response.json()["detail"] == (
        "user 'viewer' is a viewer: only operators and admins can do this"
    )


def test_replay_of_a_job_without_history_is_409_with_the_reason(api: Api) -> None:
    job_id = create_sample(api, {"pillar_selections": "ALL", "run_mode": "ONCE"})
    with api.events() as ws:
        api.post(f"/api/jobs/{job_id}/start")
        assert api.wait_finished(ws, job_id)["status"] == "completed"
    response = api.post(f"/api/jobs/{job_id}/replay")
    assert response.status_code == 409
    assert response.json()["detail"] == (
        f"job {job_id!r} has no prompt history: it asked no decisions, so there is nothing "
        "to replay"
    )


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", "/api/jobs/job_abcdef/download"),
        ("POST", "/api/jobs/job_abcdef/replay"),
        ("GET", "/api/jobs/job_abcdef/diff/job_abcdeg"),
        ("GET", "/api/analytics/prompts"),
    ],
)
def test_every_audit_route_refuses_a_missing_token(api: Api, method: str, url: str) -> None:
    response = api.client.request(method, url)
    assert response.status_code == 401
    assert response.json()["detail"].startswith("authentication required")


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", "/api/jobs/job_doesnotexist/download"),
        ("POST", "/api/jobs/job_doesnotexist/replay"),
        ("GET", "/api/jobs/job_doesnotexist/diff/job_doesnotexist"),
    ],
)
def test_unknown_job_is_404(api: Api, method: str, url: str) -> None:
    response = api.client.request(method, url, headers=api.headers())
    assert response.status_code == 404
    assert response.json()["detail"] == "unknown job 'job_doesnotexist'"


@pytest.mark.parametrize("bad", ["%2e%2e", "job_%2E%2E", "JOB_ABCDEF", "job_abcdef%00"])
@pytest.mark.parametrize(
    ("method", "template"),
    [("GET", "/api/jobs/{}/download"), ("POST", "/api/jobs/{}/replay"),
     ("GET", "/api/jobs/job_abcdef/diff/{}"), ("GET", "/api/jobs/{}/diff/job_abcdef")],
)  # fmt: skip
def test_malformed_job_id_is_404_before_any_path(
    api: Api, bad: str, method: str, template: str
) -> None:
    response = api.client.request(method, template.format(bad), headers=api.headers())
    assert response.status_code == 404
    assert response.json()["detail"].startswith("invalid job id")


def test_analytics_counts_the_answers_given_over_http(api: Api) -> None:
    run_sample(api)
    run_sample(api)
    response = api.get("/api/analytics/prompts", who="viewer",
                       params={"since": "2000-01-01T00:00:00Z"})  # fmt: skip
    assert response.status_code == 200
    body = response.json()
    assert body["since"] == "2000-01-01T00:00:00.000000Z" and body["until"] is None
    by_type = {t["type"]: t for t in body["types"]}
    assert by_type["run_mode"]["count"] == 2
    assert by_type["run_mode"]["top_responses"] == [{"response": "ONCE", "count": 2}]
    assert by_type["pillar_selection"]["median_ms"] is not None


def test_analytics_refuses_a_time_that_is_not_iso(api: Api) -> None:
    response = api.get("/api/analytics/prompts", params={"until": "last tuesday"})
    assert response.status_code == 422
    assert response.json()["detail"] == (
        "until: 'last tuesday' is not an ISO-8601 time (e.g. 2025-11-17T10:00:00Z)"
    )


def decided_job(rt: Runtime, pillars: Any, mode: str | None = None) -> str:
    job_id = new_job(rt)
    add_prompt(rt, job_id, 0, type="pillar_selection", response=pillars, default=None,
               options=["ALL", "DEEP", "P1", "P2", "NONE"])  # fmt: skip
    if mode:
        add_prompt(rt, job_id, 1, response=mode)
    return job_id


def test_cross_job_search_finds_jobs_by_the_decision_they_recorded(api: Api) -> None:
    rt = runtime_of(api)
    all_once = decided_job(rt, "ALL", "ONCE")
    all_deep = decided_job(rt, "ALL", "DEEP_LOOP")
    two = decided_job(rt, ["P1", "P2"], "ONCE")
    new_job(rt)  # asked nothing

    def search(**params: str) -> list[str]:
        response = api.get("/api/jobs", who="viewer", params=params)
        assert response.status_code == 200, response.text
        return [j["job_id"] for j in response.json()["jobs"]]

    assert search(prompt_type="pillar_selection", response="ALL") == [all_deep, all_once]
    assert search(prompt_type="pillar_selection", response="P1|P2") == [two]
    assert search(prompt_type="run_mode", response="ONCE") == [two, all_once]
    assert search(prompt_type="run_mode") == [two, all_deep, all_once]
    assert search(response="DEEP_LOOP") == [all_deep]
    assert search(prompt_type="continue") == []


def test_cross_job_search_pages_through_its_matches(api: Api) -> None:
    rt = runtime_of(api)
    matching = [decided_job(rt, "ALL") for _ in range(5)]
    for _ in range(3):
        decided_job(rt, "DEEP")
    params = {"prompt_type": "pillar_selection", "response": "ALL", "limit": "2"}
    seen: list[str] = []
    cursor = None
    while True:
        page = api.get("/api/jobs", params={**params, **({"cursor": cursor} if cursor else {})})
        seen += [j["job_id"] for j in page.json()["jobs"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == matching[::-1]


def run_semantic_sample(api: Api) -> dict[str, Any]:
    job_id = create_sample(api, {"scorer": "semantic"})
    with api.events() as ws:
        api.post(f"/api/jobs/{job_id}/start")
        for answer in ("ALL", "ONCE"):
            ask = api.next_prompt(ws, job_id)
            api.post(f"/api/prompts/{ask['prompt_id']}/respond", json={"response": answer})
        job = api.wait_finished(ws, job_id)
    assert job["status"] == "completed", job["error"]
    return job


def test_a_job_that_names_no_scorer_is_scored_semantically_and_says_which_version(
    api: Api,
) -> None:
    job_id = create_sample(api)
    assert api.get(f"/api/jobs/{job_id}").json()["config"]["scorer"] == "semantic"
    with api.events() as ws:
        api.post(f"/api/jobs/{job_id}/start")
        for answer in ("ALL", "ONCE"):
            ask = api.next_prompt(ws, job_id)
            api.post(f"/api/prompts/{ask['prompt_id']}/respond", json={"response": answer})
        assert api.wait_finished(ws, job_id)["status"] == "completed"
    report = runtime_of(api).workspace.results_dir(job_id) / "gap_analysis_report.json"
    scorer = json.loads(report.read_bytes())["scorer"]
    assert (scorer["name"], scorer["version"]) == ("semantic", 2)


def test_a_semantic_replay_reproduces_the_original_exactly(api: Api) -> None:
    original = run_semantic_sample(api)
    again = replay(api, original["job_id"])
    compared = api.get(f"/api/jobs/{original['job_id']}/diff/{again['job_id']}", who="viewer")
    assert compared.json()["verdict"] == "reproduced exactly"


def test_a_replay_with_other_model_files_installed_is_409_naming_the_file(api: Api) -> None:
    job_id = run_semantic_sample(api)["job_id"]
    # As if it had been scored by other weights than the installed ones.
    report = runtime_of(api).workspace.results_dir(job_id) / "gap_analysis_report.json"
    data = json.loads(report.read_bytes())
    data["scorer"]["model"]["files"]["bge_small_en/model.onnx"] = "ab" * 32
    report.write_text(json.dumps(data), encoding="utf-8")
    jobs_before = len(api.get("/api/jobs").json()["jobs"])
    response = api.post(f"/api/jobs/{job_id}/replay")
    assert response.status_code == 409
    assert response.json()["detail"].startswith(
        f"job {job_id!r} was scored with model file 'bge_small_en/model.onnx' "
        "(sha256 abababababab…), and here it is sha256 "
    )
    assert response.json()["detail"].endswith(": a re-run could not reproduce its scores")
    assert len(api.get("/api/jobs").json()["jobs"]) == jobs_before


def test_a_replay_of_a_job_scored_by_an_earlier_semantic_scorer_is_409_naming_the_version(
    api: Api,
) -> None:
    job_id = run_semantic_sample(api)["job_id"]
    # As reports were written before the scorer's version was recorded (version 1).
    report = runtime_of(api).workspace.results_dir(job_id) / "gap_analysis_report.json"
    data = json.loads(report.read_bytes())
    del data["scorer"]["version"]
    report.write_text(json.dumps(data), encoding="utf-8")
    jobs_before = len(api.get("/api/jobs").json()["jobs"])
    response = api.post(f"/api/jobs/{job_id}/replay")
    assert response.status_code == 409
    assert response.json()["detail"] == (
        f"job {job_id!r} was scored by version 1 of the semantic scorer, and this litgap runs "
        "version 2: a re-run could not reproduce its scores"
    )
    assert len(api.get("/api/jobs").json()["jobs"]) == jobs_before
