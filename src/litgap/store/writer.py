"""One writer thread per SQLite engine: the small writes of every thread and coroutine
of a process are committed together, one transaction and one fsync per batch.

SQLite admits one writer at a time, so writes queue anyway; queueing them here, rather
than on a lock, lets whatever arrived during a commit share the next one, and lets a
coroutine wait for its write without holding a thread. The thread starts on the first
write and ends after a moment with nothing to do, so an idle engine owns no thread.

Each statement costs the writer a round for the GIL (sqlite3 lets go of it around each
step), and under load that wait, not SQLite, is most of a write's cost. So writes of
one kind may merge: a work with a `merge(conn, works) -> results` attribute is run
with the others of its kind in a few statements, after the batch's plain works. Such a
work must not depend on another write of the same batch.
"""

import asyncio
import logging
import threading
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa

T = TypeVar("T")
log = logging.getLogger(__name__)
Work = Callable[[sa.Connection], Any]
IDLE_SECONDS = 1.0


@dataclass
class _Write:
    work: Work
    future: "Future[Any] | None" = None  # a thread waits on this
    waiter: "asyncio.Future[Any] | None" = None  # a coroutine awaits this


@dataclass
class _Outcome:
    write: _Write
    result: Any = None
    error: BaseException | None = None


class Writer:
    def __init__(self, engine: sa.Engine, lock: threading.Lock) -> None:
        self._engine = engine
        # Held for each batch: `writing()` callers outside the queue take it too.
        self._lock = lock
        self._ready = threading.Condition()
        self._queue: list[_Write] = []
        self._running = False

    def run(self, work: Callable[[sa.Connection], T]) -> T:
        """Run `work` in the next commit and return its result once it is on disk; the
        exception it raised otherwise, nothing of it written."""
        future: Future[T] = Future()
        self._submit(_Write(work, future=future))
        return future.result()

    async def run_async(self, work: Callable[[sa.Connection], T]) -> T:
        """run() for a coroutine, which waits without holding a thread. A write once
        queued is committed even if its coroutine is cancelled meanwhile."""
        waiter: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._submit(_Write(work, waiter=waiter))
        return await waiter

    def post(self, work: Work) -> None:
        """Queue `work` for the next commit without waiting for it: for live state that
        a later write supersedes (a job's progress). A failure is logged."""
        self._submit(_Write(work))

    def _submit(self, write: _Write) -> None:
        with self._ready:
            self._queue.append(write)
            if self._running:
                self._ready.notify()
            else:
                self._running = True
                threading.Thread(target=self._loop, name="store-writer", daemon=True).start()

    def _loop(self) -> None:
        while True:
            with self._ready:
                if not self._queue:
                    self._ready.wait(IDLE_SECONDS)
                if not self._queue:
                    self._running = False
                    return
                batch, self._queue = self._queue, []
            with self._lock:
                outcomes = self._commit(batch)
            _deliver(outcomes)

    def _commit(self, batch: list[_Write]) -> list[_Outcome]:
        try:
            with (
                self._engine.connect().execution_options(litgap_write=True) as conn,
                conn.begin(),
            ):
                results = _run(conn, [write.work for write in batch])
        except Exception as err:
            if len(batch) == 1:
                return [_Outcome(batch[0], error=err)]
            # One write failed (or the commit did): nothing of the batch is saved. Run
            # each alone, so that only the failing one fails. Rare, and simpler and
            # cheaper in the common case than a savepoint around every write.
            return [outcome for write in batch for outcome in self._commit([write])]
        return [_Outcome(w, result) for w, result in zip(batch, results, strict=True)]


def _run(conn: sa.Connection, works: list[Work]) -> list[Any]:
    results: list[Any] = [None] * len(works)
    kinds: dict[Callable[..., list[Any]], list[int]] = defaultdict(list)
    for i, work in enumerate(works):
        merge = getattr(work, "merge", None)
        if merge is None:
            results[i] = work(conn)
        else:
            kinds[merge].append(i)
    for merge, positions in kinds.items():
        merged = merge(conn, [works[i] for i in positions])
        for i, result in zip(positions, merged, strict=True):
            results[i] = result
    return results


def _deliver(outcomes: list[_Outcome]) -> None:
    """Tell each waiter; the coroutines of one event loop are woken by one call, not
    one cross-thread wake-up each."""
    by_loop: dict[asyncio.AbstractEventLoop, list[_Outcome]] = defaultdict(list)
    for outcome in outcomes:
        write = outcome.write
        if write.future is not None:
            if outcome.error is not None:
                write.future.set_exception(outcome.error)
            else:
                write.future.set_result(outcome.result)
        elif write.waiter is not None:
            by_loop[write.waiter.get_loop()].append(outcome)
        elif outcome.error is not None:
            log.error("a posted write failed", exc_info=outcome.error)
    for loop, settled in by_loop.items():
        if not loop.is_closed():
            loop.call_soon_threadsafe(_settle, settled)


def _settle(outcomes: list[_Outcome]) -> None:
    for outcome in outcomes:
        waiter = outcome.write.waiter
        if waiter is None or waiter.done():  # its coroutine was cancelled
            continue
        if outcome.error is not None:
            waiter.set_exception(outcome.error)
        else:
            waiter.set_result(outcome.result)
