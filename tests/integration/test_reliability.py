"""Durability and bad input at the edges: races, truncated files, oversize bodies."""

import contextlib
import json
import os
import shutil
import threading
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from litgap.web.app import create_app
from tests.conftest import make_settings
from tests.integration.conftest import Api, make_users
from tests.integration.test_api_auth import Chunks, MiB
from tests.integration.test_api_jobs import create_sample
from tests.live import LiveServer


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


def _open_files_under(pid: int, folder: Path) -> list[str]:
    found = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith(str(folder)):
                found.append(target)
    return found


def test_chunked_upload_past_the_limit_is_413_unread_and_its_spool_deleted(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path)
    tokens = make_users(settings)
    spool = tmp_path / "spool"
    spool.mkdir()
    server = LiveServer(
        settings.workspace,
        tokens["operator"],
        env={"LITGAP_MAX_UPLOAD_BYTES": str(3 * MiB), "TMPDIR": str(spool)},
    ).start()
    try:
        head = (
            b'--B\r\nContent-Disposition: form-data; name="files"; filename="big.txt"\r\n'
            b"Content-Type: text/plain\r\n\r\n"
        )
        body = Chunks(96 * MiB, head=head)
        response = httpx.post(
            f"{server.url}/api/jobs",
            content=iter(body),
            headers={
                "Authorization": f"Bearer {tokens['operator']}",
                "Content-Type": "multipart/form-data; boundary=B",
            },
            timeout=30,
        )
        assert server.process is not None
        assert _open_files_under(server.process.pid, spool) == []
    finally:
        server.stop()
    assert response.status_code == 413
    assert response.json()["detail"] == (
        f"upload exceeds the limit of {3 * MiB} bytes (LITGAP_MAX_UPLOAD_BYTES); nothing was saved"
    )
    assert body.sent < 16 * MiB
    assert list((settings.workspace / "jobs").iterdir()) == []


def test_a_document_the_disk_refuses_after_the_commit_keeps_the_job_and_says_so(
    api: Api,
) -> None:
    jobs_dir = api.settings.workspace / "jobs"
    stop = threading.Event()

    def block_the_document() -> None:
        # A directory where job_data.json should go: the document cannot be written,
        # as on a full or broken disk, after the job's row is in the store.
        while not stop.is_set():
            for folder in jobs_dir.iterdir():
                with contextlib.suppress(OSError):
                    (folder / "job_data.json" / "in-the-way").mkdir(parents=True)
                    stop.set()

    watcher = threading.Thread(target=block_the_document)
    watcher.start()
    try:
        response = api.post(
            "/api/jobs", files=[("files", ("big.txt", b"word " * (6 * MiB), "text/plain"))]
        )
    finally:
        stop.set()
        watcher.join()
    # The store holds the job (its inputs were on disk before its row): it is kept, and
    # its document, which trails the store, is what fails, and says so when asked for.
    assert response.status_code == 201, response.text
    job_id = response.json()["job_id"]
    assert [j["job_id"] for j in api.get("/api/jobs").json()["jobs"]] == [job_id]
    download = api.get(f"/api/jobs/{job_id}/download")
    assert download.status_code == 507
    assert "could not write" in download.json()["detail"]
    assert (jobs_dir / job_id / "inputs" / "corpus" / "big.txt").stat().st_size == 6 * 5 * MiB
    shutil.rmtree(jobs_dir / job_id / "job_data.json")  # the disk takes it again
    assert api.post(f"/api/jobs/{job_id}/cancel").status_code == 202  # the next change
    assert api.get(f"/api/jobs/{job_id}/download").status_code == 200
    assert json.loads((jobs_dir / job_id / "job_data.json").read_text())["job_id"] == job_id


def test_an_answer_listing_more_values_than_options_is_422_at_once(api: Api) -> None:
    job_id = create_sample(api)
    with api.events() as ws:
        api.post(f"/api/jobs/{job_id}/start")
        ask = api.next_prompt(ws, job_id)
        count = len(ask["prompt_data"]["options"])
        response = api.post(
            f"/api/prompts/{ask['prompt_id']}/respond", json={"response": ["ALL"] * 100_000}
        )
        api.post(f"/api/jobs/{job_id}/cancel")
    assert response.status_code == 422
    assert response.json()["detail"] == (
        f"invalid response to prompt {ask['prompt_id']!r}: 100000 values chosen; "
        f"there are {count} options"
    )
