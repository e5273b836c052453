"""Export: a job's audit record as one ZIP, written as it streams.

The archive holds `job_data.json`, every file under `results/`, and, when the job has
a prompt history, `prompt_history.json` / `.txt` / `.csv` built from the store's
records (the same records job_data.json holds). `MANIFEST.sha256` lists the SHA-256 of
every other entry in `sha256sum` format, so `litgap verify` (or `sha256sum -c` after
unzipping) shows whether anything was altered. A job that has not ended exports what it
has, marked by a `PARTIAL.txt` entry.

Nothing is held whole in memory: files are copied in chunks, the history is read in
batches and written one record at a time (history_files.py), and for HTTP the archive
goes through a small bounded pipe to the client while a thread writes it (zipfile
writes data descriptors to an unseekable output, so no temp file is needed).
"""

import asyncio
import contextlib
import hashlib
import logging
import threading
import zipfile
from collections import deque
from collections.abc import AsyncIterator, Generator
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


class _Entry:
    """One archive entry being written: counts and hashes what passes through."""

    def __init__(self, handle: IO[bytes]) -> None:
        self._handle = handle
        self.digest = hashlib.sha256()

    def write(self, data: bytes) -> None:
        self.digest.update(data)
        self._handle.write(data)


class _Archive:
    def __init__(self, out: IO[bytes], exported_at: str) -> None:
        # Deflate at zlib's default level (6); see bench/export.py for what level 1 saves.
        self._zip = zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED)
        self._date = _zip_date(exported_at)
        self.summary = ExportSummary()

    def add_file(self, name: str, path: Path) -> None:
        info = zipfile.ZipInfo.from_file(path, name)
        info.compress_type = zipfile.ZIP_DEFLATED
        with open(path, "rb") as source, self._zip.open(info, "w") as handle:
            entry = _Entry(handle)
            while chunk := source.read(CHUNK):
                entry.write(chunk)
        self.summary.entries[name] = entry.digest.hexdigest()

    def open(self, name: str) -> "_OpenEntry":
        info = zipfile.ZipInfo(name, self._date)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        return _OpenEntry(self, name, self._zip.open(info, "w"))

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


class _OpenEntry:
    def __init__(self, archive: _Archive, name: str, handle: IO[bytes]) -> None:
        self._archive = archive
        self._name = name
        self._handle = handle
        self.entry = _Entry(handle)

    def __enter__(self) -> _Entry:
        return self.entry

    def __exit__(self, *exc: object) -> None:
        self._handle.close()
        self._archive.summary.entries[self._name] = self.entry.digest.hexdigest()


def _zip_date(iso_time: str) -> tuple[int, int, int, int, int, int]:
    date, time = iso_time[:19].split("T")
    year, month, day = (int(p) for p in date.split("-"))
    hour, minute, second = (int(p) for p in time.split(":"))
    return (max(year, 1980), month, day, hour, minute, second)


def write_export(rt: Runtime, plan: ExportPlan, out: IO[bytes]) -> ExportSummary:
    """Write the job's archive to `out` (a file, or any object with write())."""
    archive = _Archive(out, plan.exported_at)
    try:
        _write_entries(rt, plan, archive)
    except BaseException:
        archive.abandon()
        raise
    archive.close()
    return archive.summary


def _write_entries(rt: Runtime, plan: ExportPlan, archive: "_Archive") -> None:
    if plan.document is not None:
        archive.add_file("job_data.json", plan.document)
    for name, path in result_paths(plan.results_dir):
        archive.add_file(name, path)
    # Imported here: lineage builds on this module. A job made from another names that
    # job's content hash, so a chain of exports verifies (litgap verify a.zip b.zip).
    from litgap.services.lineage import LINEAGE_ENTRY, lineage_entry

    lineage = lineage_entry(rt, plan.job_id)
    if lineage is not None:
        with archive.open(LINEAGE_ENTRY) as entry:
            entry.write(lineage)
    count = 0 if plan.legacy else prompt_rows.count_resolved(rt.engine, plan.job_id)
    if count:
        records = partial(history_files.history, rt.engine, plan.job_id)
        with archive.open("prompt_history.json") as entry:
            history_files.write_json(entry, records())
        with archive.open("prompt_history.txt") as entry:
            header = history_files.TxtHeader(
                plan.job_id, plan.status, plan.exported_at, count, plan.partial
            )
            history_files.write_txt(entry, header, records())
        with archive.open("prompt_history.csv") as entry:
            history_files.write_csv(entry, records())
    if plan.partial:
        with archive.open(PARTIAL_NOTE) as entry:
            entry.write(_partial_note(plan).encode())


