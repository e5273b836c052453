"""The cluster executor: jobs run on `litgap worker` processes, through procrastinate
(a task queue kept in PostgreSQL, the same server as the store).

One task, `litgap.run_job`, runs a job's flow until it ends or asks a human. A job
that asks holds no worker: the run returns, the job stays `waiting_input`, and two
things can continue it, each by deferring another run:

- an answer: `PromptBroker.on_resolved` (in whichever process resolved the prompt,
  usually the dashboard) defers a run at once;
- the deadline: `litgap.expire_prompt`, scheduled at the prompt's deadline, times the
  prompt out (the default applies), which defers a run the same way.

Every run of a job carries `lock=job_id`, so a job's runs never overlap, and the
queueing lock `run:<job_id>`, so a burst of wake-ups collapses into one waiting run.
A run that finds nothing to do (the job ended, or still waits for a prompt that is not
due) returns at once. Each worker also sweeps, every heartbeat: it hands the jobs of
dead workers (no heartbeat for `worker_stalled_seconds`) to the queue again (and wakes
the workers at once), removes those workers' rows, times out overdue prompts, defers a
run for any active job that nothing would continue, and clears what is left over:
the timeouts of prompts no longer pending, and the failed runs of ended jobs. An answer
removes its prompt's timeout itself. So a dead worker's job moves on within
`worker_stalled_seconds` plus at most one heartbeat.

This module and `cluster_events` are the only ones that import procrastinate and
psycopg (the `cluster` extra); the embedded default never imports them.
"""

import asyncio
import contextlib
import functools
import json
import logging
import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

try:
    import procrastinate
    import psycopg
    from procrastinate import exceptions as queue_errors
    from procrastinate.jobs import Status as QueueStatus
    from procrastinate.schema import SchemaManager
except ImportError as err:  # the embedded default is installed without them
    raise ImportError(
        f"a cluster needs the `cluster` extra ({err.name} is missing): "
        "pip install 'litgap[cluster]'"
    ) from err

from litgap.clock import now_iso, parse_iso
from litgap.cluster_events import EventBridge
from litgap.events import Event
from litgap.executor.pool import shared_pool
from litgap.executor.runner import run_job
from litgap.runtime import Runtime, open_runtime
from litgap.services.jobs import start_job
from litgap.settings import Settings
from litgap.status import JobStatus, PromptSource
from litgap.store import jobs as job_rows
from litgap.store import prompts as prompt_rows
from litgap.store.database import reading

log = logging.getLogger(__name__)
Row = dict[str, Any]

QUEUE = "litgap"
RUN_TASK = "litgap.run_job"
EXPIRE_TASK = "litgap.expire_prompt"
EMBED_TASK = "litgap.embed_share"
# Key of the advisory lock under which the first process creates the queue's tables.
SCHEMA_LOCK = 0x6C697467  # "litg"

_ORPHANS = sa.text(
    """
    SELECT j.job_id FROM jobs j
    WHERE j.status IN ('queued', 'running', 'waiting_input')
      AND NOT EXISTS (
        SELECT 1 FROM procrastinate_jobs q
        WHERE q.lock = j.job_id AND q.status IN ('todo', 'doing'))
      AND NOT (j.status = 'waiting_input' AND EXISTS (
        SELECT 1 FROM prompts p WHERE p.job_id = j.job_id AND p.status = 'pending'))
    ORDER BY j.created_at
    """
)
# What no run will ever need again: timeouts of prompts no longer pending (answered in a
# process without the queue's hook, or timed out by a sweep), and the runs of ended jobs
# that failed (a killed worker's run, handed back while another run was waiting).
_LEFTOVERS = (
    sa.text(
        """
        DELETE FROM procrastinate_jobs q
        WHERE q.task_name = :expire AND q.status = 'todo'
          AND NOT EXISTS (
            SELECT 1 FROM prompts p
            WHERE p.prompt_id = q.args->>'prompt_id' AND p.status = 'pending')
        """
    ),
    sa.text(
        """
        DELETE FROM procrastinate_jobs q
        WHERE q.status IN ('failed', 'cancelled', 'aborted', 'succeeded')
          AND (q.task_name IN (:expire, :embed) OR EXISTS (
            SELECT 1 FROM jobs j
            WHERE j.job_id = q.lock
              AND j.status NOT IN ('draft', 'queued', 'running', 'waiting_input')))
        """
    ),
)
# What procrastinate's own trigger sends for a new job: a retried run (an UPDATE, which
# the trigger does not see) would otherwise wait for the workers' next poll.
_WAKE_WORKERS = (
    f"SELECT pg_notify('procrastinate_queue_v1#{QUEUE}', %(p)s), "
    "pg_notify('procrastinate_any_queue_v1', %(p)s)"
)


