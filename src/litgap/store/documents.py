"""job_data.json: each job's portable document, rendered from the store.

The store commits first; the document follows. A background thread rewrites each
changed job's file atomically, coalescing bursts of changes into one write, so that
recording an answer costs the same whatever the length of the history. Resolved
prompt records never change, so each one is serialised once and cached.
A file lock per job folder keeps two processes from replacing a newer rendering with
an older one: whoever holds the lock renders from the store at that moment.
"""

import contextlib
import fcntl
import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from litgap.atomic import write_atomic, write_atomic_all
from litgap.exceptions import DocumentWriteError, UnknownJob
from litgap.records import job_header, prompt_record
from litgap.status import JobStatus
from litgap.store import jobs as job_rows
from litgap.store import prompts as prompt_rows
from litgap.workspace import Workspace

log = logging.getLogger(__name__)


def _indent(text: str, spaces: int) -> str:
    pad = " " * spaces
    return "\n".join(pad + line for line in text.splitlines())


def _fragment(row: dict[str, Any]) -> bytes:
    return _indent(json.dumps(prompt_record(row), indent=2, ensure_ascii=False), 4).encode()


@dataclass
class _History:
    """A job's serialised prompt records, grown by appending: a rewrite copies bytes
    instead of serialising the whole history again."""

    count: int = 0
    body: bytearray = field(default_factory=bytearray)

    def append(self, fragment: bytes) -> None:
        if self.count:
            self.body += b",\n"
        self.body += fragment
        self.count += 1


def render_document(header: dict[str, Any], history: _History) -> bytes:
    head = json.dumps(header, indent=2, ensure_ascii=False).encode()
    if not history.count:
        return head[:-2] + b',\n  "prompts": []\n}\n'
    return b"".join((head[:-2], b',\n  "prompts": [\n', history.body, b"\n  ]\n}\n"))


@dataclass
class _Group:
    """What a group's documents are rendered from, read with their locks held."""

    rows: dict[str, dict[str, Any]]  # by job id
    prompts: dict[str, list[dict[str, Any]]]  # each job's records past `after`
    after: dict[str, int]


