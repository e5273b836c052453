"""Atomic file writes: temp file in the same folder, fsync, rename, fsync of the folder.

A reader (or a crash) sees either the old file or the new one, never a torn one.
`fsync_all` makes many new files and folders durable at once.
"""

import contextlib
import os
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

# fsync waits on the disk with the GIL released. Issued together, the fsyncs of one
# group join the same journal commit (ext4's jbd2, XFS's log): a sample job's nine files
# and three folders took 3.4 ms one after another, 1.3 ms at once, on an idle disk.
_SYNCERS: dict[int, ThreadPoolExecutor] = {}  # by process id: a fork has no threads


def _syncers() -> ThreadPoolExecutor:
    pool = _SYNCERS.get(os.getpid())
    if pool is None:
        # setdefault keeps one of two made at once; the other never started a thread.
        made = ThreadPoolExecutor(max_workers=16, thread_name_prefix="litgap-fsync")
        pool = _SYNCERS.setdefault(os.getpid(), made)
    return pool


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(folder: Path) -> None:
    _fsync_path(folder)


def fsync_all(paths: Sequence[Path]) -> None:
    """fsync every file and folder of `paths` (files' data, folders' entries), all at
    once; returns when all are on disk. Raises the OSError of the first that failed,
    after every other has been tried."""
    # Opened in the pool's threads too: each system call gives up the GIL, and taking it
    # back behind a busy event loop costs more than the call, so the caller makes none.
    pool = _syncers()
    futures = [pool.submit(_fsync_path, path) for path in paths]
    errors = [f.exception() for f in futures]
    for error in errors:
        if error is not None:
            raise error


def write_atomic(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Replace `path` with `data` atomically; on any error the old file is left as it was."""
    folder = path.parent
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    if durable:
        fsync_dir(folder)
