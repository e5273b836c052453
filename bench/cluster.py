"""200 jobs over 4 workers on PostgreSQL, answered through HTTP.

A throwaway PostgreSQL server, a dashboard (`litgap serve`, queue executor) and 4
`litgap worker` processes share one workspace. This process creates 200 sample jobs
through the API, starts them all, and answers every prompt_request it sees on /ws
(pillar_selection ALL, run_mode DEEP_LOOP, continue yes) until every job completes.
Prints jobs per minute, answers per second, and the prompt round trip p50/p99: from
POSTing an answer to the dashboard to /ws showing the job running again on a worker.
Then checks every job_data.json holds each answer. The same run against the embedded
default (SQLite, in-process executor) is the baseline the ratios are printed against.

Environment: CLUSTER_JOBS (200), CLUSTER_WORKERS (4), CLUSTER_BASELINE (1: also run
the baseline; 0: skip it).

`--embedding` (issue 18): one semantic job on a large corpus of real sentences, run by
1, 2 and 4 workers, each pinned to one core (as on a cluster of one-core machines: this
machine has two), the embedding cache cold each time. The run shares its embedding out
(`pipeline/scorers/spread.py`); prints the job's wall time, the speed-up over one
worker, and checks that every report is byte for byte the same.
"""

import asyncio
import functools
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
JOBS = int(os.environ.get("CLUSTER_JOBS", 200))
WORKERS = int(os.environ.get("CLUSTER_WORKERS", 4))
IDLE = int(os.environ.get("CLUSTER_IDLE", 20))
ANSWERS = {"pillar_selection": "ALL", "run_mode": "DEEP_LOOP", "continue": "yes"}
IDLE_ANSWERS = {"pillar_selection": "ALL", "run_mode": "ONCE"}


@dataclass
class Figures:
    elapsed: float = 0.0
    answers: int = 0
    answering: float = 0.0
    trips: list[float] = field(default_factory=list)
    posts: list[float] = field(default_factory=list)
    idle_trips: list[float] = field(default_factory=list)


async def drive(url: str, token: str) -> Figures:
    """Create and start JOBS jobs, answer everything they ask, until all complete."""
    headers = {"Authorization": f"Bearer {token}"}
    figures = Figures()
    answered_at: dict[str, float] = {}
    first_answer = last_answer = 0.0
    # Idle connections are dropped before the server's keep-alive timeout (5 s) can
    # close one under a request.
    limits = httpx.Limits(max_connections=64, keepalive_expiry=2.0)
    async with (
        httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=120) as http,
        connect(url.replace("http", "ws") + "/ws", additional_headers=headers, max_size=None) as ws,
    ):
        await ws.recv()  # the snapshot

        async def create() -> str:
            response = await http.post("/api/jobs", json={"sample": True})
            assert response.status_code == 201, response.text
            return str(response.json()["job_id"])

        job_ids = set(await asyncio.gather(*(create() for _ in range(JOBS))))
        started = time.perf_counter()
        for job_id in job_ids:
            assert (await http.post(f"/api/jobs/{job_id}/start")).status_code == 202

        async def answer(prompt: dict[str, object]) -> None:
            nonlocal first_answer, last_answer
            posted = time.perf_counter()
            first_answer = first_answer or posted
            answered_at[str(prompt["job_id"])] = posted
            response = await http.post(
                f"/api/prompts/{prompt['prompt_id']}/respond",
                json={"response": ANSWERS[str(prompt["type"])]},
            )
            assert response.status_code == 200, response.text
            last_answer = time.perf_counter()
            figures.posts.append(last_answer - posted)
            figures.answers += 1

        tasks: set[asyncio.Task[None]] = set()
        failures: list[BaseException] = []
        seen: set[str] = set()
        finished: set[str] = set()

        def done(task: asyncio.Task[None]) -> None:
            tasks.discard(task)
            if not task.cancelled() and task.exception() is not None:
                failures.append(task.exception())  # type: ignore[arg-type]

        while finished != job_ids:
            if failures:
                raise failures[0]
            event = json.loads(await asyncio.wait_for(ws.recv(), timeout=120))
            data = event["data"]
            job_id = data.get("job_id")
            if job_id not in job_ids:
                continue
            if event["type"] == "prompt_request" and data["prompt_id"] not in seen:
                seen.add(data["prompt_id"])
                task = asyncio.create_task(answer(data))
                tasks.add(task)
                task.add_done_callback(done)
            elif event["type"] == "job_update" and data.get("status") == "running":
                posted = answered_at.pop(job_id, None)
                if posted is not None:
                    figures.trips.append(time.perf_counter() - posted)
            elif event["type"] == "job_update" and data.get("status") in (
                "completed",
                "failed",
                "cancelled",
                "interrupted",
            ):
                assert data["status"] == "completed", data
                finished.add(job_id)
        figures.elapsed = time.perf_counter() - started
        figures.answering = last_answer - first_answer

        # The same round trip with nothing else going on: one job at a time.
        async def until(job_id: str, kind: str, **match: object) -> dict[str, object]:
            while True:
                event = json.loads(await asyncio.wait_for(ws.recv(), timeout=60))
                data = event["data"]
                if (
                    event["type"] == kind
                    and data.get("job_id") == job_id
                    and all(data.get(k) == v for k, v in match.items())
                ):
                    return dict(data)

        for _ in range(IDLE):
            job_id = await create()
            await http.post(f"/api/jobs/{job_id}/start")
            for kind, status in (("pillar_selection", "running"), ("run_mode", "completed")):
                prompt = await until(job_id, "prompt_request", type=kind)
                posted = time.perf_counter()
                response = await http.post(
                    f"/api/prompts/{prompt['prompt_id']}/respond",
                    json={"response": IDLE_ANSWERS[kind]},
                )
                assert response.status_code == 200, response.text
                figures.answers += 1
                await until(job_id, "job_update", status=status)
                if status == "running":
                    figures.idle_trips.append(time.perf_counter() - posted)
    return figures


