"""Hostile text through every entry point, then every read: nothing a user sends can
break the job list, a job, the WebSocket snapshot, the export or the CLI tables, and
text that cannot be stored is a 422 naming its place, with nothing written."""

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from litgap.runtime import open_runtime
from litgap.settings import Settings
from litgap.store.schema import jobs as jobs_table
from litgap.web.app import create_app
from tests.integration.conftest import Api, make_users

HOSTILE = {
    "terminal": "\x1b[2K\x1b[1A\x1b]52;c;aGVsbG8=\x07\x1b[8mhidden\x1b[0m",
    "controls": "bell\x07 back\x08 del\x7f nel\x85 csi\x9b tab\t cr\r",
    "bidi": "\u202eevil\u202c \u2066isolate\u2069 \u200fmark",
    "html": "<script>alert(1)</script><img src=x onerror=alert(1)>",
    "quotes": "\"'`</textarea>{{7*7}}${7*7}",
    "formula": '=HYPERLINK("http://evil.example","x")',
    "formula_cmd": "+1+cmd|' /C calc'!A0",
    "formula_at": "@SUM(1,2)",
    "invisible": "a\u200bb\ufeffc\u2028d\u2029e",
    "emoji": "\U0001f980 \U0001f469\u200d\U0001f469\u200d\U0001f467",
    "mathtext": "$\\frac{1}{$ 50% _x_ ^y^",
    "long": "L" * 5000,
}
UNSTORABLE = {"surrogate": "\ud800", "low_surrogate": "x\udfffy", "nul": "a\x00b"}
NO_RAW_CONTROLS = ("\x1b", "\x07", "\x9b")


def hostile_framework() -> dict[str, Any]:
    framework: dict[str, Any] = {}
    for i, (key, text) in enumerate(HOSTILE.items(), start=1):
        framework[f"Pillar {i}: {text}"] = {
            "description": text,
            "keywords": [text, key],
            "requirements": {
                f"REQ-{i}.1: {text}": [f"Sub-{i}.1.1: rainwater {text}", f"Sub-{i}.1.2: {key}"]
            },
        }
    framework["Framework_Overview"] = {"note": HOSTILE["html"]}
    return framework


def corpus_files() -> list[tuple[str, tuple[str, bytes, str]]]:
    files = []
    for key, text in HOSTILE.items():
        name = f"{text[:200]}.txt"
        body = f"{text}\nRainwater tanks store roof runoff; {key} {text}\n".encode()
        files.append(("files", (name, body, "text/plain")))
    return files


def upload(api: Api, framework: bytes, config: object = None) -> Any:
    data = {"config": config if isinstance(config, str) else json.dumps(config)} if config else {}
    return api.post(
        "/api/jobs",
        files=[*corpus_files(), ("pillars", ("framework.json", framework, "application/json"))],
        data=data,
    )


def post_escaped(api: Api, url: str, payload: object) -> Any:
    """JSON as a client that escapes every non-ASCII character sends it (`\\ud800`)."""
    return api.client.post(
        url,
        content=json.dumps(payload, ensure_ascii=True).encode(),
        headers={**api.headers(), "Content-Type": "application/json"},
    )


def job_folders(api: Api) -> list[Path]:
    return sorted((api.settings.workspace / "jobs").iterdir())


def run_hostile_job(api: Api) -> str:
    raw = json.dumps(hostile_framework()).encode()
    created = upload(api, raw)
    assert created.status_code == 201, created.text
    job_id: str = created.json()["job_id"]
    with api.events() as ws:
        api.post(f"/api/jobs/{job_id}/start")
        ask = api.next_prompt(ws, job_id)
        chosen = [o for o in ask["prompt_data"]["options"] if o not in ("ALL", "DEEP", "NONE")]
        answer = api.post(
            f"/api/prompts/{ask['prompt_id']}/respond",
            json={"response": chosen, "note": HOSTILE["terminal"] + HOSTILE["bidi"]},
        )
        assert answer.status_code == 200, answer.text
        mode = api.next_prompt(ws, job_id)
        answer = api.post(
            f"/api/prompts/{mode['prompt_id']}/respond",
            json={"response": "ONCE", "note": HOSTILE["formula"] + HOSTILE["html"]},
        )
        assert answer.status_code == 200, answer.text
        job = api.wait_finished(ws, job_id)
    assert job["status"] == "completed", job["error"]
    return job_id