class DocumentWriter:
    """Keeps every job's job_data.json in step with the store."""

    # A pause before each batch lets a burst of answers share one rewrite; the store
    # already holds every answer durably, so the document may trail by this much. The
    # pause grows with the last batch's duration, so that under load the writer takes
    # at most about a third of the process's time, however many jobs are busy.
    COALESCE_SECONDS = 0.05
    DUTY_FACTOR = 2.0
    GROUP = 64  # documents written together (each holds its folder's lock meanwhile)

    def __init__(self, engine: sa.Engine, workspace: Workspace, *, durable: bool = True) -> None:
        self._engine = engine
        self._workspace = workspace
        self._durable = durable
        self._cond = threading.Condition()
        self._dirty: set[str] = set()
        self._requested = 0
        self._done = 0
        self._errors: dict[str, DocumentWriteError] = {}
        self._cache: dict[str, _History] = {}
        self._stopping = False
        self._thread = threading.Thread(target=self._loop, name="job-documents", daemon=True)
        self._thread.start()

    def mark(self, job_id: str) -> None:
        """Ask for `job_id`'s document to be rewritten soon."""
        with self._cond:
            self._dirty.add(job_id)
            self._requested += 1
            self._cond.notify_all()

    def flush(self, timeout: float = 30.0) -> None:
        """Block until every change marked so far is on disk; raise the last write error."""
        with self._cond:
            target = self._requested
            self._cond.wait_for(lambda: self._done >= target, timeout=timeout)
            errors = list(self._errors.values())
        if errors:
            raise errors[0]

    def forget(self, job_id: str) -> None:
        """Drop what is kept about a job that was removed (its creation failed)."""
        with self._cond:
            self._dirty.discard(job_id)
            self._errors.pop(job_id, None)
            self._cache.pop(job_id, None)

    def write_now(self, job_id: str) -> None:
        """Rewrite one job's document in the calling thread."""
        self._write(job_id)

    def close(self) -> None:
        if self._stopping:
            return
        self.flush()
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        pause = self.COALESCE_SECONDS
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._dirty or self._stopping)
                if self._stopping and not self._dirty:
                    return
                if not self._stopping:
                    self._cond.wait(timeout=pause)
                batch, self._dirty = sorted(self._dirty), set()
                covered = self._requested
            started = time.monotonic()
            for start in range(0, len(batch), self.GROUP):
                self._write_group(batch[start : start + self.GROUP])
            pause = max(self.COALESCE_SECONDS, self.DUTY_FACTOR * (time.monotonic() - started))
            with self._cond:
                self._done = max(self._done, covered)
                self._cond.notify_all()

    def _history(self, job_id: str, new: list[dict[str, Any]] | None = None) -> _History:
        """The job's history grown by `new` (its records past the cached ones, read
        already), or by those read now."""
        cached = self._cache.setdefault(job_id, _History())
        if new is None:
            new = prompt_rows.job_prompts(self._engine, job_id, after_seq=cached.count - 1)
        for row in new:
            if row["seq"] != cached.count:
                # Records out of step with seq (imported history): render them all afresh.
                fresh = _History()
                for each in prompt_rows.job_prompts(self._engine, job_id):
                    fresh.append(_fragment(each))
                self._cache.pop(job_id, None)
                return fresh
            cached.append(_fragment(row))
        return cached

    def _write_group(self, job_ids: list[str]) -> None:
        """Rewrite these jobs' documents with their fsyncs issued together; one job's
        failure does not stop the others (it is kept for `flush` and logged)."""
        with contextlib.ExitStack() as locks:
            locked: list[tuple[str, Path]] = []
            for job_id in job_ids:  # sorted: two processes take the locks in one order
                try:
                    path = self._workspace.document(job_id)
                    locks.enter_context(_locked(path.parent))
                except OSError as err:
                    self._failed(job_id, self._workspace.document(job_id), err)
                    continue
                locked.append((job_id, path))
            # Read with every lock held, so each rendering is the store's at that moment:
            # the group's rows in one read and their new records in a few. Read one by
            # one, they were 3/5 of this thread's time while 50 jobs were created at once.
            found = self._read_group([job_id for job_id, _ in locked])
            rendered: list[tuple[str, Path, bytes]] = []
            for job_id, path in locked:
                try:
                    data = self._render(job_id, found)
                except OSError as err:
                    self._failed(job_id, path, err)
                    continue
                except Exception:
                    log.exception("writing job_data.json of %s failed", job_id)
                    continue
                if data is not None:
                    rendered.append((job_id, path, data))
            files = [(path, data) for _, path, data in rendered]
            written = write_atomic_all(files, durable=self._durable)
            for (job_id, path, _), error in zip(rendered, written, strict=True):
                if error is None:
                    with self._cond:
                        self._errors.pop(job_id, None)
                else:
                    self._failed(job_id, path, error)

    def _read_group(self, job_ids: list[str]) -> "_Group | None":
        """The rows and new records of `job_ids`; None when the read failed (each job
        is then read alone, so that its own error is its own)."""
        if len(job_ids) < 2:
            return None
        after = {job_id: self._cache.get(job_id, _History()).count - 1 for job_id in job_ids}
        try:
            return _Group(
                job_rows.get_jobs(self._engine, job_ids),
                prompt_rows.jobs_prompts(self._engine, after),
                after,
            )
        except Exception:
            log.exception("reading %d jobs for their documents failed", len(job_ids))
            return None

    def _render(self, job_id: str, found: "_Group | None" = None) -> bytes | None:
        """The job's document as the store holds it now (None for a legacy job, whose
        document is the original record: never rewritten), from `found` when it was
        read with the others of its group. Called with its lock held."""
        if found is None:
            row = job_rows.get_job(self._engine, job_id)
            new = None
        else:
            if job_id not in found.rows:
                raise UnknownJob(job_id)
            row = found.rows[job_id]
            # Read past the history cached then; if that changed since (forgotten),
            # read afresh.
            cached = self._cache.get(job_id, _History()).count - 1
            new = found.prompts[job_id] if cached == found.after[job_id] else None
        if row["legacy"]:
            return None
        history = self._history(job_id, new)
        if JobStatus(row["status"]).is_terminal:
            # An ended job's history no longer grows: keep no copy of it.
            self._cache.pop(job_id, None)
        return render_document(job_header(row), history)

    def _failed(self, job_id: str, path: Path, err: OSError) -> DocumentWriteError:
        error = DocumentWriteError(path, err.strerror or str(err))
        log.error("writing %s failed: %s", path, error)
        with self._cond:
            self._errors[job_id] = error
        return error

    def _write(self, job_id: str) -> None:
        folder = self._workspace.job_dir(job_id)
        path = folder / "job_data.json"
        try:
            # Locked on the job's folder, not on a lock file: one file fewer to create
            # with each job (the lock ends when the descriptor closes).
            with _locked(folder):
                data = self._render(job_id)
                if data is not None:
                    write_atomic(path, data, durable=self._durable)
        except OSError as err:
            raise self._failed(job_id, path, err) from err
        with self._cond:
            self._errors.pop(job_id, None)


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def read_document(path: Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    if not isinstance(data, dict):
        raise ValueError("job_data.json does not hold a JSON object")
    return data