def check_documents(workspace: Path) -> int:
    """Every job completed, and its job_data.json holds every answer it was given."""
    records = 0
    for document in workspace.glob("jobs/*/job_data.json"):
        data = json.loads(document.read_text())
        assert data["status"] == "completed", document
        assert [p["seq"] for p in data["prompts"]] == list(range(len(data["prompts"])))
        assert all(p["source"] == "user" for p in data["prompts"]), document
        records += len(data["prompts"])
    return records


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000 if ordered else 0.0


def report(name: str, figures: Figures, records: int) -> None:
    print(f"{name}: {JOBS} jobs, {figures.answers} answers in {figures.elapsed:.1f} s")
    print(f"  jobs per minute: {JOBS / figures.elapsed * 60:.0f}")
    print(
        f"  answers per second: {figures.answers / figures.answering:.0f}  "
        f"(POST p50 {statistics.median(figures.posts) * 1000:.1f} ms)"
    )
    print(
        f"  prompt round trip (answer POSTed -> /ws shows the job running again), all at once: "
        f"p50 {pct(figures.trips, 0.5):.1f} ms, p99 {pct(figures.trips, 0.99):.1f} ms"
    )
    print(
        f"  prompt round trip, one job at a time: p50 {pct(figures.idle_trips, 0.5):.1f} ms, "
        f"p99 {pct(figures.idle_trips, 0.99):.1f} ms"
    )
    print(f"  records in job_data.json files: {records} (answers given: {figures.answers})")
    assert records == figures.answers


def run(root: Path, env: dict[str, str], workers: int) -> tuple[Figures, int]:
    from litgap.runtime import open_runtime
    from litgap.services.auth import Role, create_user
    from litgap.settings import Settings
    from tests.cluster.conftest import LiveWorker
    from tests.live import LiveServer

    workspace = root / "ws"
    rt = open_runtime(
        Settings(workspace=workspace, database_url=env.get("LITGAP_DATABASE_URL") or None)
    )
    token = create_user(rt.engine, "bench", Role.OPERATOR)[1]
    rt.close()
    server = LiveServer(workspace, token, env=env).start()
    running = [
        LiveWorker(workspace, {**os.environ, **env}, f"worker{i + 1}") for i in range(workers)
    ]
    try:
        figures = asyncio.run(drive(server.url, token))
    finally:
        for worker in running:
            worker.stop()
        server.stop()
    return figures, check_documents(workspace)


