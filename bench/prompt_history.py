"""Recording cost against history length, and the durable ask -> answer -> resumed trip.

Records 1,000 prompts in one job through the broker (SQLite, WAL, fsync on every
commit) and prints:
- mean cost of recording prompts 1-100 and 901-1,000, and their ratio (goal <= 1.5);
- the rewrite of job_data.json at 100 and at 1,000 records (off the answer path);
- the round trip ask -> answer -> flow resumed, p50 and p99 (goals <= 3 ms, <= 15 ms).
"""

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from litgap.responses import PromptSpec
from litgap.runtime import open_runtime
from litgap.settings import Settings
from litgap.status import PromptSource
from tests.helpers import new_job

N = 1000


def spec(i: int) -> PromptSpec:
    return PromptSpec(
        type="continue",
        message=f"Iteration {i} complete: 12 gaps remain. Continue?",
        options=["yes", "no"],
        default="no",
        context={
            "iteration": i,
            "gap_count": 12,
            "details": [{"sub_requirement": "Sub-1.1", "before": 10.0, "after": 17.5}],
        },
    )


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        rt = open_runtime(Settings(workspace=Path(tmp) / "ws"))
        job_id = new_job(rt)
        costs, trips = [], []
        for i in range(N):
            started = time.perf_counter()
            prompt = rt.broker.open(job_id, i, spec(i), 60)
            waiter = asyncio.ensure_future(rt.broker.wait(prompt["prompt_id"], prompt))
            await asyncio.sleep(0)  # the flow is now waiting
            answered = time.perf_counter()
            rt.broker.answer(prompt["prompt_id"], "yes", source=PromptSource.API)
            await waiter
            done = time.perf_counter()
            costs.append(done - started)
            trips.append(done - answered + (answered - started))
        rt.docs.flush()
        rewrite_1000 = _rewrite(rt, job_id)
        rt.close()

        rt = open_runtime(Settings(workspace=Path(tmp) / "ws100"))
        small = new_job(rt)
        for i in range(100):
            p = rt.broker.open(small, i, spec(i), 60)
            rt.broker.answer(p["prompt_id"], "yes", source=PromptSource.API)
        rt.docs.flush()
        rewrite_100 = _rewrite(rt, small)
        rt.close()

    first, last = statistics.mean(costs[:100]), statistics.mean(costs[-100:])
    ms = sorted(t * 1000 for t in trips)
    p50, p99 = ms[len(ms) // 2], ms[int(len(ms) * 0.99) - 1]
    print(f"recording, prompts 1-100:      {first * 1000:.2f} ms mean")
    print(f"recording, prompts 901-1000:   {last * 1000:.2f} ms mean")
    print(f"ratio last/first:              {last / first:.2f}  (goal <= 1.5)")
    print(f"job_data.json rewrite, 100 records:  {rewrite_100:.2f} ms (background writer)")
    print(f"job_data.json rewrite, 1000 records: {rewrite_1000:.2f} ms (background writer)")
    print(
        f"round trip ask->answer->resumed: p50 {p50:.2f} ms (goal <= 3), "
        f"p99 {p99:.2f} ms (goal <= 15)"
    )


def _rewrite(rt, job_id: str) -> float:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(10):
        started = time.perf_counter()
        rt.docs.write_now(job_id)
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


if __name__ == "__main__":
    asyncio.run(main())
