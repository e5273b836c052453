"""Worker processes for job work: their own GIL, and a kill that really stops the work.

`await pool.run(fn, *args, **kwargs)` runs a picklable top-level function in one of at
most `size` worker processes and returns its value (or raises its error). Why processes
and not threads: a thread shares the serving process's GIL, so scoring and rendering
would slow every request; and a thread cannot be stopped, while a process can.

- Cancelling the awaiting task kills the worker that runs the call (SIGTERM, SIGKILL
  after KILL_GRACE_SECONDS): the work stops at once, and a fresh worker takes the slot.
- A `timeout` kills the worker the same way and raises WorkTimedOut.
- A worker that dies (a crash, an OOM kill) fails only the call it ran, with WorkerDied.
- Workers run niced and SCHED_IDLE: requests keep the CPU when analysis wants it all.

Workers start lazily, from a fork server that has imported the pipeline once (so a
worker is ready in milliseconds and the parent's threads are never forked). Pools are
shared process-wide, one per size (`shared_pool`), and usable from any event loop: tests
and the CLI run many loops, one after another or at once. The parent waits for a reply
in a short-lived thread per call, so no loop and no executor thread is tied up.
"""

import asyncio
import atexit
import contextlib
import multiprocessing
import os
import pickle
import signal
import threading
import traceback
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from multiprocessing.process import BaseProcess
from typing import Any, TypeVar

from litgap.exceptions import LitgapError

T = TypeVar("T")

# What the fork server imports before it forks workers: what every job needs.
PRELOAD = ["litgap.stages"]
KILL_GRACE_SECONDS = 0.5
# Workers yield the CPU to the serving process: on a machine with as many busy workers
# as cores, a request still runs at once instead of sharing a core with the analysis.
WORKER_NICENESS = 10


class WorkerDied(LitgapError):
    """The process running a piece of work ended without answering (crash, OOM kill)."""

    status_code = 500


class WorkTimedOut(LitgapError):
    """A piece of work ran past its time limit and was stopped."""

    status_code = 500


class WorkFailed(LitgapError):
    """The work raised an error that cannot cross the process boundary as itself."""

    status_code = 500


def _name(fn: Callable[..., Any]) -> str:
    inner = getattr(fn, "func", fn)  # a functools.partial names its function
    return str(getattr(inner, "__qualname__", None) or repr(inner))


# -- the worker process ---------------------------------------------------------------


def _serve(conn: Connection) -> None:
    """A worker's life: take a call, run it, send back ("ok", value) or ("err", error)."""
    # Ctrl-C in a terminal reaches the whole process group: the parent decides what stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(OSError):
        os.nice(WORKER_NICENESS)
    # And below every normal process (Linux): bench/load.py --mode users measured answer
    # p99 170 -> 117 ms and /api/me p99 beside six big jobs 32 -> 12 ms, more jobs done.
    with contextlib.suppress(OSError, AttributeError):
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    while True:
        try:
            message = conn.recv_bytes()
        except (EOFError, OSError):
            return  # the parent is gone or closed the pipe
        try:
            fn, args, kwargs = pickle.loads(message)
            reply: tuple[str, Any] = ("ok", fn(*args, **kwargs))
        except BaseException as err:  # every error goes back to the caller
            reply = ("err", _portable(err))
        try:
            data = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as err:
            data = pickle.dumps(("err", WorkFailed(f"the result cannot be sent back: {err!r}")))
        try:
            conn.send_bytes(data)
        except (BrokenPipeError, OSError):
            return


def _portable(err: BaseException) -> BaseException:
    """The error itself when it survives pickling, else a WorkFailed that names it; the
    worker's traceback rides along as a note, for the log of the parent."""
    remote = "".join(traceback.format_exception(err))
    try:
        copy = pickle.loads(pickle.dumps(err))
    except Exception:
        copy = WorkFailed(f"{type(err).__name__}: {err}")
    if not isinstance(copy, LitgapError):
        copy.add_note(f"in the analysis process:\n{remote}")
    return copy


