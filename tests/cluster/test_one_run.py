"""A job runs once, whoever could run it: on a cluster's database every process hands
its jobs to the queue, whatever `LITGAP_EXECUTOR` says.

Runs are counted from the cluster's event channel, listened to before any process
starts: every run announces its start (a `job_update` at stage "starting"), and every
process of a cluster's database sends its events there (a process that would run jobs
without the cluster's bridge is refused: the last test)."""

import subprocess
import sys
from collections import Counter
from pathlib import Path

import psycopg
import pytest

from litgap.cluster_events import CHANNEL, decode
from litgap.config import JobConfig
from litgap.executor import JobsRunOnTheQueue
from litgap.executor.inprocess import InProcessExecutor
from litgap.executor.queue import conninfo
from litgap.pipeline.sample import sample_corpus_paths, sample_framework_path
from litgap.services import jobs as job_service
from litgap.status import JobStatus
from tests.cluster.conftest import Cluster
from tests.live import LiveServer

PRESET = {"pillar_selections": "ALL", "run_mode": "ONCE"}  # runs without asking


class NoDefer:
    """What a dashboard that died between a job's start and its hand-off left behind:
    the job queued in the store and nowhere else."""

    def submit(self, job_id: str) -> None:
        pass

    def cancel(self, job_id: str) -> bool:
        return False


class RunCounter:
    """Counts the runs each job starts, as announced on the cluster's channel."""

    def __init__(self, database_url: str) -> None:
        self.runs: Counter[str] = Counter()
        self._conn = psycopg.connect(conninfo(database_url), autocommit=True)
        self._conn.execute(f"LISTEN {CHANNEL}")

    def read(self, seconds: float = 1.0) -> Counter[str]:
        """What arrived so far (waiting `seconds` for stragglers)."""
        for notify in self._conn.notifies(timeout=seconds):
            message = decode(notify.payload) or {}
            data = message.get("data") or {}
            if message.get("type") == "job_update" and data.get("stage") == "starting":
                self.runs[data["job_id"]] += 1
        return self.runs

    def close(self) -> None:
        self._conn.close()


def _left_queued(cluster: Cluster, count: int) -> list[str]:
    rt = cluster.runtime()
    try:
        config = JobConfig.model_validate(PRESET)
        job_ids = []
        for _ in range(count):
            row = job_service.create_sample_job(rt, config)
            job_service.start_job(rt, NoDefer(), row["job_id"])
            job_ids.append(str(row["job_id"]))
        return job_ids
    finally:
        rt.close()


def _statuses(cluster: Cluster, job_ids: list[str]) -> dict[str, str]:
    rt = cluster.runtime()
    try:
        return {j: job_service.get_job(rt, j)["status"] for j in job_ids}
    finally:
        rt.close()


def _all_ended(cluster: Cluster, job_ids: list[str]) -> bool:
    return all(JobStatus(s).is_terminal for s in _statuses(cluster, job_ids).values())


def test_a_dashboard_without_the_queue_setting_and_a_worker_run_each_job_once(
    tmp_path: Path, database_url: str
) -> None:
    cluster = Cluster(tmp_path, database_url)
    counter = RunCounter(database_url)
    plain_env = {k: v for k, v in cluster.env.items() if k != "LITGAP_EXECUTOR"}
    cluster.server = LiveServer(cluster.workspace, cluster.server.token, env=plain_env)
    # Active jobs that an embedded dashboard would resume at its start, and that a
    # worker's sweep finds with nothing to continue them: both would run them.
    job_ids = _left_queued(cluster, 3)
    try:
        cluster.start_worker()
        cluster.server.start()
        with cluster.server.client() as http:
            for _ in range(3):
                created = http.post("/api/jobs", json={"sample": True, "config": PRESET})
                assert created.status_code == 201, created.text
                job_ids.append(created.json()["job_id"])
                assert http.post(f"/api/jobs/{job_ids[-1]}/start").status_code == 202
        cluster.wait_until(lambda: _all_ended(cluster, job_ids), "every job to end", 120)
    finally:
        cluster.stop()

    runs = counter.read()
    counter.close()
    assert runs == Counter(dict.fromkeys(job_ids, 1))
    assert set(_statuses(cluster, job_ids).values()) == {"completed"}, cluster.logs()


def test_litgap_run_on_a_cluster_database_hands_its_job_to_a_worker(
    cluster: Cluster, database_url: str
) -> None:
    counter = RunCounter(database_url)
    cluster.start_worker()
    corpus = Path(sample_corpus_paths()[0]).parent
    command = [sys.executable, "-m", "litgap", "run", "--workspace", str(cluster.workspace)]
    options = ["--corpus", str(corpus), "--pillars", str(sample_framework_path())]
    presets = ["--pillar-selection", "ALL", "--run-mode", "ONCE"]
    done = subprocess.run(
        [*command, *options, *presets],
        env={**cluster.env, "LITGAP_EXECUTOR": "inprocess"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = done.stdout + done.stderr + cluster.logs()
    started = counter.read()
    counter.close()
    assert len(started) == 1, output
    [(job_id, runs)] = started.items()
    assert runs == 1, output
    assert f"Job {job_id}" in done.stdout
    assert _statuses(cluster, [job_id]) == {job_id: "completed"}, output
    assert done.returncode == 0, output


def test_the_in_process_executor_refuses_a_cluster_database(cluster: Cluster) -> None:
    rt = cluster.runtime()
    try:
        with pytest.raises(JobsRunOnTheQueue, match="cluster's database"):
            InProcessExecutor(rt)
    finally:
        rt.close()


def test_a_worker_can_be_stopped_with_sigterm(cluster: Cluster) -> None:
    worker = cluster.start_worker()
    cluster.wait_until(lambda: _workers(cluster.database_url) == 1, "the worker to say hello")
    worker.process.terminate()
    assert worker.process.wait(timeout=30) == 0, cluster.logs()
    assert _workers(cluster.database_url) == 0


def _workers(database_url: str) -> int:
    with psycopg.connect(conninfo(database_url)) as conn:
        row = conn.execute("SELECT count(*) FROM procrastinate_workers").fetchone()
        return int(row[0]) if row else 0
