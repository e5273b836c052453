"""Benchmark: export a job with 10,000 prompts and 50 MB of results as a ZIP.

Builds one completed job straight in the store (prompt rows inserted in bulk, like the
records a long deep loop leaves) with generated text results, then writes its archive
twice: to a file (what `litgap jobs export` does) and as the stream the download route
sends (chunks pulled from the generator and dropped). Prints throughput
(uncompressed MB archived per second), the archive's size, and peak memory growth over
the export: resident set size sampled every 2 ms, and separately the peak of Python
allocations (tracemalloc, a slower third pass).

    .venv/bin/python bench/export.py [--prompts 10000] [--results-mb 50]

Goal: memory growth at most 50 MB whatever the job's size (the archive is never held
whole in memory).
"""

import argparse
import json
import random
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from litgap.clock import now_iso
from litgap.ids import new_job_id
from litgap.runtime import Runtime, open_runtime
from litgap.services import export
from litgap.settings import Settings
from litgap.store.database import writing
from litgap.store.schema import jobs, prompts
from tests.helpers import resolved_prompt_row

GOAL_MB = 50.0
PAGE = 4096


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * PAGE / 1e6


class PeakRss:
    """Samples the resident set size in a thread while a block runs."""

    def __init__(self) -> None:
        self.peak = 0.0
        self._stop = threading.Event()

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mb())
            time.sleep(0.002)

    def __enter__(self) -> "PeakRss":
        self.base = rss_mb()
        self.peak = self.base
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mb())

    @property
    def growth(self) -> float:
        return self.peak - self.base


def words(rng: random.Random) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return ["".join(rng.choice(letters) for _ in range(rng.randint(3, 10))) for _ in range(5000)]


def text_file(path: Path, size: int, rng: random.Random, vocab: list[str]) -> None:
    """Text of about `size` bytes, written in pieces (like a report or a CSV)."""
    with open(path, "w") as out:
        written = 0
        while written < size:
            line = ",".join(" ".join(rng.choices(vocab, k=8)) for _ in range(6)) + "\n"
            out.write(line)
            written += len(line)


def prompt_row(job_id: str, seq: int, rng: random.Random, vocab: list[str]) -> dict[str, Any]:
    kind = "continue" if seq > 1 else ("pillar_selection", "run_mode")[seq]
    options = ["yes", "no"] if kind == "continue" else ["ONCE", "DEEP_LOOP"]
    message = f"Iteration {seq} complete: {rng.randint(0, 50)} gaps remain. Continue?"
    answer = rng.choice(options)
    data = {
        "message": message,
        "options": options,
        "default": options[-1],
        "multiple": False,
        "iteration": seq,
        "gap_count": rng.randint(0, 50),
        "details": [
            {
                "sub_requirement": f"Sub-{i}",
                "pillar": " ".join(rng.choices(vocab, k=3)),
                "before": 20.5,
                "after": 31.25,
                "delta": 10.75,
                "closed": False,
            }
            for i in range(5)
        ],
    }
    at = now_iso()
    return resolved_prompt_row(
        job_id,
        seq,
        kind,
        data,
        answer,
        requested_at=at,
        resolved_at=at,
        response_time_ms=rng.randint(200, 60000),
    )


def build_job(rt: Runtime, prompt_count: int, results_mb: float) -> str:
    rng = random.Random(5)
    vocab = words(rng)
    job_id = new_job_id()
    rt.workspace.create_job_dirs(job_id)
    now = now_iso()
    with writing(rt.engine) as conn:
        conn.execute(
            jobs.insert().values(
                job_id=job_id,
                status="completed",
                created_at=now,
                updated_at=now,
                completed_at=now,
                config={},
                inputs=[],
                transitions=[],
                search_text=job_id,
            )
        )
        rows = [prompt_row(job_id, seq, rng, vocab) for seq in range(prompt_count)]
        conn.execute(prompts.insert(), rows)
    rt.docs.write_now(job_id)
    results = rt.workspace.results_dir(job_id)
    total = int(results_mb * 1e6)
    for name, share in (("coverage.csv", 0.5), ("gap_analysis_report.json", 0.3),
                        ("report.md", 0.1), ("completeness.svg", 0.1)):  # fmt: skip
        text_file(results / name, int(total * share), rng, vocab)
    return job_id


def measure(run: Callable[[], int]) -> dict[str, float]:
    with PeakRss() as memory:
        started = time.perf_counter()
        size = run()
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "zip_mb": size / 1e6, "rss_growth": memory.growth}


def measure_export(workspace: Path, job_id: str, out_dir: Path) -> dict[str, Any]:
    """Both exports of one job, from a fresh process: memory growth is measured from a
    heap that the set-up did not inflate."""
    rt = open_runtime(Settings(workspace=workspace))
    try:
        plan = export.plan_export(rt, job_id)

        def to_file() -> int:
            with open(out_dir / "job.zip", "wb") as out:
                export.write_export(rt, plan, out)
            return (out_dir / "job.zip").stat().st_size

        def streamed() -> int:
            return sum(len(chunk) for chunk in export.iter_export(rt, plan))

        figures: dict[str, Any] = {"to file (CLI)": measure(to_file)}
        figures["streamed (download)"] = measure(streamed)
        tracemalloc.start()
        streamed()
        figures["python_peak_mb"] = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
    finally:
        rt.close()
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=10_000)
    parser.add_argument("--results-mb", type=float, default=50.0)
    parser.add_argument(
        "--measure", nargs=2, metavar=("WORKSPACE", "JOB_ID"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.measure:
        workspace = Path(args.measure[0])
        print(json.dumps(measure_export(workspace, args.measure[1], workspace.parent)))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        rt = open_runtime(Settings(workspace=root / "workspace"))
        try:
            started = time.perf_counter()
            job_id = build_job(rt, args.prompts, args.results_mb)
            print(f"setup: {args.prompts:,} prompts, {args.results_mb:g} MB of results "
                  f"in {time.perf_counter() - started:.1f} s")  # fmt: skip
        finally:
            rt.close()
        measured = subprocess.run(
            [sys.executable, __file__, "--measure", str(root / "workspace"), job_id],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        results = json.loads(measured.stdout)
        python_peak = results.pop("python_peak_mb")
        with zipfile.ZipFile(root / "job.zip") as archive:
            source_mb = sum(i.file_size for i in archive.infolist()) / 1e6
    print(f"archived content: {source_mb:.1f} MB uncompressed")
    for name, r in results.items():
        print(
            f"{name:<22} {r['seconds']:6.2f} s  {source_mb / r['seconds']:6.1f} MB/s  "
            f"archive {r['zip_mb']:5.1f} MB  RSS growth {r['rss_growth']:5.1f} MB"
        )
    print(f"Python allocations, peak during a streamed export: {python_peak:.1f} MB")
    worst = max(r["rss_growth"] for r in results.values())
    print(f"memory growth {worst:.1f} MB; goal {GOAL_MB:g} MB; ratio {worst / GOAL_MB:.2f} "
          f"({'met' if worst <= GOAL_MB else 'MISSED'})")  # fmt: skip
    return 0 if worst <= GOAL_MB else 1


if __name__ == "__main__":
    sys.exit(main())
