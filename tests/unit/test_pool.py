"""The worker pool, with real processes: where work runs, how it is stopped, what a
crash costs."""

import asyncio
import os
import time
from pathlib import Path

import pytest

from litgap.executor.pool import WorkerDied, WorkerPool, WorkTimedOut, shared_pool
from litgap.pipeline import FrameworkError, load_framework


@pytest.fixture(scope="module")
def pool() -> WorkerPool:
    return shared_pool(2)


async def gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not Path(f"/proc/{pid}").exists():
            return True
        await asyncio.sleep(0.01)
    return False


async def busy_pid(pool: WorkerPool) -> int:
    for _ in range(3000):
        if pool.busy():
            return pool.busy()[0]
        await asyncio.sleep(0.01)
    raise AssertionError("no worker became busy")


async def test_work_runs_in_another_process(pool: WorkerPool) -> None:
    assert await pool.run(os.getpid) != os.getpid()


async def test_cancelling_the_caller_kills_its_worker_within_a_second(pool: WorkerPool) -> None:
    call = asyncio.create_task(pool.run(time.sleep, 60))
    pid = await busy_pid(pool)
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    assert await gone_within(pid, 1.0)
    assert await pool.run(os.getpid) != pid  # a fresh worker took the slot


async def test_a_worker_that_dies_fails_only_its_call(pool: WorkerPool) -> None:
    others = [asyncio.create_task(pool.run(sum, [1, 2, 3])) for _ in range(3)]
    with pytest.raises(WorkerDied, match=r"running _exit died \(exit code 3\)"):
        await pool.run(os._exit, 3)
    assert await asyncio.gather(*others) == [6, 6, 6]
    assert await pool.run(abs, -4) == 4


async def test_a_worker_killed_by_a_signal_names_the_signal(pool: WorkerPool) -> None:
    call = asyncio.create_task(pool.run(time.sleep, 60))
    os.kill(await busy_pid(pool), 9)
    with pytest.raises(WorkerDied, match="killed by SIGKILL"):
        await call


async def test_a_call_past_its_timeout_is_stopped(pool: WorkerPool) -> None:
    started = time.monotonic()
    with pytest.raises(WorkTimedOut, match=r"sleep took longer than 0.3 s"):
        await pool.run(time.sleep, 60, timeout=0.3)
    assert time.monotonic() - started < 2


async def test_the_works_own_error_reaches_the_caller_as_itself(
    pool: WorkerPool, tmp_path: Path
) -> None:
    bad = tmp_path / "framework.json"
    bad.write_text("{")
    with pytest.raises(FrameworkError) as raised:
        await pool.run(load_framework, bad)
    with pytest.raises(FrameworkError) as here:
        load_framework(bad)
    assert raised.value.detail == here.value.detail


async def test_more_calls_than_workers_wait_their_turn(pool: WorkerPool) -> None:
    pids = await asyncio.gather(*(pool.run(os.getpid) for _ in range(8)))
    assert len(set(pids)) <= pool.size


async def test_a_cancelled_wait_for_a_worker_takes_no_slot(pool: WorkerPool) -> None:
    holders = [asyncio.create_task(pool.run(time.sleep, 0.3)) for _ in range(pool.size)]
    await asyncio.sleep(0.1)
    waiting = asyncio.create_task(pool.run(os.getpid))
    await asyncio.sleep(0.05)
    waiting.cancel()
    await asyncio.gather(*holders)
    started = time.monotonic()
    together = asyncio.gather(*(pool.run(time.sleep, 0.3) for _ in range(pool.size)))
    await asyncio.wait_for(together, 5)
    assert time.monotonic() - started < 0.6  # every slot is free again: they ran at once


def test_one_pool_serves_many_event_loops(pool: WorkerPool) -> None:
    first = asyncio.run(pool.run(os.getpid))
    second = asyncio.run(pool.run(os.getpid))
    assert os.getpid() not in (first, second)
