"""A worker killed in the middle of a job: another worker notices the silence and
finishes the job, its history whole."""

import io
import json
import random

from litgap.config import JobConfig
from litgap.pipeline.sample import sample_corpus_paths
from litgap.services import jobs as job_service
from litgap.services.inputs import InputFile
from tests.cluster.conftest import Cluster, read_events

PAPERS = 600  # enough reading and scoring to keep a worker busy for a second or two


def _long_job(cluster: Cluster) -> str:
    """A job with a large corpus and every decision preset: it runs without asking."""
    words = " ".join(p.read_text() for p in sample_corpus_paths()).split()
    rng = random.Random(7)
    files = [
        InputFile(
            f"paper-{i:04d}.txt",
            io.BytesIO(" ".join(rng.choice(words) for _ in range(2500)).encode()),
        )
        for i in range(PAPERS)
    ]
    config = JobConfig(
        pillar_selections="ALL", run_mode="DEEP_LOOP", continue_decisions=["yes"] * 4
    )
    rt = cluster.runtime()
    try:
        return str(job_service.create_job(rt, files=files, config=config)["job_id"])
    finally:
        rt.close()


def test_a_killed_workers_job_is_finished_by_another(cluster: Cluster) -> None:
    job_id = _long_job(cluster)
    doomed = cluster.start_worker()
    with cluster.server.client() as http, cluster.server.events() as ws:
        http.post(f"/api/jobs/{job_id}/start")
        # The worker has started the run (it is reading the corpus) when it dies.
        read_events(
            ws,
            lambda e: (
                e["type"] == "job_update"
                and e["data"].get("job_id") == job_id
                and e["data"].get("status") == "running"
            ),
        )
        [run] = [r for r in cluster.queue_rows() if r["lock"] == job_id]
        assert run["status"] == "doing"
        doomed.kill()
        assert http.get(f"/api/jobs/{job_id}").json()["status"] == "running"

        rescuer = cluster.start_worker()
        read_events(
            ws,
            lambda e: (
                e["type"] == "job_update"
                and e["data"].get("job_id") == job_id
                and e["data"].get("status") in ("completed", "failed", "cancelled")
            ),
        )
        job = http.get(f"/api/jobs/{job_id}").json()

    assert job["status"] == "completed", (job["error"], cluster.logs())
    statuses = [t["status"] for t in job["transitions"]]
    assert statuses == ["draft", "queued", "running", "completed"]
    assert job["results"]["pillars"]
    document = json.loads((cluster.workspace / "jobs" / job_id / "job_data.json").read_text())
    assert document["status"] == "completed" and document["results"] == job["results"]
    # The same queue entry, handed from the dead worker to the live one.
    assert [r["status"] for r in cluster.queue_rows() if r["lock"] == job_id] in ([], ["succeeded"])
    rescuer.stop()
    assert "of a silent worker handed back to the queue" in rescuer.log.read_text()


def test_cancelling_a_running_job_stops_it_on_its_worker(cluster: Cluster) -> None:
    job_id = _long_job(cluster)
    cluster.start_worker()
    with cluster.server.client() as http, cluster.server.events() as ws:
        http.post(f"/api/jobs/{job_id}/start")
        read_events(
            ws,
            lambda e: (
                e["type"] == "job_update"
                and e["data"].get("job_id") == job_id
                and e["data"].get("status") == "running"
            ),
        )
        assert http.post(f"/api/jobs/{job_id}/cancel").status_code == 202
        cluster.wait_until(
            lambda: (
                [r["status"] for r in cluster.queue_rows() if r["lock"] == job_id] == ["aborted"]
            ),
            "the worker to abort the run",
        )
        job = http.get(f"/api/jobs/{job_id}").json()
    assert job["status"] == "cancelled" and job["error"] == "cancelled by user"
    assert job["result_files"] == []