# -- the parent's side ----------------------------------------------------------------


class _Worker:
    def __init__(self, context: BaseContext) -> None:
        parent, child = context.Pipe(duplex=True)
        self.process: BaseProcess = context.Process(  # type: ignore[attr-defined]
            target=_serve, args=(child,), name="litgap-analysis", daemon=True
        )
        self.process.start()
        child.close()
        self.conn = parent

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.is_alive()

    def call(self, payload: bytes) -> tuple[str, Any]:
        """Send one call and block until its reply (run in a thread of its own)."""
        try:
            self.conn.send_bytes(payload)
            reply: tuple[str, Any] = pickle.loads(self.conn.recv_bytes())
            return reply
        except (EOFError, OSError):
            self.process.join(KILL_GRACE_SECONDS)
            return ("died", self.process.exitcode)

    def kill(self) -> None:
        """SIGTERM now; SIGKILL if it is still there after the grace (reaped in a thread)."""
        if self.process.is_alive():
            self.process.terminate()
        threading.Thread(target=self._reap, name="litgap-analysis-reap", daemon=True).start()

    def _reap(self) -> None:
        self.process.join(KILL_GRACE_SECONDS)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()


@dataclass(eq=False)
class _Slot:
    """One of the pool's `size` places; holds a live worker, or none yet."""

    worker: _Worker | None = None
    affinity: str | None = None


def _died(exitcode: int | None, name: str) -> WorkerDied:
    if exitcode is not None and exitcode < 0:
        try:
            how = f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            how = f"killed by signal {-exitcode}"
    else:
        how = f"exit code {exitcode}"
    return WorkerDied(f"the analysis process running {name} died ({how})")


