"""Benchmark: the job list and cross-job decision search over 10,000 jobs.

Inserts 10,000 jobs in bulk (SQLAlchemy Core), each with the two decisions a run
records: pillar_selection (ALL for half, DEEP for a third, a pair of pillars for the
rest, and a single pillar for the 10 oldest jobs) and run_mode. Then times, as median
of repeated calls, one page of 50 jobs and cross-job decision searches, both through
the service (what the route calls) and over HTTP (the real app with a bearer token,
in the same event loop through httpx's ASGI transport):

- list: the newest page, no filter;
- search, common: prompt_type=pillar_selection & response=ALL (half the jobs match);
- search, rare: response=P7 (10 jobs match, all of them the oldest: the worst case,
  every job is checked before the page fills).

    .venv/bin/python bench/jobs_list.py [--jobs 10000] [--repeat 50]

Goals: one page at most 20 ms, one decision search at most 50 ms.
"""

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from litgap.clock import iso
from litgap.runtime import Runtime, open_runtime
from litgap.services import jobs as job_service
from litgap.services.auth import Role, create_user
from litgap.settings import Settings
from litgap.store.database import writing
from litgap.store.schema import jobs, prompts
from litgap.web.app import create_app
from tests.helpers import resolved_prompt_row

LIST_GOAL_MS, SEARCH_GOAL_MS = 20.0, 50.0
PILLARS = ["ALL", "DEEP", "P1", "P2", "P3", "P4", "P5", "P6", "P7", "NONE"]
RARE = 10


def selection(index: int, rng: random.Random) -> Any:
    if index < RARE:
        return ["P7"]
    draw = rng.random()
    if draw < 0.5:
        return "ALL"
    if draw < 0.83:
        return "DEEP"
    return rng.sample(PILLARS[2:8], 2)


def prompt(job_id: str, seq: int, kind: str, answer: Any, at: str) -> dict[str, Any]:
    options = PILLARS if kind == "pillar_selection" else ["ONCE", "DEEP_LOOP"]
    message = "Select which pillars to analyze" if seq == 0 else "Select analysis mode"
    data = {"message": message, "options": options, "default": None, "multiple": seq == 0}
    return resolved_prompt_row(
        job_id,
        seq,
        kind,
        data,
        answer,
        requested_at=at,
        resolved_at=at,
        response_time_ms=1500,
        timeout_seconds=300,
        prompt_id=f"prompt_{job_id[4:]}{seq}",
    )


def populate(rt: Runtime, count: int) -> None:
    rng = random.Random(7)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    job_rows: list[dict[str, Any]] = []
    prompt_rows: list[dict[str, Any]] = []
    for index in range(count):
        job_id = f"job_bench{index:07d}"
        at = iso(start + timedelta(minutes=index))
        answer = selection(index, rng)
        job_rows.append(
            {
                "job_id": job_id, "status": "completed", "created_at": at, "updated_at": at,
                "started_at": at, "completed_at": at,
                "config": {"max_iterations": 5, "prompt_timeouts": {}},
                "inputs": [{"role": "corpus", "name": f"paper-{index}.pdf", "path": "corpus/a.pdf",
                            "sha256": "0" * 64, "size": 1000}],
                "summary": {"overall_completeness": 50.0, "gap_count": 7},
                "transitions": [{"status": "completed", "at": at}], "progress": 100.0,
                "stage": "done", "created_by": "ada", "search_text": f"{job_id} paper-{index}.pdf",
            }
        )  # fmt: skip
        prompt_rows.append(prompt(job_id, 0, "pillar_selection", answer, at))
        if answer != "DEEP":
            prompt_rows.append(prompt(job_id, 1, "run_mode", rng.choice(["ONCE", "DEEP_LOOP"]), at))
    with writing(rt.engine) as conn:
        conn.execute(jobs.insert(), job_rows)
        conn.execute(prompts.insert(), prompt_rows)
    # Every job has its folder and job_data.json, as in a real workspace (the app checks
    # them at start and would otherwise rewrite them all while being measured).
    for row in job_rows:
        rt.workspace.create_job_dirs(row["job_id"])
        rt.docs.mark(row["job_id"])
    rt.docs.flush(timeout=600)


def median_ms(call: Callable[[], int], repeat: int, expected: int) -> float:
    assert call() == expected  # warm, and check the query finds what it should
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        found = call()
        samples.append((time.perf_counter() - started) * 1000)
        assert found == expected
    return statistics.median(samples)


async def over_http(
    settings: Settings, token: str, cases: list[Any], repeat: int
) -> list[tuple[str, str, float, float]]:
    """The same calls through the real app in this event loop (httpx's ASGI transport:
    no socket, no thread hop, so the figure is the app's own time)."""
    app = create_app(settings)
    rows = []
    headers = {"Authorization": f"Bearer {token}"}
    started = time.perf_counter()
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://bench") as client,
    ):
        print(f"app start (imports and checks every job's document): "
              f"{time.perf_counter() - started:.2f} s")  # fmt: skip
        for name, params, expected, goal in cases:
            samples = []
            for _ in range(repeat + 1):
                started = time.perf_counter()
                response = await client.get("/api/jobs", params={**params, "limit": 50},
                                            headers=headers)  # fmt: skip
                samples.append((time.perf_counter() - started) * 1000)
                assert len(response.json()["jobs"]) == expected, response.text
            rows.append((name, "HTTP", statistics.median(samples[1:]), goal))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    cases: list[tuple[str, dict[str, str], int, float]] = [
        ("list, newest page", {}, 50, LIST_GOAL_MS),
        ("search, common (ALL)", {"prompt_type": "pillar_selection", "response": "ALL"}, 50,
         SEARCH_GOAL_MS),
        ("search, rare (P7)", {"response": "P7"}, RARE, SEARCH_GOAL_MS),
    ]  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(workspace=Path(tmp) / "workspace")
        rt = open_runtime(settings, durable=False)  # set-up only: no fsync per document
        try:
            started = time.perf_counter()
            populate(rt, args.jobs)
            _, token = create_user(rt.engine, "bench", Role.VIEWER)
            print(f"setup: {args.jobs:,} jobs in {time.perf_counter() - started:.1f} s")
            rows: list[tuple[str, str, float, float]] = []
            for name, params, expected, goal in cases:

                def service(params: dict[str, str] = params) -> int:
                    return len(job_service.list_jobs(rt, limit=50, **params)[0])

                rows.append((name, "service", median_ms(service, args.repeat, expected), goal))
        finally:
            rt.close()
        rows += asyncio.run(over_http(settings, token, cases, args.repeat))
    worst = 0.0
    for name, via, ms, goal in rows:
        worst = max(worst, ms / goal)
        print(f"{name:<22} {via:<8} median {ms:6.2f} ms  goal {goal:g} ms  ratio {ms / goal:.2f}")
    print(f"worst ratio {worst:.2f} ({'met' if worst <= 1 else 'MISSED'})")
    return 0 if worst <= 1 else 1


if __name__ == "__main__":
    sys.exit(main())
