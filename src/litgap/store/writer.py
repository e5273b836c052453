"""One writer thread per SQLite engine: the small writes of every thread and coroutine
of a process are committed together, one transaction and one fsync per batch.

SQLite admits one writer at a time, so writes queue anyway; queueing them here, rather
than on a lock, lets whatever arrived during a commit share the next one, and lets a
coroutine wait for its write without holding a thread. The thread starts on the first
write and ends after a moment with nothing to do, so an idle engine owns no thread.
"""

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

import sqlalchemy as sa

T = TypeVar("T")
Work = Callable[[sa.Connection], Any]
IDLE_SECONDS = 1.0


@dataclass
class _Write:
    work: Work
    done: Future[Any] = field(default_factory=Future)


class Writer:
    def __init__(self, engine: sa.Engine, lock: threading.Lock) -> None:
        self._engine = engine
        # Held for each batch: `writing()` callers outside the queue take it too.
        self._lock = lock
        self._ready = threading.Condition()
        self._queue: list[_Write] = []
        self._running = False

    def submit(self, work: Callable[[sa.Connection], T]) -> "Future[T]":
        """Queue `work` for the next commit; the future settles once it is on disk (or
        with the exception the work raised, nothing of it written)."""
        write = _Write(work)
        with self._ready:
            self._queue.append(write)
            if self._running:
                self._ready.notify()
            else:
                self._running = True
                threading.Thread(target=self._loop, name="store-writer", daemon=True).start()
        return write.done

    def run(self, work: Callable[[sa.Connection], T]) -> T:
        return self.submit(work).result()

    async def run_async(self, work: Callable[[sa.Connection], T]) -> T:
        return await asyncio.wrap_future(self.submit(work))

    def _loop(self) -> None:
        while True:
            with self._ready:
                if not self._queue:
                    self._ready.wait(IDLE_SECONDS)
                if not self._queue:
                    self._running = False
                    return
                # A coroutine cancelled while its write waited takes the write back.
                batch = [w for w in self._queue if w.done.set_running_or_notify_cancel()]
                self._queue = []
            with self._lock:
                self._commit(batch)

    def _commit(self, batch: list[_Write]) -> None:
        try:
            results = self._transaction([w.work for w in batch])
        except Exception as err:
            if len(batch) == 1:
                batch[0].done.set_exception(err)
                return
            # One write failed (or the commit did): nothing of the batch is saved. Run
            # each alone, so that only the failing one fails. Rare, and simpler and
            # cheaper in the common case than a savepoint around every write.
            for write in batch:
                self._commit([write])
            return
        for write, result in zip(batch, results, strict=True):
            write.done.set_result(result)

    def _transaction(self, works: list[Work]) -> list[Any]:
        with self._engine.connect().execution_options(litgap_write=True) as conn, conn.begin():
            return [work(conn) for work in works]
