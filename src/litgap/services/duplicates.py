"""Uploads screened for papers the corpus already has (by sha256, DOI or normalised
title: see pipeline/dedupe.py), before a job is made of them.

A file is left out when every paper it holds is a duplicate (a CSV with one new row is
kept; the pipeline drops its old rows), unless the user keeps duplicates. Each
duplicate paper is reported: the report counts papers, not files.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from litgap.pipeline.cache import Cache
from litgap.pipeline.corpus import Paper
from litgap.pipeline.dedupe import Identity, find_duplicates, identity
from litgap.pipeline.ingest import Limits, Source, Unreadable, reader_for
from litgap.pipeline.ingest.references import link_attachments

Row = dict[str, Any]


@dataclass
class Screening:
    kept: list[Row] = field(default_factory=list)  # input entries
    left_out: list[Row] = field(default_factory=list)
    duplicates: list[Row] = field(default_factory=list)  # one per duplicate paper


def read_papers(
    path: Path, name: str, sha256: str, limits: Limits, cache: Cache | None = None
) -> list[Paper]:
    """The papers of one file; none when it cannot be read (the run reports why). With
    the workspace's cache, what is extracted here the run does not extract again."""
    try:
        source = Source(name, name, path.read_bytes(), sha256, cache)
        papers, _ = reader_for(path.suffix)(source, limits)
    except (Unreadable, OSError):
        return []
    return papers


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


def screen(
    corpus_dir: Path,
    new: Sequence[Row],
    existing: Sequence[Identity] = (),
    *,
    keep: bool = False,
    limits: Limits | None = None,
    cache: Cache | None = None,
) -> Screening:
    """Sort new input entries (files saved in `corpus_dir`) into kept and left out."""
    limits = limits or Limits()
    result = Screening()
    seen_files = {i.sha256: i.id for i in existing if i.sha256}
    by_file: dict[str, list[Paper]] = {}
    for entry in new:
        sha, name = str(entry["sha256"]), str(entry["name"])
        if sha in seen_files:
            dup = {"paper": name, "duplicate_of": seen_files[sha], "reason": "same content"}
            result.duplicates.append({"file": name, "sha256": sha, **dup, "kept": keep})
            (result.kept if keep else result.left_out).append(entry)
            continue
        seen_files[sha] = name
        path = corpus_dir / Path(str(entry["path"])).name
        by_file[str(entry["path"])] = read_papers(path, path.name, sha, limits, cache)
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
