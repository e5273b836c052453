"""Uploads screened for papers the corpus already has (by sha256, DOI or normalised
title: see pipeline/dedupe.py), before a job is made of them.

A file is left out when every paper it holds is a duplicate (a CSV with one new row is
kept; the pipeline drops its old rows), unless the user keeps duplicates. Each
duplicate paper is reported: the report counts papers, not files.

Finding a paper's title means reading its file, and one pdfium call on a hostile PDF
can run for seconds and gigabytes: the serving process never makes it. `bounded_reader`
reads each PDF in an analysis worker killed past the run's own bound (a file it cannot
read is screened by its sha256 alone; the run then skips it with the reason), and what
it extracts lands in the workspace's cache, so the run does not read it again.
"""

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from litgap.executor.pool import WorkerDied, WorkTimedOut, shared_pool
from litgap.pipeline.cache import FileCache
from litgap.pipeline.corpus import Paper
from litgap.pipeline.dedupe import Identity, find_duplicates, identity
from litgap.pipeline.ingest.references import link_attachments
from litgap.runtime import Runtime
from litgap.stages import BOUNDED_SUFFIXES, READ_GRACE_SECONDS, read_papers, reading_limits

Row = dict[str, Any]
# Reads files, given as (path, sha256), into their papers: [] for one it cannot read.
Reader = Callable[[Sequence[tuple[Path, str]]], list[list[Paper]]]


@dataclass
class Screening:
    kept: list[Row] = field(default_factory=list)  # input entries
    left_out: list[Row] = field(default_factory=list)
    duplicates: list[Row] = field(default_factory=list)  # one per duplicate paper


def bounded_reader(rt: Runtime) -> Reader:
    """Reads PDFs in the analysis workers, each killed past its bound; the other
    formats (text, CSV, BibTeX, RIS: bounded by their size) here."""
    limits = reading_limits(rt.settings)
    cache = FileCache(rt.workspace.root / "cache")
    timeout = limits.max_file_seconds + READ_GRACE_SECONDS
    processes = rt.settings.analysis_processes

    async def one(path: Path, sha256: str) -> list[Paper]:
        if path.suffix.lower() not in BOUNDED_SUFFIXES:
            return read_papers(path, path.name, sha256, limits, cache)
        pool = shared_pool(processes)
        with contextlib.suppress(WorkTimedOut, WorkerDied):
            return await pool.run(
                read_papers, path, path.name, sha256, limits, cache, timeout=timeout
            )
        return []

    async def every(files: Sequence[tuple[Path, str]]) -> list[list[Paper]]:
        # One after another: each call then goes to a worker already running (a PDF takes
        # milliseconds), where reading them at once would start a cold one (0.8 s).
        return [await one(path, sha) for path, sha in files]

    def read(files: Sequence[tuple[Path, str]]) -> list[list[Paper]]:
        if not files:
            return []
        # A loop of its own, on a thread of its own: the caller may be on a running loop.
        with ThreadPoolExecutor(1, thread_name_prefix="litgap-screen") as thread:
            return thread.submit(asyncio.run, every(files)).result()

    return read


def existing_identities(report: Row | None, inputs: Sequence[Row]) -> list[Identity]:
    """A finished job's papers as its report lists them, and its files by sha256 (a
    file's own hash catches what its papers' would not: an unreadable file)."""
    found = [
        Identity(
            str(p.get("id")),
            str(p.get("kind", "")),
            str(p.get("sha256") or ""),
            str(p.get("title") or ""),
            p.get("doi"),
            tuple(str(t) for t in p["other_titles"])
            if isinstance(p.get("other_titles"), list)
            else (),
        )
        for p in ((report or {}).get("corpus") or {}).get("papers", [])
        if isinstance(p, dict)
    ]
    found += [
        Identity(str(i.get("name")), "file", str(i["sha256"]))
        for i in inputs
        if i.get("role") == "corpus" and i.get("sha256")
    ]
    return found


def same_content(
    new: Sequence[Row], existing: Sequence[Identity] = (), *, keep: bool = False
) -> tuple[Screening, list[Row]]:
    """The first pass, from the files' sha256 alone (nothing is read): the screening so
    far and the entries left to read."""
    result = Screening()
    seen_files = {i.sha256: i.id for i in existing if i.sha256}
    unseen = []
    for entry in new:
        sha, name = str(entry["sha256"]), str(entry["name"])
        if sha in seen_files:
            dup = {"paper": name, "duplicate_of": seen_files[sha], "reason": "same content"}
            result.duplicates.append({"file": name, "sha256": sha, **dup, "kept": keep})
            (result.kept if keep else result.left_out).append(entry)
            continue
        seen_files[sha] = name
        unseen.append(entry)
    return result, unseen


def screen(
    corpus_dir: Path,
    new: Sequence[Row],
    existing: Sequence[Identity] = (),
    *,
    read: Reader,
    keep: bool = False,
) -> Screening:
    """Sort new input entries (files saved in `corpus_dir`) into kept and left out."""
    result, unseen = same_content(new, existing, keep=keep)
    read_back = read([(corpus_dir / Path(str(e["path"])).name, str(e["sha256"])) for e in unseen])
    by_file = {str(e["path"]): papers for e, papers in zip(unseen, read_back, strict=True)}
    # An entry that takes its attached PDF's text is that PDF, not its duplicate.
    linked, _ = link_attachments([p for papers in by_file.values() for p in papers])
    found = {d.paper: d for d in find_duplicates([identity(p) for p in linked], existing)}
    linked_ids = {p.id for p in linked}
    for entry in new:
        if str(entry["path"]) not in by_file:
            continue
        papers = [p for p in by_file[str(entry["path"])] if p.id in linked_ids]
        dups = [found[p.id] for p in papers if p.id in found]
        left = bool(papers) and len(dups) == len(papers) and not keep
        result.duplicates += [
            {"file": entry["name"], "sha256": entry["sha256"], **d.to_dict(), "kept": not left}
            for d in dups
        ]
        (result.left_out if left else result.kept).append(entry)
    return result
