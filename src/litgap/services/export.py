"""Export: a job's audit record as one ZIP, written as it streams.

The archive holds `job_data.json`, every file under `results/`, and, when the job has
a prompt history, `prompt_history.json` / `.txt` / `.csv` built from the store's
records (the same records job_data.json holds). `MANIFEST.sha256` lists the SHA-256 of
every other entry in `sha256sum` format, so `litgap verify` (or `sha256sum -c` after
unzipping) shows whether anything was altered. A job that has not ended exports what it
has, marked by a `PARTIAL.txt` entry.

Nothing is held whole in memory. The archive is a generator pulled by its reader:
zipfile writes into a small buffer (data descriptors, as for any unseekable output, so
no temp file is needed), and the generator hands the buffer on whenever a chunk has
gathered, between one piece of an entry and the next: files are copied in chunks, the
history is read in batches and encoded one record at a time (history_files.py). A reader
that stops pulling stops the writing; no thread, lock or queue is involved.
"""

import asyncio
import contextlib
import hashlib
import logging
import zipfile
from collections.abc import AsyncIterator, Generator, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import IO

from litgap.clock import now_iso
from litgap.ids import validate_job_id
from litgap.runtime import Runtime
from litgap.services import history_files
from litgap.status import JobStatus
from litgap.store import jobs as job_rows
from litgap.store import prompts as prompt_rows

log = logging.getLogger(__name__)

MANIFEST = "MANIFEST.sha256"
PARTIAL_NOTE = "PARTIAL.txt"
CHUNK = 256 * 1024


@dataclass(frozen=True)
class ExportPlan:
    """What an export of one job will hold, fixed before the first byte is written."""

    job_id: str
    status: str
    legacy: bool
    document: Path | None
    results_dir: Path
    exported_at: str

    @property
    def partial(self) -> bool:
        return not JobStatus(self.status).is_terminal

    @property
    def filename(self) -> str:
        return f"{self.job_id}.zip"


@dataclass
class ExportSummary:
    entries: dict[str, str] = field(default_factory=dict)  # name -> sha256
    size: int = 0


def plan_export(rt: Runtime, job_id: str) -> ExportPlan:
    """Check the job and bring its job_data.json up to date with the store.
    Raises InvalidJobId, UnknownJob, DocumentWriteError."""
    row = job_rows.get_job(rt.engine, validate_job_id(job_id))
    rt.docs.flush()
    document = rt.workspace.document(job_id)
    return ExportPlan(
        job_id=job_id,
        status=row["status"],
        legacy=bool(row["legacy"]),
        document=document if document.is_file() else None,
        results_dir=rt.workspace.results_dir(job_id),
        exported_at=now_iso(),
    )


def result_paths(results_dir: Path) -> list[tuple[str, Path]]:
    """(entry name, path) of every regular file under results/, sorted. Symlinks and
    dot files (temp files of an atomic write in progress) are left out."""
    if not results_dir.is_dir():
        return []
    found = []
    for path in sorted(results_dir.rglob("*")):
        relative = path.relative_to(results_dir)
        if path.is_symlink() or not path.is_file():
            continue
        if any(part.startswith(".") for part in relative.parts):
            continue
        found.append(("results/" + relative.as_posix(), path))
    return found


# -- writing --------------------------------------------------------------------------------


class _Buffer:
    """What zipfile writes, kept until the generator hands it on (write-only and
    unseekable, so zipfile streams with data descriptors)."""

    def __init__(self) -> None:
        self._data = bytearray()

    def write(self, data: bytes) -> int:
        self._data += data
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def __len__(self) -> int:
        return len(self._data)

    def take(self) -> bytes:
        data = bytes(self._data)
        self._data.clear()
        return data


class _Archive:
    """The ZIP being written; each entry's SHA-256 is computed as its bytes pass."""

    def __init__(self, out: _Buffer, exported_at: str) -> None:
        # Deflate at zlib's default level (6); see bench/export.py for what level 1 saves.
        self._zip = zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED)
        self._date = _zip_date(exported_at)
        self.summary = ExportSummary()

    def add_file(self, name: str, path: Path) -> Iterator[None]:
        """Copy a file in, one chunk per step."""
        info = zipfile.ZipInfo.from_file(path, name)
        info.compress_type = zipfile.ZIP_DEFLATED
        digest = hashlib.sha256()
        with open(path, "rb") as source, self._zip.open(info, "w") as handle:
            while chunk := source.read(CHUNK):
                digest.update(chunk)
                handle.write(chunk)
                yield
        self.summary.entries[name] = digest.hexdigest()

    def add(self, name: str, pieces: Iterable[bytes]) -> Iterator[None]:
        """Write an entry from its pieces, one piece per step."""
        info = zipfile.ZipInfo(name, self._date)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        digest = hashlib.sha256()
        with self._zip.open(info, "w") as handle:
            for piece in pieces:
                digest.update(piece)
                handle.write(piece)
                yield
        self.summary.entries[name] = digest.hexdigest()

    def abandon(self) -> None:
        """Release the archive after a failure; what it writes then is discarded."""
        with contextlib.suppress(Exception):
            self._zip.close()

    def close(self) -> None:
        lines = "".join(f"{sha}  {name}\n" for name, sha in sorted(self.summary.entries.items()))
        info = zipfile.ZipInfo(MANIFEST, self._date)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        self._zip.writestr(info, lines)
        self._zip.close()


