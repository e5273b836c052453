"""Benchmark: read 40 PDFs of ~15 pages (pypdfium2), first read and cached read.

The PDFs are written with fpdf2: varied, paper-like text (title, headings, paragraphs of
sentences drawn from a seeded vocabulary), every file different. The first read has no
cache; the cached read uses a FileCache filled by the first. Both run in this one
process, as `load_corpus` does (the pipeline stays pure: running it in worker processes
is the flow's business); `--processes 2` also times the same files split over two
processes, which is what two workers reading two jobs' files would see.

    .venv/bin/python bench/ingest.py [--papers 40] [--pages 15] [--processes 2]
    .venv/bin/python bench/ingest.py --attack 30   # one PDF inflating to 30 MiB of text

Goals on 2 cores: >= 150 pages/s first read; cached re-read >= 20x faster.
"""

import argparse
import random
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from fpdf import FPDF

from litgap.pipeline import load_corpus
from litgap.pipeline.cache import FileCache
from litgap.pipeline.ingest import Limits

GOAL_PAGES_PER_SECOND = 150.0
GOAL_CACHED_SPEEDUP = 20.0
REFERENCE = Path("/work/shared/data/reference-inputs/papers")


def words(text: str) -> list[str]:
    return text.split()


NOUNS = words(
    "soil nitrogen legume rotation yield irrigation aquifer sensor model network dataset "
    "spike neuron cortex memory attention graph embedding policy agent reward trial plot "
    "catchment runoff erosion carbon compost biomass canopy root nodule microbe sample"
)
VERBS = words("reduced increased predicted explained improved limited replaced doubled")
ADJECTIVES = words("seasonal robust sparse dense recurrent spatial temporal mineral organic")


def sentence(rng: random.Random) -> str:
    words = [
        rng.choice(["The", "A", "Each", "Our"]),
        rng.choice(ADJECTIVES),
        rng.choice(NOUNS),
        rng.choice(VERBS),
        "the",
        rng.choice(NOUNS),
        rng.choice(["by", "in", "across", "over"]),
        f"{rng.randint(2, 97)}%",
        rng.choice(["compared with", "relative to", "against"]),
        "the",
        rng.choice(ADJECTIVES),
        rng.choice(NOUNS),
        rng.choice(["baseline", "control", "plots", "sites", "runs"]),
    ]
    return " ".join(words) + "."


def make_pdf(rng: random.Random, number: int, pages: int) -> bytes:
    # Lines placed with text() and wrapped here: fpdf2's multi_cell costs ~0.1 s a page.
    pdf = FPDF()
    pdf.set_title(f"Study {number}: {rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} dynamics")
    for page in range(pages):
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 13)
        pdf.text(20, 20, f"{page + 1}. {rng.choice(ADJECTIVES).title()} {rng.choice(NOUNS)}")
        pdf.set_font("Helvetica", size=10)
        y = 30.0
        while y < 270:
            paragraph = " ".join(sentence(rng) for _ in range(rng.randint(4, 7)))
            for line in textwrap.wrap(paragraph, 95):
                pdf.text(20, y, line)
                y += 5
            y += 3
    return bytes(pdf.output())


def read_part(paths: list[Path]) -> int:
    return sum(len(p.pages) for p in load_corpus(paths).papers)


def timed(label: str, run: Callable[[], int]) -> tuple[int, float]:
    start = time.perf_counter()
    pages = run()
    seconds = time.perf_counter() - start
    print(f"{label:<28} {pages:5d} pages in {seconds:6.2f} s = {pages / seconds:8.0f} pages/s")
    return pages, seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--papers", type=int, default=40)
    parser.add_argument("--pages", type=int, default=15)
    parser.add_argument("--processes", type=int, default=0)
    parser.add_argument("--attack", type=float, help="MiB of text in one inflating PDF")
    args = parser.parse_args()
    if args.attack:
        attack(args.attack)
        return
    rng = random.Random(11)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "papers"
        folder.mkdir()
        paths = []
        for number in range(args.papers):
            path = folder / f"paper-{number:03d}.pdf"
            path.write_bytes(make_pdf(rng, number, args.pages + rng.randint(-2, 2)))
            paths.append(path)
        cache = FileCache(Path(tmp) / "cache")
        pages, first = timed("first read (1 process)", lambda: _pages(paths, cache))
        _, cached = timed("cached read (1 process)", lambda: _pages(paths, cache))
        rate = pages / first
        print(f"first read: {rate:.0f} pages/s = {rate / GOAL_PAGES_PER_SECOND:.2f}x the goal")
        speedup = first / cached
        print(f"cached read: {speedup:.0f}x faster = {speedup / GOAL_CACHED_SPEEDUP:.2f}x the goal")
        if args.processes > 1:
            parts = [paths[i :: args.processes] for i in range(args.processes)]
            with ProcessPoolExecutor(args.processes) as pool:
                list(pool.map(read_part, [[p] for p in parts[0][:1]] * args.processes))  # warm
                label = f"first read ({args.processes} processes)"
                timed(label, lambda: sum(pool.map(read_part, parts)))
    if REFERENCE.is_dir():
        refs = sorted(REFERENCE.glob("*.pdf"))
        timed("reference PDFs (1 process)", lambda: _pages(refs, None))


def _pages(paths: list[Path], cache: FileCache | None) -> int:
    return sum(len(p.pages) for p in load_corpus(paths, cache=cache).papers)


def attack(mib: float) -> None:
    """Time and peak memory of reading one small PDF whose page holds `mib` MiB of text,
    with the default limits, in a fresh process (so its peak RSS is its own)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.unit.pipeline.inputs import inflating_pdf

    with tempfile.TemporaryDirectory() as tmp:
        bomb = Path(tmp) / "bomb.pdf"
        bomb.write_bytes(inflating_pdf(int(mib * 1024 * 1024)))
        (Path(tmp) / "drip.txt").write_text("Drip irrigation saved water.", encoding="utf-8")
        code = (
            "import resource, sys, time\n"
            "from pathlib import Path\n"
            "from litgap.pipeline import load_corpus\n"
            "start = time.perf_counter()\n"
            "corpus = load_corpus([Path(p) for p in sys.argv[1:]])\n"
            "print(f'{time.perf_counter() - start:.1f}', "
            "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, "
            "[s.reason for s in corpus.skipped])\n"
        )
        out = subprocess.run(
            [sys.executable, "-c", code, str(bomb), str(Path(tmp) / "drip.txt")],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split(" ", 2)
        print(f"inflating PDF: {bomb.stat().st_size / 1024:.0f} KB on disk, {mib:g} MiB of text")
        print(f"read in {out[0]} s, peak RSS {out[1]} MiB (limits: {Limits()})")
        print(f"skipped: {out[2].strip()}")
    print(f"own peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MiB")


if __name__ == "__main__":
    main()
