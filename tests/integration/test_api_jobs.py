"""The jobs and prompts API, end to end on the bundled sample."""

import json
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import Api


def create_sample(api: Api, config: dict | None = None) -> str:
    response = api.post("/api/jobs", json={"sample": True, "config": config or {}})
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "draft"
    return response.json()["job_id"]  # type: ignore[no-any-return]


def test_a_job_asks_records_and_completes(api: Api) -> None:
    job_id = create_sample(api)
    with api.events() as ws:
        assert api.post(f"/api/jobs/{job_id}/start").status_code == 202
        pillars = api.next_prompt(ws, job_id)
        assert pillars["type"] == "pillar_selection"
        assert pillars["prompt_data"]["options"][0] == "ALL"
        assert pillars["prompt_data"]["multiple"] is True
        answer = api.post(
            f"/api/prompts/{pillars['prompt_id']}/respond",
            json={"response": ["ALL"], "note": "whole framework"},
        )
        assert answer.status_code == 200, answer.text
        mode = api.next_prompt(ws, job_id)
        assert mode["type"] == "run_mode" and mode["prompt_data"]["default"] == "ONCE"
        api.post(f"/api/prompts/{mode['prompt_id']}/respond", json={"response": "ONCE"})
        job = api.wait_finished(ws, job_id)
    assert job["status"] == "completed", job["error"]
    assert [p["type"] for p in job["prompts"]] == ["pillar_selection", "run_mode"]
    assert job["prompts"][0]["answered_by"] == "operator"
    assert job["prompts"][0]["note"] == "whole framework"
    assert job["prompts"][0]["response"] == ["ALL"]
    assert job["results"]["gap_count"] >= 0
    assert "gap_analysis_report.json" in job["result_files"]
    on_disk = json.loads((api.settings.workspace / "jobs" / job_id / "job_data.json").read_text())
    assert on_disk["status"] == "completed"
    assert [p["prompt_id"] for p in on_disk["prompts"]] == [p["prompt_id"] for p in job["prompts"]]


def test_deep_loop_asks_continue_with_iteration_and_gaps(api: Api) -> None:
    job_id = create_sample(api, {"pillar_selections": "ALL", "run_mode": "DEEP_LOOP"})
    with api.events() as ws:
        api.post(f"/api/jobs/{job_id}/start")
        ask = api.next_prompt(ws, job_id)
        assert ask["type"] == "continue"
        assert ask["prompt_data"]["iteration"] == 1
        assert ask["prompt_data"]["gap_count"] > 0
        assert isinstance(ask["prompt_data"]["details"], list)
        api.post(f"/api/prompts/{ask['prompt_id']}/respond", json={"response": "no"})
        job = api.wait_finished(ws, job_id)
    assert job["status"] == "completed"
    assert [p["applied"] for p in job["prompts"]] == ["no"]


def test_none_ends_the_job_as_cancelled_by_decision(api: Api) -> None:
    job_id = create_sample(api)
    with api.events() as ws:
        api.post(f"/api/jobs/{job_id}/start")
        ask = api.next_prompt(ws, job_id)
        api.post(f"/api/prompts/{ask['prompt_id']}/respond", json={"response": "NONE"})
        job = api.wait_finished(ws, job_id)
    assert job["status"] == "cancelled"
    assert "NONE" in job["error"]


def test_response_not_among_options_is_422_listing_allowed_values(api: Api) -> None:
    job_id = create_sample(api, {"pillar_selections": "ALL"})
    with api.events() as ws:
        api.post(f"/api/jobs/{job_id}/start")
        ask = api.next_prompt(ws, job_id)
        response = api.post(
            f"/api/prompts/{ask['prompt_id']}/respond", json={"response": "SOMETIMES"}
        )
    assert response.status_code == 422
    assert response.json()["detail"] == (
        f"invalid response to prompt {ask['prompt_id']!r}: 'SOMETIMES' is not an option; "
        "allowed values: 'ONCE', 'DEEP_LOOP'"
    )
    assert api.get(f"/api/jobs/{job_id}").json()["prompts"] == []


def test_second_answer_is_409_and_first_stands(api: Api) -> None:
    job_id = create_sample(api, {"pillar_selections": "ALL"})
    with api.events() as ws:
        api.post(f"/api/jobs/{job_id}/start")
        ask = api.next_prompt(ws, job_id)
        first = api.post(f"/api/prompts/{ask['prompt_id']}/respond", json={"response": "ONCE"})
        second = api.post(
            f"/api/prompts/{ask['prompt_id']}/respond", who="admin", json={"response": "DEEP_LOOP"}
        )
        api.wait_finished(ws, job_id)
    assert first.status_code == 200
    assert second.status_code == 409
    assert "already answered" in second.json()["detail"]
    [record] = api.get(f"/api/jobs/{job_id}/prompts").json()["prompts"]
    assert (record["response"], record["answered_by"]) == ("ONCE", "operator")


