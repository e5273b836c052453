"""job_data.json: each job's portable document, rendered from the store.

The store commits first; the document follows. A background thread rewrites each
changed job's file atomically, coalescing bursts of changes into one write, so that
recording an answer costs the same whatever the length of the history. Resolved
prompt records never change, so each one is serialised once and cached.
A file lock per job folder keeps two processes from replacing a newer rendering with
an older one: whoever holds the lock renders from the store at that moment.
"""

import fcntl
import json
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from litgap.atomic import write_atomic
from litgap.exceptions import DocumentWriteError
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


class DocumentWriter:
    """Keeps every job's job_data.json in step with the store."""

    # A pause before each batch lets a burst of answers share one rewrite; the store
    # already holds every answer durably, so the document may trail by this much. The
    # pause grows with the last batch's duration, so that under load the writer takes
    # at most about a third of the process's time, however many jobs are busy.
    COALESCE_SECONDS = 0.05
    DUTY_FACTOR = 2.0

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
            for job_id in batch:
                try:
                    self._write(job_id)
                except Exception:  # one job's failure must not stop the others
                    log.exception("writing job_data.json of %s failed", job_id)
            pause = max(self.COALESCE_SECONDS, self.DUTY_FACTOR * (time.monotonic() - started))
            with self._cond:
                self._done = max(self._done, covered)
                self._cond.notify_all()

    def _history(self, job_id: str) -> _History:
        cached = self._cache.setdefault(job_id, _History())
        for row in prompt_rows.job_prompts(self._engine, job_id, after_seq=cached.count - 1):
            if row["seq"] != cached.count:
                # Records out of step with seq (imported history): render them all afresh.
                fresh = _History()
                for each in prompt_rows.job_prompts(self._engine, job_id):
                    fresh.append(_fragment(each))
                self._cache.pop(job_id, None)
                return fresh
            cached.append(_fragment(row))
        return cached

    def _write(self, job_id: str) -> None:
        folder = self._workspace.job_dir(job_id)
        path = folder / "job_data.json"
        lock_path = folder / ".job_data.lock"
        try:
            with open(lock_path, "a+b") as lock:
                fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
                row = job_rows.get_job(self._engine, job_id)
                if row["legacy"]:
                    return  # a legacy document is the original record: never rewritten
                data = render_document(job_header(row), self._history(job_id))
                write_atomic(path, data, durable=self._durable)
                if JobStatus(row["status"]).is_terminal:
                    # An ended job's history no longer grows: keep no copy of it.
                    self._cache.pop(job_id, None)
        except OSError as err:
            error = DocumentWriteError(path, err.strerror or str(err))
            with self._cond:
                self._errors[job_id] = error
            raise error from err
        with self._cond:
            self._errors.pop(job_id, None)


def read_document(path: Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    if not isinstance(data, dict):
        raise ValueError("job_data.json does not hold a JSON object")
    return data