def embedding(papers: int, words: int) -> None:
    import hashlib
    import io
    import subprocess

    import psycopg

    from litgap.config import JobConfig
    from litgap.executor.queue import QueueExecutor, conninfo
    from litgap.pipeline import load_framework, sample_framework_path
    from litgap.runtime import open_runtime
    from litgap.services import jobs as job_service
    from litgap.services.inputs import InputFile
    from litgap.settings import Settings
    from tests.big_inputs import sentence_papers
    from tests.cluster.conftest import CLUSTER_ENV
    from tests.cluster.postgres import _server

    pg = _server()
    if isinstance(pg, str):
        sys.exit(f"cannot benchmark the cluster: {pg}")
    # The reference framework (108 sub-requirements) when present: the work to embed
    # grows with the queries, each one's CANDIDATES passages.
    reference = ROOT.parent / "shared" / "data" / "reference-inputs" / "pillar_definitions.json"
    framework_path = reference if reference.is_file() else sample_framework_path()
    framework = load_framework(framework_path)
    echoes = [
        s.text for p in framework.select(framework.pillar_names()) for _, s in p.sub_requirements()
    ]
    corpus = sentence_papers(papers, words, echoes)
    cores = sorted(os.sched_getaffinity(0))
    print(
        f"one semantic job: {papers} papers x ~{words} words of real sentences, "
        f"{framework.sub_requirement_count} sub-requirements; workers pinned to cores {cores}"
    )
    times: dict[int, float] = {}
    digests: set[str] = set()
    for count in (1, 2, 4):
        with tempfile.TemporaryDirectory() as tmp:
            url = pg.url(pg.create_database())
            workspace = Path(tmp) / "ws"
            settings = Settings(workspace=workspace, database_url=url, executor="queue")
            rt = open_runtime(settings)
            files = [
                InputFile(f"paper-{n:04d}.txt", io.BytesIO(t.encode()))
                for n, t in enumerate(corpus)
            ]
            config = JobConfig(pillar_selections="ALL", run_mode="ONCE", scorer="semantic")
            pillars = InputFile(framework_path.name, open(framework_path, "rb"))
            job_id = job_service.create_job(rt, files=files, framework=pillars, config=config)[
                "job_id"
            ]
            env = {**os.environ, **CLUSTER_ENV, "LITGAP_DATABASE_URL": url}
            command = [sys.executable, "-m", "litgap", "worker", "--workspace", str(workspace)]
            workers = [
                subprocess.Popen(
                    [*command, "--name", f"w{i}"],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    preexec_fn=functools.partial(os.sched_setaffinity, 0, {cores[i % len(cores)]}),
                )
                for i in range(count)
            ]
            try:
                with psycopg.connect(conninfo(url), autocommit=True) as conn:
                    while True:  # every worker up (its imports done) before the clock starts
                        time.sleep(0.2)
                        found = conn.execute(
                            "SELECT to_regclass('procrastinate_workers')"
                        ).fetchone()
                        if found and found[0]:
                            up = conn.execute(
                                "SELECT count(*) FROM procrastinate_workers"
                            ).fetchone()
                            if up and up[0] >= count:
                                break
                executor = QueueExecutor(rt)
                started = time.perf_counter()
                job_service.start_job(rt, executor, job_id)
                while (status := job_service.get_job(rt, job_id)["status"]) not in (
                    "completed",
                    "failed",
                ):
                    time.sleep(0.1)
                times[count] = time.perf_counter() - started
                executor.close()
                assert status == "completed", job_service.get_job(rt, job_id).get("error")
                report_bytes = (
                    workspace / "jobs" / job_id / "results" / "gap_analysis_report.json"
                ).read_bytes()
                digests.add(hashlib.sha256(report_bytes).hexdigest())
            finally:
                for worker in workers:
                    worker.terminate()
                for worker in workers:
                    worker.wait(timeout=30)
                rt.close()
        print(
            f"  {count} worker{'s' if count > 1 else ' '}: {times[count]:6.1f} s   "
            f"speed-up x{times[1] / times[count]:.2f}"
        )
    print(
        "  reports: "
        + ("all byte-identical" if len(digests) == 1 else f"DIFFERENT ({len(digests)} distinct)")
    )
    if len(digests) != 1:
        sys.exit(1)


def main() -> None:
    if "--embedding" in sys.argv[1:]:
        papers = int(os.environ.get("CLUSTER_PAPERS", 300))
        embedding(papers, int(os.environ.get("CLUSTER_WORDS", 1500)))
        return
    from tests.cluster.conftest import CLUSTER_ENV
    from tests.cluster.postgres import _server

    pg = _server()
    if isinstance(pg, str):
        sys.exit(f"cannot benchmark the cluster: {pg}")
    with tempfile.TemporaryDirectory() as tmp:
        env = {**CLUSTER_ENV, "LITGAP_DATABASE_URL": pg.url(pg.create_database())}
        cluster, records = run(Path(tmp) / "cluster", env, WORKERS)
    report(f"cluster (PostgreSQL, {WORKERS} workers)", cluster, records)
    if os.environ.get("CLUSTER_BASELINE", "1") == "0":
        return
    with tempfile.TemporaryDirectory() as tmp:
        baseline, records = run(Path(tmp) / "embedded", {"LITGAP_DATABASE_URL": ""}, 0)
    report("baseline (SQLite, in-process executor)", baseline, records)
    ratio = baseline.elapsed / cluster.elapsed
    print(
        f"cluster / baseline: jobs per minute x{ratio:.2f}, round trip p50 "
        f"x{pct(cluster.trips, 0.5) / max(pct(baseline.trips, 0.5), 1e-9):.2f}"
    )


if __name__ == "__main__":
    main()