def test_unknown_prompt_is_404(api: Api) -> None:
    response = api.post("/api/prompts/prompt_nosuchprompt/respond", json={"response": "ONCE"})
    assert response.status_code == 404
    assert response.json()["detail"] == "unknown prompt 'prompt_nosuchprompt'"


def test_malformed_json_is_422_with_its_place(api: Api) -> None:
    response = api.client.post(
        "/api/prompts/prompt_abcdef/respond",
        content=b'{"response": ',
        headers={**api.headers(), "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert "JSON decode error" in response.json()["detail"]


def test_unknown_field_is_422(api: Api) -> None:
    response = api.post("/api/prompts/prompt_abcdef/respond", json={"response": "ONCE", "extra": 1})
    assert response.status_code == 422
    assert response.json()["detail"].startswith("extra:")


def test_malformed_job_ids_are_rejected_before_any_path(api: Api) -> None:
    for bad in ["JOB_ABCDEF", "job_abc", "%2e%2e", "job_abcdef%00", "job_" + "a" * 40]:
        response = api.get(f"/api/jobs/{bad}")
        assert response.status_code == 404, bad
        assert response.json()["detail"].startswith("invalid job id"), bad
    # Paths with separators never reach a job route at all.
    for bad in ["job_../../x", "..%2F..%2Fetc", "%2Fetc%2Fpasswd"]:
        assert api.get(f"/api/jobs/{bad}").status_code == 404, bad


def test_unknown_job_is_404(api: Api) -> None:
    response = api.get("/api/jobs/job_doesnotexist")
    assert response.status_code == 404
    assert response.json()["detail"] == "unknown job 'job_doesnotexist'"


def test_upload_creates_a_job_with_inputs_hashed(api: Api, tmp_path: Path) -> None:
    files = [
        (
            "files",
            ("a.txt", b"Data provenance and lineage are tracked for every dataset.", "text/plain"),
        ),
        (
            "files",
            ("b.md", b"# Models\nModel evaluation uses held-out benchmarks.", "text/markdown"),
        ),
    ]
    response = api.post("/api/jobs", files=files, data={"config": '{"run_mode": "ONCE"}'})
    assert response.status_code == 201, response.text
    job = api.get(f"/api/jobs/{response.json()['job_id']}").json()
    corpus = [i for i in job["inputs"] if i["role"] == "corpus"]
    assert [i["name"] for i in corpus] == ["a.txt", "b.md"]
    assert all(len(i["sha256"]) == 64 for i in corpus)
    assert job["config"]["run_mode"] == "ONCE"


PAPER = b"Data provenance and lineage are tracked for every dataset."


def test_a_file_uploaded_twice_is_left_out_and_listed_in_the_response(api: Api) -> None:
    files = [
        ("files", ("a.txt", PAPER, "text/plain")),
        ("files", ("copy of a.txt", PAPER, "text/plain")),
    ]
    response = api.post("/api/jobs", files=files)
    assert response.status_code == 201, response.text
    [dup] = response.json()["duplicates"]
    assert (dup["paper"], dup["duplicate_of"], dup["reason"], dup["kept"]) == (
        "copy of a.txt",
        "a.txt",
        "same content",
        False,
    )
    job_id = response.json()["job_id"]
    job = api.get(f"/api/jobs/{job_id}").json()
    assert [i["name"] for i in job["inputs"] if i["role"] == "corpus"] == ["a.txt"]
    assert job["config"]["duplicates"] == [dup]
    corpus = api.settings.workspace / "jobs" / job_id / "inputs" / "corpus"
    assert sorted(p.name for p in corpus.iterdir()) == ["a.txt"]


def test_keep_duplicates_keeps_a_file_uploaded_twice_and_still_lists_it(api: Api) -> None:
    files = [
        ("files", ("a.txt", PAPER, "text/plain")),
        ("files", ("copy of a.txt", PAPER, "text/plain")),
    ]
    config = {"config": '{"keep_duplicates": true}'}
    response = api.post("/api/jobs", files=files, data=config)
    assert response.status_code == 201, response.text
    assert [d["kept"] for d in response.json()["duplicates"]] == [True]
    job = api.get(f"/api/jobs/{response.json()['job_id']}").json()
    assert len([i for i in job["inputs"] if i["role"] == "corpus"]) == 2


def test_a_text_file_that_is_not_utf8_is_422_naming_the_byte_and_creates_nothing(
    api: Api,
) -> None:
    before = set((api.settings.workspace / "jobs").iterdir())
    files = [("files", ("ok.txt", PAPER)), ("files", ("notes.txt", b"Rain \xed\xa0\x80 tanks"))]
    response = api.post("/api/jobs", files=files)
    assert response.status_code == 422
    assert response.json()["detail"] == (
        "file 'notes.txt' is not text: not UTF-8 text (byte 0xed at offset 5)"
    )
    assert set((api.settings.workspace / "jobs").iterdir()) == before


def test_upload_of_unsupported_type_is_422(api: Api) -> None:
    response = api.post(
        "/api/jobs", files=[("files", ("x.exe", b"MZ", "application/octet-stream"))]
    )
    assert response.status_code == 422
    assert "unsupported file type 'x.exe'" in response.json()["detail"]


def test_malformed_framework_is_422_and_leaves_nothing(api: Api) -> None:
    before = set((api.settings.workspace / "jobs").iterdir())
    response = api.post(
        "/api/jobs",
        files=[
            ("files", ("a.txt", b"some text", "text/plain")),
            ("pillars", ("f.json", b'{"Pillar 1": ', "application/json")),
        ],
    )
    assert response.status_code == 422
    assert (
        response.json()["detail"]
        == "pillars: f.json: invalid JSON at line 1, column 14: Expecting value"
    )
    assert set((api.settings.workspace / "jobs").iterdir()) == before


def test_bad_config_names_the_field(api: Api) -> None:
    response = api.post("/api/jobs", json={"sample": True, "config": {"max_iterations": 0}})
    assert response.status_code == 422
    assert "max_iterations" in response.json()["detail"]


def test_list_is_paginated_newest_first(api: Api) -> None:
    ids = [create_sample(api) for _ in range(3)]
    first = api.get("/api/jobs", params={"limit": 2}).json()
    second = api.get("/api/jobs", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [j["job_id"] for j in first["jobs"] + second["jobs"]] == ids[::-1]
    assert second["next_cursor"] is None


def test_pending_prompts_list_deadline_and_timeout(api: Api) -> None:
    job_id = create_sample(api)
    with api.events() as ws:
        api.post(f"/api/jobs/{job_id}/start")
        ask = api.next_prompt(ws, job_id)
    [pending] = api.get("/api/prompts", params={"status": "pending", "job_id": job_id}).json()[
        "prompts"
    ]
    assert pending["prompt_id"] == ask["prompt_id"]
    assert pending["timeout_seconds"] == 300 and pending["deadline"] > pending["requested_at"]
    assert api.post(f"/api/jobs/{job_id}/cancel").status_code == 202
    assert api.get("/api/prompts", params={"job_id": job_id}).json()["prompts"] == []
    assert api.get(f"/api/jobs/{job_id}").json()["status"] == "cancelled"


def test_history_filters_by_type_and_search(api: Api) -> None:
    job_id = create_sample(api)
    with api.events() as ws:
        api.post(f"/api/jobs/{job_id}/start")
        ask = api.next_prompt(ws, job_id)
        api.post(f"/api/prompts/{ask['prompt_id']}/respond", json={"response": "ALL"})
        ask = api.next_prompt(ws, job_id)
        api.post(
            f"/api/prompts/{ask['prompt_id']}/respond",
            json={"response": "ONCE", "note": "quick look"},
        )
        api.wait_finished(ws, job_id)
    by_type = api.get(f"/api/jobs/{job_id}/prompts", params={"type": "run_mode"}).json()
    assert [p["type"] for p in by_type["prompts"]] == ["run_mode"]
    by_text = api.get(f"/api/jobs/{job_id}/prompts", params={"q": "QUICK"}).json()
    assert [p["note"] for p in by_text["prompts"]] == ["quick look"]
    found = api.get("/api/jobs", params={"prompt_type": "pillar_selection", "response": "ALL"})
    [listed] = found.json()["jobs"]
    assert listed["job_id"] == job_id
    assert (listed["pillars"], listed["run_mode"]) == ("ALL", "ONCE")


def test_result_files_are_served_and_others_refused(api: Api) -> None:
    job_id = create_sample(api, {"pillar_selections": "ALL", "run_mode": "ONCE"})
    with api.events() as ws:
        api.post(f"/api/jobs/{job_id}/start")
        api.wait_finished(ws, job_id)
    ok = api.get(f"/api/jobs/{job_id}/results/report.md")
    assert ok.status_code == 200 and ok.text.startswith("#")
    missing = api.get(f"/api/jobs/{job_id}/results/..%2Fjob_data.json")
    assert missing.status_code == 404


# -- the upload refuses what the run would refuse ------------------------------------

SAMPLE_FRAMEWORK = Path(__file__).parents[2] / "src" / "litgap" / "sample" / "framework.json"
ONE_PILLAR = '{"requirements": {"REQ-9.1: x": ["Sub-9.1.1: rain"]}}'


def upload_framework(api: Api, framework: bytes, config: dict | None = None) -> Any:
    return api.post(
        "/api/jobs",
        files=[
            ("files", ("a.txt", b"Rainwater tanks store roof runoff.", "text/plain")),
            ("pillars", ("f.json", framework, "application/json")),
        ],
        data={"config": json.dumps(config)} if config else {},
    )


def assert_refused(api: Api, response: Any, detail: str) -> None:
    assert response.status_code == 422, response.text
    assert response.json()["detail"] == detail
    assert list((api.settings.workspace / "jobs").iterdir()) == []


def test_framework_with_a_byte_order_mark_is_accepted_and_runs(api: Api) -> None:
    framework = b"\xef\xbb\xbf" + SAMPLE_FRAMEWORK.read_bytes()
    response = upload_framework(api, framework, {"pillar_selections": "ALL", "run_mode": "ONCE"})
    assert response.status_code == 201, response.text
    job_id = response.json()["job_id"]
    with api.events() as ws:
        api.post(f"/api/jobs/{job_id}/start")
        job = api.wait_finished(ws, job_id)
    assert job["status"] == "completed", job["error"]


def test_framework_nested_50000_deep_is_422(api: Api) -> None:
    response = upload_framework(api, b"[" * 50_000 + b"]" * 50_000)
    assert_refused(api, response, "pillars: f.json: nested deeper than 64 levels")


def test_framework_with_a_duplicate_pillar_is_422(api: Api) -> None:
    framework = f'{{"Pillar 1: A": {ONE_PILLAR}, "Pillar 1: A": {ONE_PILLAR}}}'.encode()
    response = upload_framework(api, framework)
    assert_refused(api, response, 'pillars: f.json: duplicate key "Pillar 1: A"')


@pytest.mark.parametrize("name", ["NONE", "all", " Deep "])
def test_pillar_named_like_a_selection_value_is_422(api: Api, name: str) -> None:
    response = upload_framework(api, f'{{"{name}": {ONE_PILLAR}}}'.encode())
    assert_refused(
        api,
        response,
        f'pillars: f.json: "{name}": a pillar may not be named ALL, DEEP or NONE '
        "(they are selection values)",
    )


def test_preset_selection_of_an_unknown_pillar_is_422(api: Api) -> None:
    framework = f'{{"Pillar 1: A": {ONE_PILLAR}}}'.encode()
    response = upload_framework(api, framework, {"pillar_selections": ["Pillar 1: A", "B"]})
    assert_refused(
        api,
        response,
        "config -> pillar_selections -> 1: 'B' is not a pillar of the framework; "
        "choose ALL, DEEP, NONE or pillars: 'Pillar 1: A'",
    )


def test_preset_selection_mixing_all_with_a_pillar_is_422(api: Api) -> None:
    framework = f'{{"Pillar 1: A": {ONE_PILLAR}}}'.encode()
    response = upload_framework(api, framework, {"pillar_selections": ["Pillar 1: A", "ALL"]})
    assert_refused(
        api,
        response,
        "config -> pillar_selections -> 1: 'ALL' stands alone; it cannot be combined with pillars",
    )


def test_prompt_timeout_of_true_is_422_not_one_second(api: Api) -> None:
    response = api.post(
        "/api/jobs", json={"sample": True, "config": {"prompt_timeouts": {"run_mode": True}}}
    )
    assert response.status_code == 422
    assert (
        response.json()["detail"]
        == "config -> prompt_timeouts -> run_mode: Input should be a valid integer"
    )


def test_a_misnamed_upload_field_is_422_naming_it_and_creates_nothing(api: Api) -> None:
    files = [
        ("files", ("a.txt", b"Roof catchment yield from rainfall.", "text/plain")),
        ("framework", ("f.json", b"{}", "application/json")),
    ]
    response = api.post("/api/jobs", files=files)
    assert response.status_code == 422
    assert "'framework'" in response.json()["detail"] and "pillars" in response.json()["detail"]
    assert api.get("/api/jobs").json()["jobs"] == []