def conninfo(database_url: str) -> str:
    """The libpq connection string of a SQLAlchemy URL (postgresql+psycopg://...)."""
    url = sa.engine.make_url(database_url)
    if url.get_backend_name() != "postgresql":
        raise ValueError(f"the queue needs PostgreSQL, not {url.get_backend_name()!r}")
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def ensure_queue_schema(dsn: str) -> bool:
    """Create procrastinate's tables unless they exist; True when they were created.
    Processes that start together take turns under an advisory lock."""
    with psycopg.connect(dsn, autocommit=True) as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
        found = conn.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()
        if found is not None and found[0] is not None:
            return False
        conn.execute(SchemaManager.get_schema())
        return True


class JobQueue:
    """Deferring litgap's tasks from synchronous code: routes, broker hooks, the worker's
    own tasks. Errors of the database reach the caller."""

    def __init__(self, dsn: str) -> None:
        connector = procrastinate.SyncPsycopgConnector(conninfo=dsn, min_size=1, max_size=4)
        self.app = procrastinate.App(connector=connector)
        self.app.open()

    def close(self) -> None:
        self.app.close()

    def run(self, job_id: str) -> bool:
        """Defer a run of the job; False when one is already waiting (it will see
        everything that happened until it starts)."""
        deferrer = self.app.configure_task(
            RUN_TASK, queue=QUEUE, lock=job_id, queueing_lock=f"run:{job_id}"
        )
        try:
            deferrer.defer(job_id=job_id)
        except queue_errors.AlreadyEnqueued:
            return False
        return True

    def expire_at_deadline(self, prompt: Row) -> bool:
        """Schedule the prompt's timeout at its stored deadline (once per prompt)."""
        deferrer = self.app.configure_task(
            EXPIRE_TASK,
            queue=QUEUE,
            queueing_lock=f"expire:{prompt['prompt_id']}",
            schedule_at=parse_iso(prompt["deadline"]),
        )
        try:
            deferrer.defer(prompt_id=prompt["prompt_id"])
        except queue_errors.AlreadyEnqueued:
            return False
        return True

    def cancel(self, job_id: str) -> bool:
        """Drop the job's waiting runs and ask a worker running it to stop it."""
        manager = self.app.job_manager
        stopped = False
        for job in manager.list_jobs(lock=job_id, queue=QUEUE):
            if job.id is None or job.status not in (
                QueueStatus.TODO.value,
                QueueStatus.DOING.value,
            ):
                continue
            aborting = job.status == QueueStatus.DOING.value
            stopped = manager.cancel_job_by_id(job.id, abort=aborting) or stopped
        return stopped

    def drop_timeout(self, prompt_id: str) -> bool:
        """Remove the prompt's scheduled timeout, if it is still waiting."""
        dropped = False
        manager = self.app.job_manager
        for job in manager.list_jobs(queueing_lock=f"expire:{prompt_id}", status="todo"):
            if job.id is not None:
                dropped = manager.cancel_job_by_id(job.id, delete_job=True) or dropped
        return dropped

    def continue_on_answer(self, prompt: Row) -> None:
        """A `PromptBroker.on_resolved` hook: the job goes on with the resolution, and
        the prompt's timeout leaves the queue."""
        if prompt.get("source") == PromptSource.REPLAY:
            return  # answered inside the job's own run, which goes on by itself
        try:
            self.run(prompt["job_id"])
            self.drop_timeout(prompt["prompt_id"])
        except queue_errors.ConnectorException:
            # The answer is stored: do not fail its request. A worker's sweep finds the
            # job that nothing continues and continues it.
            log.exception("could not queue the continuation of %s", prompt["job_id"])


class EmbedHelpers:
    """The cluster's workers as helpers of a run's embedding (`scorers.spread.Helpers`):
    a task per share, taken by whichever workers are free. It travels with the job's
    inputs to the analysis process that scores, which defers the tasks itself."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn

    def ask(self, cache_dir: Path, plan: str, shares: int) -> None:
        # Each worker works in its own workspace's cache (the same folder, shared).
        deferrer = _queue_for(self.dsn).app.configure_task(EMBED_TASK, queue=QUEUE)
        tasks: list[dict[str, Any]] = [{"plan": plan, "share": n} for n in range(shares)]
        deferrer.batch_defer(*tasks)


@functools.cache
def _queue_for(dsn: str) -> JobQueue:
    """One queue connection per process that asks for help (an analysis process)."""
    return JobQueue(dsn)


class QueueExecutor:
    """The dashboard's executor in cluster mode: it defers, and runs nothing itself."""

    def __init__(self, runtime: Runtime) -> None:
        self._rt = runtime
        self.queue = JobQueue(conninfo(runtime.settings.db_url))
        runtime.broker.on_resolved.append(self.queue.continue_on_answer)

    def submit(self, job_id: str) -> None:
        try:
            self.queue.run(job_id)
        except queue_errors.ConnectorException:
            # The job is queued in the store; a worker's sweep starts it.
            log.exception("could not queue the start of %s", job_id)

    def cancel(self, job_id: str) -> bool:
        return self.queue.cancel(job_id)

    def close(self) -> None:
        with contextlib.suppress(ValueError):
            self._rt.broker.on_resolved.remove(self.queue.continue_on_answer)
        self.queue.close()


