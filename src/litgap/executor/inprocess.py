"""The embedded executor: jobs run as asyncio tasks in the serving process."""

import asyncio
import contextlib
import logging
from typing import Any

from litgap.executor.runner import run_job
from litgap.runtime import Runtime
from litgap.store import jobs as job_rows

log = logging.getLogger(__name__)


class InProcessExecutor:
    def __init__(self, runtime: Runtime) -> None:
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
