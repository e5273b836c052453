"""Benchmark: continue a 200-paper job with 5 new papers.

Generates 200 PDF papers (fpdf2, ~3,000 words each, words drawn from the sample
framework's vocabulary so they score), runs a first job on them with the bundled
sample framework (decisions preset: nothing is asked), then continues it with 5 new
PDFs. Prints the wall time of each run (creation to completion), the PDFs each run
extracted (new entries in the workspace's extraction cache: a PDF served from the
cache was not read), and the ratio.

    .venv/bin/python bench/continue.py [--papers 200] [--added 5]

Goal: the continuation takes at most 15 % of the first run's time.
"""

import argparse
import asyncio
import io
import random
import sys
import tempfile
import time
from pathlib import Path

from fpdf import FPDF

from litgap.config import JobConfig
from litgap.events import Event
from litgap.executor.inprocess import run_watching
from litgap.runtime import Runtime, open_runtime
from litgap.services import continuation
from litgap.services import jobs as job_service
from litgap.services.inputs import InputFile
from litgap.settings import Settings

GOAL_RATIO = 0.15


def words_of_framework() -> list[str]:
    from litgap.pipeline.sample import sample_framework_path

    text = sample_framework_path().read_text(encoding="utf-8")
    return sorted({w.strip(".,:;()\"'").lower() for w in text.split() if w.isalpha()})


def make_pdf(rng: random.Random, vocabulary: list[str], number: int, words: int) -> bytes:
    pdf = FPDF()
    pdf.set_title(f"Generated paper {number}: {' '.join(rng.sample(vocabulary, 5))}")
    pdf.add_page()
    pdf.set_font("helvetica", size=10)
    body = " ".join(rng.choice(vocabulary) for _ in range(words))
    pdf.multi_cell(0, 5, body)
    return bytes(pdf.output())


def extracted(rt: Runtime) -> int:
    folder = rt.workspace.root / "cache" / "extract"
    return sum(1 for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else 0


async def run(rt: Runtime, job_id: str) -> dict[str, object]:
    async def ignore(event: Event) -> None:
        return None

    await run_watching(rt, job_id, ignore)
    return job_service.get_job(rt, job_id)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--papers", type=int, default=200)
    parser.add_argument("--added", type=int, default=5)
    parser.add_argument("--words", type=int, default=3000)
    args = parser.parse_args()
    rng = random.Random(13)
    vocabulary = words_of_framework()
    papers = [make_pdf(rng, vocabulary, n, args.words) for n in range(args.papers + args.added)]
    with tempfile.TemporaryDirectory() as tmp:
        rt = open_runtime(Settings(workspace=Path(tmp) / "workspace"))  # type: ignore[call-arg]
        try:
            config = JobConfig(pillar_selections="ALL", run_mode="ONCE")
            files = [InputFile(f"paper-{n:04d}.pdf", io.BytesIO(d)) for n, d in enumerate(papers)]
            began = time.perf_counter()
            row = job_service.create_job(rt, files=files[: args.papers], config=config)
            first = asyncio.run(run(rt, row["job_id"]))
            first_s = time.perf_counter() - began
            first_read = extracted(rt)
            assert first["status"] == "completed", first.get("error")

            began = time.perf_counter()
            child = continuation.create_continuation(rt, row["job_id"], files[args.papers :])
            second = asyncio.run(run(rt, child["job_id"]))
            second_s = time.perf_counter() - began
            second_read = extracted(rt) - first_read
            assert second["status"] == "completed", second.get("error")
        finally:
            rt.close()
    ratio = second_s / first_s
    print(f"first run:    {args.papers} papers, {first_s:6.2f} s, {first_read} PDFs extracted")
    print(f"continuation: +{args.added} papers, {second_s:6.2f} s, {second_read} PDFs extracted")
    verdict = "ok" if ratio <= GOAL_RATIO else "over the goal"
    print(f"ratio: {ratio:.1%} of the first run's time (goal <= {GOAL_RATIO:.0%}): {verdict}")
    return 0 if ratio <= GOAL_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