@contextlib.asynccontextmanager
async def queue_executor(runtime: Runtime) -> AsyncIterator[QueueExecutor]:
    """What `litgap serve` runs in cluster mode: the queue executor, and the bridge that
    brings the workers' events to this process's subscribers (the WebSocket)."""
    dsn = conninfo(runtime.settings.db_url)
    await asyncio.to_thread(ensure_queue_schema, dsn)
    executor = QueueExecutor(runtime)
    bridge = EventBridge(runtime, dsn, listen=True)
    try:
        await bridge.start()
        yield executor
    finally:
        await bridge.stop()
        executor.close()


async def watch_on_queue(
    rt: Runtime,
    job_id: str,
    handle: Callable[[Event], Awaitable[None]],
    *,
    check_seconds: float = 2.0,
) -> None:
    """`run_watching` on a cluster's database: the job goes to the queue and a worker
    runs it; this process hands each of the job's events (relayed from the workers) to
    `handle` until the job ends. Answers given in `handle` continue the job on the queue.
    The store is checked every `check_seconds` too: events are announcements, and one
    lost while reconnecting must not leave the terminal waiting for ever."""
    async with queue_executor(rt) as executor, rt.events.subscribe() as events:
        start_job(rt, executor, job_id)
        while True:
            try:
                event = await asyncio.wait_for(events.get(), check_seconds)
            except TimeoutError:
                row = await asyncio.to_thread(job_rows.get_job, rt.engine, job_id)
                if JobStatus(row["status"]).is_terminal:
                    return
                continue
            data = event["data"]
            if data.get("job_id") != job_id:
                continue
            await handle(event)
            # Progress updates carry no status; the job's own ones do.
            status = data.get("status") if event["type"] == "job_update" else None
            if status is not None and JobStatus(status).is_terminal:
                return


# -- the worker --------------------------------------------------------------------------


