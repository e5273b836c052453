"""The embedded executor: jobs run as asyncio tasks in the serving process."""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from litgap.events import Event
from litgap.executor import check_runs_here, runs_on_queue
from litgap.executor.runner import run_job
from litgap.runtime import Runtime
from litgap.services.jobs import start_job
from litgap.store import jobs as job_rows

log = logging.getLogger(__name__)


class InProcessExecutor:
    def __init__(self, runtime: Runtime) -> None:
        check_runs_here(runtime)  # never beside a cluster's workers
        self._rt = runtime
        self._tasks: dict[str, asyncio.Task[Any]] = {}

    def submit(self, job_id: str) -> None:
        if job_id in self._tasks and not self._tasks[job_id].done():
            return
        task = asyncio.get_running_loop().create_task(run_job(self._rt, job_id), name=job_id)
        self._tasks[job_id] = task
        task.add_done_callback(self._forget)

    def _forget(self, task: "asyncio.Task[Any]") -> None:
        self._tasks.pop(task.get_name(), None)
        if not task.cancelled() and task.exception() is not None:
            log.error("job %s stopped with an error", task.get_name(), exc_info=task.exception())

    def cancel(self, job_id: str) -> bool:
        task = self._tasks.get(job_id)
        if task is None or task.done():
            return False
        task.cancel()
        return True

    def recover(self) -> list[str]:
        """Resume every job that was queued, running or waiting when the last process
        stopped: each re-runs its flow and applies its recorded answers."""
        self._rt.broker.expire_overdue()
        job_ids = job_rows.active_job_ids(self._rt.engine)
        for job_id in job_ids:
            self.submit(job_id)
        return job_ids

    async def wait(self, job_id: str) -> None:
        task = self._tasks.get(job_id)
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def shutdown(self) -> None:
        # Leave jobs as they are in the store: the next start resumes them.
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


async def run_watching(
    rt: Runtime, job_id: str, handle: Callable[[Event], Awaitable[None]]
) -> None:
    """Start a job in this process and hand each of its events to `handle` until the
    job's run ends (the terminal's `litgap run`, `jobs replay`, and tests). On a
    cluster's database the job goes to the queue instead, and its events come from the
    worker that runs it."""
    if runs_on_queue(rt.engine):
        from litgap.executor.queue import watch_on_queue

        await watch_on_queue(rt, job_id, handle)
        return
    executor = InProcessExecutor(rt)
    async with rt.events.subscribe() as queue:
        start_job(rt, executor, job_id)
        runner = asyncio.ensure_future(executor.wait(job_id))
        try:
            while not runner.done():
                getter = asyncio.ensure_future(queue.get())
                done, _ = await asyncio.wait({runner, getter}, return_when=asyncio.FIRST_COMPLETED)
                if getter not in done:
                    getter.cancel()
                    break
                event = getter.result()
                if event["data"].get("job_id") == job_id:
                    await handle(event)
        except BaseException:
            executor.cancel(job_id)  # leave nothing running behind a failure
            raise
        finally:
            await runner
