"""Saving a job's inputs: corpus files and the framework, streamed to disk with a size
limit, named safely, and fingerprinted by sha256."""

import hashlib
import os
import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from litgap.atomic import fsync_all
from litgap.blobs import Blob, link
from litgap.exceptions import InvalidInput, PayloadTooLarge
from litgap.pipeline.ingest.text import NotText, decode_text

CORPUS_SUFFIXES = (".pdf", ".txt", ".md", ".markdown", ".csv", ".bib", ".ris", ".zip")
# Read by decode_text's strict rule; BibTeX and RIS exports get their readers' fallbacks.
TEXT_SUFFIXES = (".txt", ".md", ".markdown", ".csv")
CHUNK = 1024 * 1024
_UNSAFE = re.compile(r"[^A-Za-z0-9._()\- ]+")


@dataclass
class InputFile:
    name: str
    stream: BinaryIO


@dataclass
class StoredFile:
    """An input whose content the workspace already holds: saved as a hard link."""

    name: str
    blob: Blob


def safe_name(name: str, taken: set[str]) -> str:
    """A file name that is safe on disk and unique in its folder (the original name is
    kept in the job's inputs list)."""
    base = os.path.basename(name.replace("\\", "/")).replace("\x00", "")
    base = _UNSAFE.sub("_", base).strip(" .") or "file"
    stem, suffix = os.path.splitext(base)
    stem, suffix = stem[:100] or "file", suffix[:12].lower()
    candidate, n = f"{stem}{suffix}", 1
    while candidate.lower() in taken:
        n += 1
        candidate = f"{stem}-{n}{suffix}"
    taken.add(candidate.lower())
    return candidate


class Budget:
    """Bytes left for one request's uploads."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def take(self, count: int) -> None:
        self.used += count
        if self.used > self.limit:
            raise PayloadTooLarge(
                f"upload exceeds the limit of {self.limit} bytes; nothing was saved"
            )


def save_stream(
    stream: BinaryIO, target: Path, budget: Budget, *, sync: bool = True
) -> tuple[str, int]:
    """Save `stream` as the new file `target` (FileExistsError if it exists), its
    (sha256, size). With `sync`, it is on disk when this returns; without, the caller
    fsyncs it (with others at once: `atomic.fsync_all`) before anyone is told of it.
    Raises PayloadTooLarge once `budget` is spent."""
    digest = hashlib.sha256()
    size = 0
    with open(target, "xb") as out:
        while chunk := stream.read(CHUNK):
            budget.take(len(chunk))
            digest.update(chunk)
            out.write(chunk)
            size += len(chunk)
        if sync:
            out.flush()
            os.fsync(out.fileno())
    return digest.hexdigest(), size


def save_input(
    item: InputFile | StoredFile, target: Path, budget: Budget, *, sync: bool = True
) -> tuple[str, int]:
    """`save_stream` of an upload, or a stored file's link (durable once its folder is
    fsynced); (sha256, size)."""
    if isinstance(item, StoredFile):
        budget.take(item.blob.size)
        if not link(item.blob, target) and sync:
            fsync_all([target])  # copied: the disk has no hard links
        return item.blob.sha256, item.blob.size
    return save_stream(item.stream, target, budget, sync=sync)


def save_corpus_files(
    files: Iterable[InputFile | StoredFile],
    corpus_dir: Path,
    budget: Budget,
    taken: set[str],
    *,
    sync: bool = True,
) -> list[dict[str, Any]]:
    """Save each corpus upload under a safe name not in `taken` (lower-case names; each
    one saved is added), as its inputs entry; `sync` as for `save_input`. Raises
    InvalidInput for an empty file and PayloadTooLarge once `budget` is spent."""
    saved: list[dict[str, Any]] = []
    for item in files:
        name = safe_name(item.name, taken)
        sha, size = save_input(item, corpus_dir / name, budget, sync=sync)
        if size == 0:
            raise InvalidInput(f"file {item.name[:100]!r} is empty")
        # A stored file's text was checked when it was held (`hold_sample`).
        if name.lower().endswith(TEXT_SUFFIXES) and not isinstance(item, StoredFile):
            check_text_file(corpus_dir / name, item.name)
        saved.append(
            {
                "role": "corpus",
                "name": item.name,
                "path": f"corpus/{name}",
                "sha256": sha,
                "size": size,
            }
        )
    return saved


def check_text_file(path: Path, shown: str) -> None:
    """A text upload must be text by the readers' own rule (`decode_text`): refused here
    with the reason, not accepted and then skipped by the run."""
    try:
        decode_text(path.read_bytes())
    except NotText as err:
        raise InvalidInput(f"file {shown[:100]!r} is not text: {err.reason}") from err


def check_corpus_names(files: Iterable[InputFile | StoredFile]) -> None:
    for item in files:
        if not item.name.lower().endswith(CORPUS_SUFFIXES):
            raise InvalidInput(
                f"unsupported file type {item.name[:100]!r}: expected one of "
                + ", ".join(CORPUS_SUFFIXES)
            )


def link_or_copy(source: Path, target: Path) -> None:
    """Share an identical input between jobs instead of storing it twice."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