class Worker:
    """One `litgap worker` process: its runtime, its tasks and its sweep."""

    def __init__(self, runtime: Runtime, *, name: str | None = None) -> None:
        self.rt = runtime
        self.settings = runtime.settings
        self.dsn = conninfo(self.settings.db_url)
        self.name = name or f"{socket.gethostname()}-{os.getpid()}"
        self.queue = JobQueue(self.dsn)
        runtime.broker.on_resolved.append(self.queue.continue_on_answer)
        self.app = procrastinate.App(
            connector=procrastinate.PsycopgConnector(conninfo=self.dsn, min_size=1, max_size=8)
        )
        self.app.task(name=RUN_TASK, queue=QUEUE)(self.run_task)
        self.app.task(name=EXPIRE_TASK, queue=QUEUE)(self.expire_task)
        self.app.task(name=EMBED_TASK, queue=QUEUE)(self.embed_task)

    async def run_task(self, job_id: str) -> None:
        """Run the job until it ends or waits; schedule the timeout of what it waits for."""
        if not self._has_work(job_id):
            return
        waiting = await run_job(self.rt, job_id, suspend=True)
        if waiting is not None:
            self.queue.expire_at_deadline(waiting)

    def _has_work(self, job_id: str) -> bool:
        """False when a run would only find the job where it is: ended, or waiting for
        a prompt whose deadline has not come (its timeout is scheduled; made sure here)."""
        row = job_rows.get_job(self.rt.engine, job_id)
        if JobStatus(row["status"]).is_terminal:
            return False
        if row["status"] != JobStatus.WAITING_INPUT:
            return True
        pending = prompt_rows.pending(self.rt.engine, job_id)
        now = now_iso()
        if not pending or any(p["deadline"] <= now for p in pending):
            return True
        for prompt in pending:
            self.queue.expire_at_deadline(prompt)
        return False

    async def expire_task(self, prompt_id: str) -> None:
        """The deadline came: time the prompt out if no one answered (the broker's hook
        then continues the job with the default)."""
        # Not due yet by this machine's clock (behind the database's)? Then the sweep
        # times it out a moment later.
        self.rt.broker.expire(prompt_id)

    async def embed_task(self, plan: str, share: int) -> None:
        """Embed one share of a run's embedding plan, if the plan is still open and the
        share free (`scorers.spread`), in this worker's analysis processes."""
        from litgap.pipeline.scorers.spread import help_with

        cache_dir = self.rt.workspace.root / "cache"
        pool = shared_pool(self.settings.analysis_processes)
        done = await pool.run(functools.partial(help_with, cache_dir, plan, share))
        log.info("embedding plan %s, share %d: %s", plan[:12], share, done)

    # -- sweep ------------------------------------------------------------------------

    async def sweep(self) -> None:
        """Hand back stalled jobs, time out overdue prompts, continue orphaned jobs."""
        manager = self.app.job_manager
        stalled_seconds = self.settings.worker_stalled_seconds
        stalled = await manager.get_stalled_jobs(
            seconds_since_heartbeat=stalled_seconds, queue=QUEUE
        )
        retried = [job for job in stalled if await self._retry(job)]
        if retried:
            await asyncio.to_thread(self._wake_workers, retried)
        for worker_id in await manager.prune_stalled_workers(stalled_seconds):
            log.warning("removed silent worker %s", worker_id)
        await asyncio.to_thread(self.rt.broker.expire_overdue)
        for job_id in await asyncio.to_thread(self._orphans):
            log.info("continuing %s: nothing else would", job_id)
            self.queue.run(job_id)
        await asyncio.to_thread(self._clear_leftovers)

    async def _retry(self, job: Any) -> bool:
        """Hand a dead worker's run back to the queue; True when it waits again."""
        manager = self.app.job_manager
        try:
            await manager.retry_job(job)
            log.warning("job %s of a silent worker handed back to the queue", job.call_string)
            return True
        except queue_errors.UniqueViolation:
            # A run of the same job is already waiting: that one continues it, and this
            # one has nothing left to say.
            await manager.finish_job_by_id_async(job.id, QueueStatus.FAILED, delete_job=True)
        except queue_errors.ConnectorException as err:
            # Another worker's sweep was first.
            log.debug("retrying %s: %s", job.call_string, err)
        return False

    def _wake_workers(self, jobs: list[Any]) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            for job in jobs:
                payload = json.dumps({"type": "job_inserted", "job_id": job.id})
                conn.execute(_WAKE_WORKERS, {"p": payload})

    def _orphans(self) -> list[str]:
        with reading(self.rt.engine) as conn:
            return [row[0] for row in conn.execute(_ORPHANS)]

    def _clear_leftovers(self) -> None:
        with self.rt.engine.begin() as conn:
            for statement in _LEFTOVERS:
                conn.execute(statement, {"expire": EXPIRE_TASK, "embed": EMBED_TASK})

    async def _sweep_forever(self) -> None:
        while True:
            try:
                await self.sweep()
            except Exception:  # a failed sweep must not stop the worker; the next one retries
                log.exception("worker sweep failed")
            await asyncio.sleep(self.settings.worker_heartbeat_seconds)

    # -- running ----------------------------------------------------------------------

    async def run(self, *, concurrency: int = 1, wait: bool = True) -> None:
        """Work until stopped (SIGINT, SIGTERM), or with `wait=False` until the queue
        has nothing left that is due (what tests use)."""
        await asyncio.to_thread(ensure_queue_schema, self.dsn)
        bridge = EventBridge(self.rt, self.dsn, listen=False)
        await bridge.start()
        try:
            async with self.app.open_async():
                sweeper = asyncio.create_task(self._sweep_forever()) if wait else None
                try:
                    await self.app.run_worker_async(
                        queues=[QUEUE],
                        name=self.name,
                        concurrency=concurrency,
                        wait=wait,
                        update_heartbeat_interval=self.settings.worker_heartbeat_seconds,
                        stalled_worker_timeout=self.settings.worker_stalled_seconds,
                        shutdown_graceful_timeout=self.settings.worker_stalled_seconds,
                        install_signal_handlers=wait,
                        delete_jobs="successful",
                    )
                finally:
                    if sweeper is not None:
                        sweeper.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await sweeper
        finally:
            await bridge.stop()

    def close(self) -> None:
        with contextlib.suppress(ValueError):
            self.rt.broker.on_resolved.remove(self.queue.continue_on_answer)
        self.queue.close()


async def run_worker(settings: Settings, *, concurrency: int = 1, name: str | None = None) -> None:
    """`litgap worker`: open the store, then take jobs from the queue until stopped."""
    runtime = open_runtime(settings)
    worker = Worker(runtime, name=name)
    try:
        await worker.run(concurrency=concurrency)
    finally:
        worker.close()
        runtime.close()