def _partial_note(plan: ExportPlan) -> str:
    return (
        f"PARTIAL: job {plan.job_id} was {plan.status} when this archive was made "
        f"({plan.exported_at}).\nIts results and prompt history are what it had then; "
        "export it again when it has ended for the complete record.\n"
    )


# -- streaming ------------------------------------------------------------------------------


class ExportAborted(Exception):
    """The reader went away; the writer stops."""


class _Pipe:
    """A bounded byte pipe between the thread writing the archive and the response.
    Small writes are gathered into chunks; the writer waits while `limit` bytes are
    queued, so memory stays bounded whatever the archive's size."""

    def __init__(self, chunk: int = 64 * 1024, limit: int = 1024 * 1024) -> None:
        self._chunk = chunk
        self._limit = limit
        self._buffer = bytearray()
        self._queue: deque[bytes] = deque()
        self._queued = 0
        self._cond = threading.Condition()
        self._finished = False
        self._aborted = False
        self._told = False
        self.error: BaseException | None = None

    # writer side (zipfile sees a write-only, unseekable file)
    def write(self, data: bytes) -> int:
        self._buffer += data
        if len(self._buffer) >= self._chunk:
            self._push(bytes(self._buffer))
            self._buffer.clear()
        return len(data)

    def flush(self) -> None:
        pass

    def _push(self, chunk: bytes) -> None:
        with self._cond:
            while self._queued >= self._limit and not self._aborted:
                self._cond.wait()
            if self._aborted:
                if self._told:
                    return  # the writer is unwinding: let its clean-up write into nothing
                self._told = True
                raise ExportAborted
            self._queue.append(chunk)
            self._queued += len(chunk)
            self._cond.notify_all()

    def finish(self, error: BaseException | None = None) -> None:
        if error is None and self._buffer and not self._aborted:
            self._push(bytes(self._buffer))
            self._buffer.clear()
        with self._cond:
            self.error = error
            self._finished = True
            self._cond.notify_all()

    # reader side
    def read(self) -> bytes | None:
        """The next chunk, or None at the end; raises the writer's error."""
        with self._cond:
            while not self._queue and not self._finished and not self._aborted:
                self._cond.wait()
            if self._queue and not self._aborted:
                chunk = self._queue.popleft()
                self._queued -= len(chunk)
                self._cond.notify_all()
                return chunk
            if self.error is not None and not self._aborted:
                raise self.error
            return None

    def abort(self) -> None:
        with self._cond:
            self._aborted = True
            self._cond.notify_all()


def _produce(rt: Runtime, plan: ExportPlan, pipe: _Pipe) -> None:
    try:
        write_export(rt, plan, pipe)  # type: ignore[arg-type]  # write-only on purpose
    except ExportAborted:
        pipe.finish()
    except Exception as err:
        log.exception("export of %s failed", plan.job_id)
        pipe.finish(err)
    else:
        pipe.finish()


def _start(rt: Runtime, plan: ExportPlan) -> _Pipe:
    pipe = _Pipe()
    thread = threading.Thread(
        target=_produce, args=(rt, plan, pipe), name=f"export-{plan.job_id}", daemon=True
    )
    thread.start()
    return pipe


def iter_export(rt: Runtime, plan: ExportPlan) -> Generator[bytes, None, None]:
    """The archive as chunks, written by a thread as they are read."""
    pipe = _start(rt, plan)
    try:
        while (chunk := pipe.read()) is not None:
            yield chunk
    finally:
        pipe.abort()


async def stream_export(rt: Runtime, plan: ExportPlan) -> AsyncIterator[bytes]:
    """The archive as chunks for an event loop: each wait for the next chunk happens in
    a worker thread, and a client that goes away stops the writer."""
    pipe = _start(rt, plan)
    try:
        while (chunk := await asyncio.to_thread(pipe.read)) is not None:
            yield chunk
    finally:
        pipe.abort()
