"""Runners that take a queued job and run its flow, and the one rule that chooses them.

The rule: a process never runs a job that another executor may run. A PostgreSQL
database is a cluster's: any number of `litgap worker` processes may take its jobs from
the queue, so on it every process (`litgap serve` whatever `LITGAP_EXECUTOR` says,
`litgap run`, `litgap jobs replay`) hands its jobs to the queue and runs none itself.
A SQLite database has no workers: there, jobs run in the process that starts them.
`executor_for` applies the rule; `InProcessExecutor` refuses a cluster's database, so
nothing can run a cluster's job beside the workers by accident.
"""

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Protocol

import sqlalchemy as sa

from litgap.exceptions import LitgapError

if TYPE_CHECKING:
    from litgap.runtime import Runtime

log = logging.getLogger(__name__)


class Executor(Protocol):
    def submit(self, job_id: str) -> None: ...

    def cancel(self, job_id: str) -> bool: ...


class JobsRunOnTheQueue(LitgapError):
    """Raised when a process would run a cluster's job itself."""

    status_code = 409

    def __init__(self, url: str) -> None:
        super().__init__(
            f"{url} is a cluster's database: its jobs run on `litgap worker` processes "
            "through the queue, never in this process"
        )


def runs_on_queue(engine: sa.Engine) -> bool:
    """True when the database's jobs go through the queue (a PostgreSQL database)."""
    return engine.dialect.name == "postgresql"


def check_runs_here(rt: "Runtime") -> None:
    """Raise JobsRunOnTheQueue unless this process may run the database's jobs itself."""
    if runs_on_queue(rt.engine):
        raise JobsRunOnTheQueue(rt.engine.url.render_as_string(hide_password=True))


@contextlib.asynccontextmanager
async def executor_for(rt: "Runtime") -> AsyncIterator[Executor]:
    """The executor of a serving process, chosen by the database: the queue (and the
    bridge that relays the workers' events) on PostgreSQL, else the in-process executor,
    which first resumes the jobs the last process left active."""
    if runs_on_queue(rt.engine):
        from litgap.executor.queue import queue_executor

        if rt.settings.executor != "queue":
            log.warning(
                "LITGAP_EXECUTOR=%s ignored: on a PostgreSQL database jobs always go "
                "through the queue; start `litgap worker` processes to run them",
                rt.settings.executor,
            )
        async with queue_executor(rt) as queued:
            yield queued
        return
    from litgap.executor.inprocess import InProcessExecutor

    executor = InProcessExecutor(rt)
    executor.recover()
    try:
        yield executor
    finally:
        await executor.shutdown()
