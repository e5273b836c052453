"""Model review throughput: verdicts judged and recorded per second against the fixture
chat-completions server (tests/llm_server.py) with a fixed latency per call.

    .venv/bin/python bench/llm_review.py [--verdicts 1000] [--latency 0.2] [--concurrency 4]

Each verdict goes the whole way: request built and hashed, an HTTP call to a real
server, the answer validated, kept in the answer cache, and recorded as an
evidence_review prompt in a real SQLite store (job_data.json kept in step). The server
runs in a process of its own. Overhead per verdict: the wall time beyond what the
server's latency alone costs at this concurrency ((wall - verdicts * latency /
concurrency) / verdicts), and this process's CPU per verdict; also what each call slot
spends per verdict beyond the latency (wall * concurrency / verdicts - latency). Goals
(issue 17): overhead <= 5 ms per verdict; 1,000 verdicts in <= 60 s at concurrency 4
with 200 ms calls. A second run with no latency shows the overhead alone.
"""

import argparse
import asyncio
import contextlib
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from litgap.config import StoredConfig
from litgap.context import JobContext
from litgap.llm.review import review_with_model
from litgap.llm.settings import LLMReviewConfig, LLMSettings
from litgap.runtime import open_runtime
from litgap.settings import Settings
from litgap.store import prompts as prompt_rows
from tests.helpers import new_job

ROOT = Path(__file__).resolve().parents[1]
GOAL_OVERHEAD_MS = 5.0
GOAL_SECONDS = 60.0  # for 1,000 verdicts at concurrency 4 with 200 ms calls
PER_SUB = 4


def subs(count: int) -> list[dict[str, Any]]:
    """`count` passages, PER_SUB per sub-requirement, each text distinct."""
    made = []
    for s in range((count + PER_SUB - 1) // PER_SUB):
        evidence = [
            {
                "evidence_id": f"{s:08x}{p:08x}",
                "paper": f"paper-{s}-{p}",
                "title": f"Paper {s}.{p}",
                "page": p + 1,
                "text": f"Passage {p} of sub-requirement {s}: tanks, filters and flow {s * p}.",
                "score": 0.3,
            }
            for p in range(min(PER_SUB, count - s * PER_SUB))
        ]
        made.append(
            {
                "id": f"Sub-{s}",
                "text": f"Sub-requirement {s} on storage sizing",
                "requirement": f"R-{s // 4}",
                "pillar": "Storage",
                "evidence": evidence,
            }
        )
    return made


@contextlib.contextmanager
def served(latency: float) -> Iterator[str]:
    """The fixture server in a process of its own (its CPU is not ours); its base URL."""
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.llm_server", "--latency", str(latency)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert child.stdout is not None and child.stdin is not None
    try:
        yield f"http://127.0.0.1:{int(child.stdout.readline())}/v1"
    finally:
        child.stdin.close()
        child.wait(timeout=10)


def measure(
    root: Path, verdicts: int, latency: float, concurrency: int
) -> tuple[float, float, int]:
    """Seconds (wall and this process's CPU) to judge and record `verdicts` passages,
    and the records in the store."""
    rt = open_runtime(Settings(workspace=root / f"ws-{latency}"))
    try:
        job_id = new_job(rt)
        ctx = JobContext(rt, job_id, StoredConfig())
        with served(latency) as url:
            settings = LLMSettings(
                base_url=url,
                model="bench-model",
                concurrency=concurrency,
                max_calls=verdicts * 2,
                retries=0,
            )
            started, cpu = time.perf_counter(), time.process_time()
            run = asyncio.run(
                review_with_model(
                    ctx, subs(verdicts), LLMReviewConfig(top=PER_SUB), settings=settings
                )
            )
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        assert run.judged == verdicts, run.summary(LLMReviewConfig())
        rt.docs.flush()
        return seconds, cpu, len(prompt_rows.job_prompts(rt.engine, job_id))
    finally:
        rt.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--verdicts", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for latency in (args.latency, 0.0):
            seconds, cpu, recorded = measure(root, args.verdicts, latency, args.concurrency)
            ideal = args.verdicts * latency / args.concurrency
            overhead = (seconds - ideal) / args.verdicts * 1000
            slot = seconds * args.concurrency / args.verdicts * 1000 - latency * 1000
            print(
                f"latency {latency * 1000:.0f} ms, concurrency {args.concurrency}: "
                f"{args.verdicts} verdicts ({recorded} records) in {seconds:.2f} s, "
                f"{args.verdicts / seconds:.1f} calls/s; overhead per verdict "
                f"{overhead:.2f} ms of wall time beyond the server's latency "
                f"(goal {GOAL_OVERHEAD_MS:g} ms: ratio {overhead / GOAL_OVERHEAD_MS:.2f}), "
                f"{cpu / args.verdicts * 1000:.2f} ms of CPU; each call slot "
                f"{slot:.2f} ms per verdict beyond the latency"
            )
            if latency == args.latency and args.verdicts == 1000:
                print(
                    f"  1,000 verdicts in {seconds:.1f} s (goal {GOAL_SECONDS:g} s: "
                    f"ratio {seconds / GOAL_SECONDS:.2f})"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