def _zip_date(iso_time: str) -> tuple[int, int, int, int, int, int]:
    date, time = iso_time[:19].split("T")
    year, month, day = (int(p) for p in date.split("-"))
    hour, minute, second = (int(p) for p in time.split(":"))
    return (max(year, 1980), month, day, hour, minute, second)


def write_export(rt: Runtime, plan: ExportPlan, out: IO[bytes]) -> ExportSummary:
    """Write the job's archive to `out` (a file, or any object with write())."""
    summary = ExportSummary()
    for chunk in _chunks(rt, plan, summary):
        out.write(chunk)
        summary.size += len(chunk)
    return summary


def iter_export(rt: Runtime, plan: ExportPlan) -> Generator[bytes, None, None]:
    """The archive as chunks of about CHUNK bytes, each written as it is asked for."""
    return _chunks(rt, plan, ExportSummary())


def _chunks(rt: Runtime, plan: ExportPlan, summary: ExportSummary) -> Generator[bytes, None, None]:
    buffer = _Buffer()
    archive = _Archive(buffer, plan.exported_at)
    archive.summary = summary
    try:
        for _step in _entries(rt, plan, archive):
            if len(buffer) >= CHUNK:
                yield buffer.take()
    except BaseException:  # a failure, or a reader that went away (GeneratorExit)
        archive.abandon()
        raise
    archive.close()
    if len(buffer):
        yield buffer.take()


def _entries(rt: Runtime, plan: ExportPlan, archive: _Archive) -> Iterator[None]:
    """Write every entry but the manifest, a step at a time."""
    if plan.document is not None:
        yield from archive.add_file("job_data.json", plan.document)
    for name, path in result_paths(plan.results_dir):
        yield from archive.add_file(name, path)
    # Imported here: lineage builds on this module. A job made from another names that
    # job's content hash, so a chain of exports verifies (litgap verify a.zip b.zip).
    from litgap.services.lineage import LINEAGE_ENTRY, lineage_entry

    lineage = lineage_entry(rt, plan.job_id)
    if lineage is not None:
        yield from archive.add(LINEAGE_ENTRY, [lineage])
    count = 0 if plan.legacy else prompt_rows.count_resolved(rt.engine, plan.job_id)
    if count:
        records = partial(history_files.history, rt.engine, plan.job_id)
        yield from archive.add("prompt_history.json", history_files.json_pieces(records()))
        header = history_files.TxtHeader(
            plan.job_id, plan.status, plan.exported_at, count, plan.partial
        )
        yield from archive.add("prompt_history.txt", history_files.txt_pieces(header, records()))
        yield from archive.add("prompt_history.csv", history_files.csv_pieces(records()))
        yield from archive.add(
            history_files.EVIDENCE_CSV, history_files.evidence_csv_pieces(plan.job_id, records())
        )
    if plan.partial:
        yield from archive.add(PARTIAL_NOTE, [_partial_note(plan).encode()])


def _partial_note(plan: ExportPlan) -> str:
    return (
        f"PARTIAL: job {plan.job_id} was {plan.status} when this archive was made "
        f"({plan.exported_at}).\nIts results and prompt history are what it had then; "
        "export it again when it has ended for the complete record.\n"
    )


# -- streaming ------------------------------------------------------------------------------


async def stream_export(rt: Runtime, plan: ExportPlan) -> AsyncIterator[bytes]:
    """The archive as chunks for an event loop: each chunk is written in a worker thread
    (reading files and the store, compressing), and a client that goes away stops the
    writing at the next chunk."""
    chunks = iter_export(rt, plan)
    try:
        while (chunk := await asyncio.to_thread(next, chunks, None)) is not None:
            yield chunk
    finally:
        # Still inside a step when the response was cancelled: that step ends in its
        # thread, and the generator, dropped, is closed by the collector.
        with contextlib.suppress(ValueError):
            chunks.close()
