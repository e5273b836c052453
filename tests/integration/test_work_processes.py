"""Job work runs in worker processes: a cancel stops it within a second, a crash fails
only its job, and the serving process never renders a report itself."""

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from litgap.executor.pool import WorkerPool, shared_pool
from litgap.pipeline import sample_corpus_paths
from litgap.runtime import open_runtime
from litgap.services.auth import Role, create_user
from litgap.settings import Settings
from tests.big_inputs import big_framework
from tests.integration.conftest import Api
from tests.live import LiveServer

PRESETS = {"pillar_selections": "ALL", "run_mode": "ONCE"}


def create_big_job(api: Api, pillars: int) -> str:
    """A job on the sample corpus and a framework big enough that its work takes seconds
    (rendering its chart alone takes several)."""
    files: list[tuple[str, tuple[str, bytes, str]]] = [
        ("files", (p.name, p.read_bytes(), "text/plain")) for p in sample_corpus_paths()
    ]
    files.append(("pillars", ("framework.json", big_framework(pillars), "application/json")))
    response = api.post("/api/jobs", files=files, data={"config": json.dumps(PRESETS)})
    assert response.status_code == 201, response.text
    return response.json()["job_id"]  # type: ignore[no-any-return]


def worker_in_stage(api: Api, pool: WorkerPool, job_id: str, stage: str) -> int:
    """The pid of the worker running the job's work once the job is in `stage`."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job = api.get(f"/api/jobs/{job_id}").json()
        assert job["status"] in ("queued", "running"), job
        if job["stage"] == stage and pool.busy():
            return pool.busy()[0]
        time.sleep(0.02)
    raise AssertionError(f"job {job_id} never reached {stage!r}")


def gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not Path(f"/proc/{pid}").exists():
            return True
        time.sleep(0.005)
    return False


def test_cancelling_a_running_job_kills_its_work_within_a_second(api: Api) -> None:
    pool = shared_pool(api.settings.analysis_processes)
    job_id = create_big_job(api, pillars=100)
    assert api.post(f"/api/jobs/{job_id}/start").status_code == 202
    pid = worker_in_stage(api, pool, job_id, "writing reports")
    assert pid != os.getpid()
    assert api.post(f"/api/jobs/{job_id}/cancel").status_code == 202
    assert gone_within(pid, 1.0), f"worker {pid} still runs the cancelled job's work"
    job = api.get(f"/api/jobs/{job_id}").json()
    assert job["status"] == "cancelled"
    assert job["result_files"] == []


def test_a_job_whose_worker_dies_fails_with_a_clear_error_and_the_next_job_runs(
    api: Api,
) -> None:
    pool = shared_pool(api.settings.analysis_processes)
    job_id = create_big_job(api, pillars=100)
    with api.events() as ws:
        api.post(f"/api/jobs/{job_id}/start")
        os.kill(worker_in_stage(api, pool, job_id, "writing reports"), signal.SIGKILL)
        job = api.wait_finished(ws, job_id)
        assert job["status"] == "failed"
        assert job["error"] == (
            "the analysis process running write_results died (killed by SIGKILL)"
        )
        response = api.post("/api/jobs", json={"sample": True, "config": PRESETS})
        next_id = response.json()["job_id"]
        api.post(f"/api/jobs/{next_id}/start")
        assert api.wait_finished(ws, next_id)["status"] == "completed"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    workspace = tmp_path / "ws"
    rt = open_runtime(Settings(workspace=workspace))
    token = create_user(rt.engine, "ops", Role.OPERATOR)[1]
    rt.close()
    live = LiveServer(workspace, token).start()
    yield live
    live.stop()


def mapped_files(pid: int) -> str:
    return Path(f"/proc/{pid}/maps").read_text()


def test_a_served_job_renders_its_report_outside_the_serving_process(
    server: LiveServer,
) -> None:
    assert server.process is not None
    with server.client() as http:
        job_id = http.post("/api/jobs", json={"sample": True, "config": PRESETS}).json()["job_id"]
        http.post(f"/api/jobs/{job_id}/start")
        job: dict[str, Any] = {}
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            job = http.get(f"/api/jobs/{job_id}").json()
            if job["status"] not in ("queued", "running"):
                break
            time.sleep(0.05)
    assert job["status"] == "completed", job
    assert "completeness.svg" in job["result_files"]
    # The chart library's compiled modules were never loaded by the server.
    assert "matplotlib" not in mapped_files(server.process.pid)