class WorkerPool:
    """At most `size` worker processes; see the module's docstring."""

    def __init__(self, size: int, *, method: str = "forkserver") -> None:
        if size < 1:
            raise ValueError(f"a pool needs at least one process, got {size}")
        self.size = size
        self._context = multiprocessing.get_context(method)
        if method == "forkserver":
            self._context.set_forkserver_preload(PRELOAD)
        self._lock = threading.Lock()
        self._free: list[_Slot] = [_Slot() for _ in range(size)]
        self._slots = list(self._free)
        self._waiters: deque[tuple[asyncio.AbstractEventLoop, asyncio.Future[_Slot]]] = deque()
        # The threads that wait for replies live as long as the pool. Starting a thread
        # per call blocked the event loop until the new thread got the GIL: 18% of the
        # serving loop's time under bench/load.py --mode users. Twice the size: a killed
        # worker's thread may still be reaping it while its slot's next call waits.
        self._waiting = ThreadPoolExecutor(2 * size, thread_name_prefix="litgap-analysis-wait")

    def pids(self) -> list[int]:
        """The pids of the live workers (for tests and diagnostics)."""
        with self._lock:
            workers = [s.worker for s in self._slots if s.worker is not None]
        return [w.pid for w in workers if w.pid is not None and w.alive()]

    def busy(self) -> list[int]:
        """The pids of the workers running a call now."""
        with self._lock:
            taken = [s.worker for s in self._slots if s not in self._free and s.worker]
        return [w.pid for w in taken if w.pid is not None and w.alive()]

    async def run(
        self,
        fn: Callable[..., T],
        /,
        *args: Any,
        timeout: float | None = None,
        affinity: str | None = None,
        **kwargs: Any,
    ) -> T:
        """Run `fn(*args, **kwargs)` in a worker and return its value; its error is
        raised here. `affinity` prefers the worker that last ran a call with the same
        key (its memoised state makes the call cheaper; nothing depends on it).

        Raises WorkerDied when the worker ends without a reply, WorkTimedOut after
        `timeout` seconds; cancelling the caller kills the work.
        """
        payload = pickle.dumps((fn, args, kwargs), protocol=pickle.HIGHEST_PROTOCOL)
        slot = await self._acquire(affinity)
        healthy = False
        try:
            worker = await self._ready(slot)
            outcome, value = await self._exchange(worker, payload, timeout, _name(fn))
            if outcome == "died":
                raise _died(value, _name(fn))
            healthy = True
        finally:
            if not healthy and slot.worker is not None:
                slot.worker.kill()
                slot.worker = None
            slot.affinity = affinity if healthy else None
            self._release(slot)
        if outcome == "err":
            raise value
        return value

    async def _acquire(self, affinity: str | None) -> _Slot:
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._free:
                preferred = [s for s in self._free if affinity and s.affinity == affinity]
                warm = [s for s in self._free if s.worker is not None]
                slot = (preferred or warm or self._free)[0]
                self._free.remove(slot)
                return slot
            waiter: asyncio.Future[_Slot] = loop.create_future()
            self._waiters.append((loop, waiter))
        try:
            return await waiter
        except asyncio.CancelledError:
            with self._lock:
                if (loop, waiter) in self._waiters:
                    self._waiters.remove((loop, waiter))
                    raise
            # Handed over as the wait was cancelled: give the slot to the next in line.
            if waiter.done() and not waiter.cancelled():
                self._release(waiter.result())
            raise

    def _release(self, slot: _Slot) -> None:
        with self._lock:
            while self._waiters:
                loop, waiter = self._waiters.popleft()
                if waiter.cancelled():
                    continue
                try:
                    loop.call_soon_threadsafe(self._hand, waiter, slot)
                except RuntimeError:  # that loop is closed
                    continue
                return
            self._free.append(slot)

    def _hand(self, waiter: "asyncio.Future[_Slot]", slot: _Slot) -> None:
        if waiter.done():
            self._release(slot)
        else:
            waiter.set_result(slot)

    async def _ready(self, slot: _Slot) -> _Worker:
        """The slot's worker, started if it has none (or its last one died idle)."""
        if slot.worker is not None and slot.worker.alive():
            return slot.worker
        if slot.worker is not None:
            slot.worker.kill()
            slot.worker = None
        loop = asyncio.get_running_loop()
        starting = loop.run_in_executor(None, _Worker, self._context)
        try:
            slot.worker = await asyncio.shield(starting)
        except asyncio.CancelledError:
            # It will be born anyway; it must not outlive the cancelled call.
            starting.add_done_callback(
                lambda f: f.result().kill() if not f.cancelled() and not f.exception() else None
            )
            raise
        except Exception as err:
            raise WorkerDied(f"could not start an analysis process: {err!r}") from err
        return slot.worker

    async def _exchange(
        self, worker: _Worker, payload: bytes, timeout: float | None, name: str
    ) -> tuple[str, Any]:
        loop = asyncio.get_running_loop()
        reply: asyncio.Future[tuple[str, Any]] = loop.create_future()

        def settle(outcome: tuple[str, Any]) -> None:
            if not reply.done():
                reply.set_result(outcome)

        def wait() -> None:
            outcome = worker.call(payload)
            with contextlib.suppress(RuntimeError):  # the caller's loop is gone, and it
                loop.call_soon_threadsafe(settle, outcome)

        self._waiting.submit(wait)
        try:
            async with asyncio.timeout(timeout):
                return await reply
        except TimeoutError:
            raise WorkTimedOut(f"{name} took longer than {timeout:g} s and was stopped") from None

    def close(self) -> None:
        """Kill every worker (at exit; calls still running fail with WorkerDied)."""
        with self._lock:
            workers = [s.worker for s in self._slots if s.worker is not None]
        for worker in workers:
            worker.kill()


_pools: dict[int, WorkerPool] = {}
_pools_lock = threading.Lock()


def shared_pool(size: int) -> WorkerPool:
    """The process's pool of `size` workers (one per size, made on first use)."""
    with _pools_lock:
        pool = _pools.get(size)
        if pool is None:
            pool = _pools[size] = WorkerPool(size)
            atexit.register(pool.close)
        return pool