def cli(settings: Settings, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "litgap", *args, "--workspace", str(settings.workspace)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="strict",
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def read_everything(api: Api, job_ids: list[str]) -> None:
    listed = api.get("/api/jobs")
    assert listed.status_code == 200, listed.text
    assert {j["job_id"] for j in listed.json()["jobs"]} >= set(job_ids)
    with api.events() as ws:
        snapshot = ws.receive_json()
    assert snapshot["type"] == "snapshot"
    assert {j["job_id"] for j in snapshot["data"]["jobs"]} >= set(job_ids)
    assert api.get("/api/prompts").status_code == 200
    for job_id in job_ids:
        job = api.get(f"/api/jobs/{job_id}")
        assert job.status_code == 200, job.text
        assert api.get(f"/api/jobs/{job_id}/prompts").status_code == 200
        download = api.get(f"/api/jobs/{job_id}/download")
        assert download.status_code == 200, download.text
        with zipfile.ZipFile(io.BytesIO(download.content)) as archive:
            assert archive.testzip() is None
        shown = cli(api.settings, "jobs", "show", job_id) + cli(
            api.settings, "jobs", "prompts", job_id
        )
        assert not any(c in shown for c in NO_RAW_CONTROLS)
    listed_cli = cli(api.settings, "jobs", "list")
    assert not any(c in listed_cli for c in NO_RAW_CONTROLS)


def test_hostile_text_everywhere_is_stored_and_every_read_succeeds(api: Api) -> None:
    job_id = run_hostile_job(api)
    job = api.get(f"/api/jobs/{job_id}").json()
    names = {i["name"] for i in job["inputs"]}
    # (the client percent-encodes quotes and BEL in a file name; the rest arrives as sent)
    assert {f"{HOSTILE[k]}.txt" for k in ("html", "bidi", "formula_at", "mathtext")} <= names
    assert job["prompts"][0]["note"] == HOSTILE["terminal"] + HOSTILE["bidi"]
    assert any(HOSTILE["mathtext"] in p for p in job["prompts"][0]["applied"])
    read_everything(api, [job_id])


@pytest.mark.parametrize("key", sorted(UNSTORABLE))
def test_unstorable_text_in_the_config_field_is_422_naming_it(api: Api, key: str) -> None:
    raw = json.dumps(hostile_framework()).encode()
    config = json.dumps({"pillar_selections": ["ALL"], "run_mode": UNSTORABLE[key]})
    response = upload(api, raw, config)
    assert response.status_code == 422
    assert response.json()["detail"].startswith("config -> run_mode: contains a ")
    assert job_folders(api) == []
    assert api.get("/api/jobs").json()["jobs"] == []


def test_a_lone_surrogate_in_a_pillar_selection_is_422_and_nothing_is_written(api: Api) -> None:
    response = api.post(
        "/api/jobs",
        files=[("files", ("a.txt", b"rain", "text/plain"))],
        data={"config": '{"pillar_selections": ["\\ud800"]}'},
    )
    assert response.status_code == 422
    assert response.json()["detail"] == (
        "config -> pillar_selections -> 0: contains a lone surrogate U+D800 at character 0, "
        "which is not Unicode text (UTF-8 cannot hold it)"
    )
    assert job_folders(api) == []
    assert api.get("/api/jobs").status_code == 200


def test_a_lone_surrogate_in_the_json_body_is_422_naming_the_place(api: Api) -> None:
    response = api.client.post(
        "/api/jobs",
        content=b'{"sample": true, "config": {"pillar_selections": ["x", "\\udc00"]}}',
        headers={**api.headers(), "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["detail"].startswith(
        "config -> pillar_selections -> 1: contains a lone surrogate U+DC00"
    )
    assert job_folders(api) == []


@pytest.mark.parametrize("key", sorted(UNSTORABLE))
def test_unstorable_text_in_a_framework_is_422_and_nothing_is_written(api: Api, key: str) -> None:
    framework = hostile_framework()
    framework["Pillar 99: bad"] = {
        "requirements": {"REQ-99.1: x": [f"Sub-99.1.1: {UNSTORABLE[key]}"]}
    }
    response = upload(api, json.dumps(framework).encode())
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail.startswith(
        'pillars: framework.json: "Pillar 99: bad" -> "requirements" -> "REQ-99.1: x" -> item 1: '
        "contains a "
    ), detail
    assert job_folders(api) == []


@pytest.mark.parametrize("key", sorted(UNSTORABLE))
def test_unstorable_text_in_a_note_or_answer_is_422_and_nothing_recorded(
    api: Api, key: str
) -> None:
    created = api.post("/api/jobs", json={"sample": True})
    job_id = created.json()["job_id"]
    with api.events() as ws:
        api.post(f"/api/jobs/{job_id}/start")
        ask = api.next_prompt(ws, job_id)
        url = f"/api/prompts/{ask['prompt_id']}/respond"
        as_note = post_escaped(api, url, {"response": ["ALL"], "note": UNSTORABLE[key]})
        as_answer = post_escaped(api, url, {"response": ["ALL", UNSTORABLE[key]]})
        pending = api.get(f"/api/prompts?job_id={job_id}").json()["prompts"]
        api.post(f"/api/jobs/{job_id}/cancel")
    assert as_note.status_code == 422
    assert as_note.json()["detail"].startswith("note: contains a ")
    assert as_answer.status_code == 422
    assert as_answer.json()["detail"].startswith("response -> 1: contains a ")
    assert [p["prompt_id"] for p in pending] == [ask["prompt_id"]]


def test_unstorable_text_in_a_file_name_is_422(api: Api) -> None:
    body = (
        b'--B\r\nContent-Disposition: form-data; name="files"; filename="a\x00b.txt"\r\n'
        b"Content-Type: text/plain\r\n\r\nrain\r\n--B--\r\n"
    )
    response = api.client.post(
        "/api/jobs",
        content=body,
        headers={**api.headers(), "Content-Type": "multipart/form-data; boundary=B"},
    )
    assert response.status_code == 422
    assert response.json()["detail"].startswith("files -> 0 -> filename: contains a NUL")
    assert job_folders(api) == []


def test_a_deeply_nested_body_is_422_not_500(api: Api) -> None:
    body = b'{"response": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"
    response = api.client.post(
        "/api/prompts/prm_x/respond",
        content=body,
        headers={**api.headers(), "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["detail"] == "body: JSON nested too deeply"


def test_stored_surrogates_from_before_the_checks_do_not_break_any_read(
    api: Api, tmp_path: Path
) -> None:
    job_id = run_hostile_job(api)
    # What an older litgap let in: a config holding a lone surrogate escape and NUL.
    rt = open_runtime(api.settings)
    try:
        with rt.engine.begin() as conn:
            conn.execute(
                sa.text("UPDATE jobs SET config = :c WHERE job_id = :j"),
                {"c": '{"pillar_selections": ["\\ud800", "a\\u0000b"]}', "j": job_id},
            )
    finally:
        rt.close()
    job = api.get(f"/api/jobs/{job_id}")
    assert job.status_code == 200
    assert job.json()["config"]["pillar_selections"] == ["\ufffd", "a\ufffdb"]
    read_everything(api, [job_id])


def test_a_legacy_job_folder_with_surrogates_is_imported_readable(
    api_settings: Settings,
) -> None:
    folder = api_settings.workspace / "jobs" / "job_legacy01"
    folder.mkdir(parents=True)
    document = (
        '{"job_id": "job_legacy01", "status": "completed", "created_at": "2024-01-01T00:00:00Z",'
        ' "config": {"pillar_selections": ["\\ud83d", "' + HOSTILE["html"] + '"]},'
        ' "inputs": [{"name": "\\udfff\\u0000.txt", "role": "corpus"}]}'
    )
    (folder / "job_data.json").write_text(document, encoding="utf-8")
    tokens = make_users(api_settings)
    with TestClient(create_app(api_settings)) as client:
        api = Api(client.app, client, tokens, api_settings)  # type: ignore[arg-type]
        job = api.get("/api/jobs/job_legacy01")
        assert job.status_code == 200, job.text
        assert job.json()["inputs"][0]["name"] == "\ufffd\ufffd.txt"
        read_everything(api, ["job_legacy01"])
    rt = open_runtime(api_settings)
    try:
        with rt.engine.connect() as conn:
            stored = conn.execute(sa.select(jobs_table.c.config)).scalar_one()
    finally:
        rt.close()
    assert stored["pillar_selections"] == ["\ufffd", HOSTILE["html"]]


@pytest.mark.parametrize("url", ["/api/jobs?q=%00", "/api/jobs?prompt_type=run_mode&response=a%00"])
def test_nul_in_a_search_is_422_naming_the_parameter(api: Api, url: str) -> None:
    response = api.get(url)
    assert response.status_code == 422
    assert response.json()["detail"].startswith("query -> ")
    assert "contains a NUL character" in response.json()["detail"]
