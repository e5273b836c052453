"""A large corpus's embedding spread over a cluster's workers: the run shares it out as
tasks on the queue, idle workers embed shares into the shared embedding cache, and the
report is byte for byte the one a single machine writes."""

import asyncio
import contextlib
import io
import os
import signal
from pathlib import Path

import httpx
import psycopg

from litgap.config import JobConfig
from litgap.executor.queue import conninfo
from litgap.pipeline import load_framework, sample_framework_path
from litgap.runtime import Runtime, open_runtime
from litgap.services import jobs as job_service
from litgap.services.inputs import InputFile
from tests.audit_helpers import run_job
from tests.big_inputs import sentence_papers
from tests.cluster.conftest import Cluster
from tests.conftest import make_settings

PRESET = {"pillar_selections": "ALL", "run_mode": "ONCE", "scorer": "semantic"}
REPORT = "results/gap_analysis_report.json"


def _papers(count: int = 60) -> list[tuple[str, bytes]]:
    """`count` papers of real sentences: for 60, about 600 chunk groups to embed, three
    shares."""
    framework = load_framework(sample_framework_path())
    echoes = [
        sub.text
        for pillar in framework.select(framework.pillar_names())
        for _, sub in pillar.sub_requirements()
    ]
    return [
        (f"paper-{n:02d}.txt", text.encode())
        for n, text in enumerate(sentence_papers(count, 1500, echoes))
    ]


def _create(rt: Runtime, papers: list[tuple[str, bytes]]) -> str:
    files = [InputFile(name, io.BytesIO(data)) for name, data in papers]
    row = job_service.create_job(rt, files=files, config=JobConfig(**PRESET))
    return str(row["job_id"])


def _single_machine_report(root: Path, papers: list[tuple[str, bytes]]) -> bytes:
    rt = open_runtime(make_settings(root))
    try:
        job_id = _create(rt, papers)
        assert asyncio.run(run_job(rt, job_id))["status"] == "completed"
        return (rt.workspace.job_dir(job_id) / REPORT).read_bytes()
    finally:
        rt.close()


def _alone_and_on_the_cluster(
    cluster: Cluster, tmp_path: Path, papers: list[tuple[str, bytes]]
) -> tuple[bytes, str]:
    """The report of a single machine's run of `papers`, and the same job created (not
    started) on the cluster."""
    alone = _single_machine_report(tmp_path / "alone", papers)
    rt = cluster.runtime()
    try:
        return alone, _create(rt, papers)
    finally:
        rt.close()


def _wait_completed(cluster: Cluster, http: httpx.Client, job_id: str) -> None:
    cluster.wait_until(
        lambda: http.get(f"/api/jobs/{job_id}").json()["status"] == "completed",
        "the job to complete",
        timeout=180,
    )


def test_a_large_embedding_is_spread_over_the_workers_with_a_single_machines_result(
    cluster: Cluster, tmp_path: Path
) -> None:
    alone, job_id = _alone_and_on_the_cluster(cluster, tmp_path, _papers())
    workers = [cluster.start_worker("--verbose") for _ in range(2)]
    with cluster.server.client() as http:
        assert http.post(f"/api/jobs/{job_id}/start").status_code == 202
        _wait_completed(cluster, http, job_id)
    shared = (cluster.workspace / "jobs" / job_id / REPORT).read_bytes()
    assert shared == alone
    # A worker that did not run the job embedded a share of it.
    logs = [w.log.read_text(errors="replace") for w in workers]
    assert any("'worked': True" in log for log in logs), cluster.logs()
    assert list((cluster.workspace / "cache" / "embedding-plans").iterdir()) == []


def _tree(pid: int) -> set[int]:
    """`pid` and every process under it."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(fields[1])
    found, grew = {pid}, True
    while grew:
        more = {child for child, parent in parents.items() if parent in found} - found
        found |= more
        grew = bool(more)
    return found


def _share_lock_holders(cache: Path) -> set[int]:
    """The processes holding a flock on a share's lock file now (from /proc/locks)."""
    plans = cache / "embedding-plans"
    inodes = set()
    for lock in plans.glob("*.lock") if plans.is_dir() else []:
        try:
            inodes.add(lock.stat().st_ino)
        except FileNotFoundError:
            continue
    holders = set()
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if len(fields) > 5 and fields[1] == "FLOCK" and int(fields[5].split(":")[2]) in inodes:
            holders.add(int(fields[4]))
    return holders


def _worker_ids(cluster: Cluster) -> set[int]:
    with psycopg.connect(conninfo(cluster.database_url)) as conn:
        return {row[0] for row in conn.execute("SELECT id FROM procrastinate_workers")}


def test_a_helper_killed_in_the_middle_of_its_share_leaves_it_to_the_run(
    cluster: Cluster, tmp_path: Path
) -> None:
    # 120 papers: shares enough that the helper is sure to take one.
    alone, job_id = _alone_and_on_the_cluster(cluster, tmp_path, _papers(120))
    workers = {}  # by the queue's worker id: started one by one to know which is which
    for _ in range(2):
        worker = cluster.start_worker()
        cluster.wait_until(lambda: len(_worker_ids(cluster)) > len(workers), "a worker to start")
        [new] = _worker_ids(cluster) - set(workers)
        workers[new] = worker
    with cluster.server.client() as http:
        assert http.post(f"/api/jobs/{job_id}/start").status_code == 202
        cluster.wait_until(lambda: bool(cluster.runs("doing")), "a worker to run the job")
        [run] = [r for r in cluster.runs("doing") if r["lock"] == job_id]
        [helper] = [w for worker_id, w in workers.items() if worker_id != run["worker_id"]]
        cluster.wait_until(
            lambda: bool(
                _share_lock_holders(cluster.workspace / "cache") & _tree(helper.process.pid)
            ),
            "the other worker to take a share",
            timeout=120,
        )
        for pid in _tree(helper.process.pid):  # the worker and its analysis processes
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        _wait_completed(cluster, http, job_id)
    assert (cluster.workspace / "jobs" / job_id / REPORT).read_bytes() == alone
