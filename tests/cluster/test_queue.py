"""The queue executor and the worker's tasks, in this process: a dashboard runtime
defers, a worker runtime runs the queue until nothing is due (procrastinate's burst
mode), and the assertions read the store and the queue's table."""

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from litgap.clock import parse_iso
from litgap.executor.queue import QueueExecutor, Worker, conninfo, ensure_queue_schema
from litgap.runtime import Runtime, open_runtime
from litgap.services import jobs as job_service
from litgap.settings import DEFAULT_TIMEOUTS, Settings
from litgap.status import PromptSource


@dataclass
class Node:
    dashboard: Runtime
    executor: QueueExecutor
    worker_rt: Runtime
    worker: Worker
    dsn: str

    async def drain(self) -> None:
        """Run every job that is due, then return."""
        await self.worker.run(wait=False)

    def rows(
        self,
        sql: str = "SELECT task_name, status, lock, scheduled_at "
        "FROM procrastinate_jobs ORDER BY id",
    ) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.dsn) as conn:
            return conn.execute(sql).fetchall()

    def start_sample(self, **config: object) -> str:
        row = job_service.create_sample_job(self.dashboard, job_service.parse_config(config))
        job_service.start_job(self.dashboard, self.executor, row["job_id"])
        return str(row["job_id"])

    def answer(self, job_id: str, response: object) -> None:
        [pending] = self.dashboard.broker.pending(job_id)
        self.dashboard.broker.answer(pending["prompt_id"], response, source=PromptSource.USER)


@pytest.fixture
async def node(tmp_path: Path, database_url: str) -> AsyncIterator[Node]:
    settings = Settings(
        workspace=tmp_path / "ws",
        database_url=database_url,
        executor="queue",
        worker_heartbeat_seconds=0.2,
        worker_stalled_seconds=1,
    )
    dsn = conninfo(database_url)
    ensure_queue_schema(dsn)
    dashboard, worker_rt = open_runtime(settings), open_runtime(settings)
    executor, worker = QueueExecutor(dashboard), Worker(worker_rt)
    yield Node(dashboard, executor, worker_rt, worker, dsn)
    worker.close()
    executor.close()
    worker_rt.close()
    dashboard.close()


def test_the_queue_schema_is_created_once(database_url: str) -> None:
    dsn = conninfo(database_url)
    assert ensure_queue_schema(dsn) is True
    assert ensure_queue_schema(dsn) is False


async def test_a_job_that_asks_lets_its_worker_go(node: Node) -> None:
    job_id = node.start_sample()
    assert node.rows() == [("litgap.run_job", "todo", job_id, None)]
    await node.drain()
    job = job_service.get_job(node.dashboard, job_id)
    assert job["status"] == "waiting_input"
    [pending] = job["pending_prompts"]
    # The run is over (and cleared); what is left is the prompt's timeout, at its deadline.
    [(task, status, lock, at)] = node.rows()
    assert (task, status, lock) == ("litgap.expire_prompt", "todo", None)
    assert at == parse_iso(pending["deadline"])


async def test_each_answer_continues_the_job_until_it_completes(node: Node) -> None:
    job_id = node.start_sample()
    await node.drain()
    node.answer(job_id, "ALL")
    assert ("litgap.run_job", "todo", job_id, None) in node.rows()
    await node.drain()
    assert job_service.get_job(node.dashboard, job_id)["pending_prompts"][0]["type"] == "run_mode"
    node.answer(job_id, "ONCE")
    await node.drain()
    job = job_service.get_job(node.dashboard, job_id)
    assert job["status"] == "completed"
    assert [(p["type"], p["applied"]) for p in job["prompts"]] == [
        ("pillar_selection", "ALL"),
        ("run_mode", "ONCE"),
    ]


async def test_wakeups_of_one_job_collapse_into_one_waiting_run(node: Node) -> None:
    job_id = node.start_sample()
    node.executor.submit(job_id)
    assert node.executor.queue.run(job_id) is False
    assert node.rows() == [("litgap.run_job", "todo", job_id, None)]


async def test_a_run_with_nothing_to_do_changes_nothing(node: Node) -> None:
    job_id = node.start_sample()
    await node.drain()
    before = job_service.get_job(node.dashboard, job_id)
    node.executor.submit(job_id)
    await node.drain()
    after = job_service.get_job(node.dashboard, job_id)
    assert after["transitions"] == before["transitions"]
    assert after["pending_prompts"] == before["pending_prompts"]


async def test_cancel_drops_the_waiting_run(node: Node) -> None:
    job_id = node.start_sample()
    job_service.cancel_job(node.dashboard, node.executor, job_id)
    assert node.rows() == [("litgap.run_job", "cancelled", job_id, None)]
    assert node.executor.cancel(job_id) is False


class LostDefer:
    """An executor whose submit never reaches the queue (a crash between the store's
    commit and the defer)."""

    def submit(self, job_id: str) -> None:
        pass

    def cancel(self, job_id: str) -> bool:
        return False


async def test_the_sweep_continues_a_job_nothing_would_continue(node: Node) -> None:
    row = job_service.create_sample_job(node.dashboard)
    job_service.start_job(node.dashboard, LostDefer(), row["job_id"])
    async with node.worker.app.open_async():
        await node.worker.sweep()
    await node.drain()
    assert job_service.get_job(node.dashboard, row["job_id"])["status"] == "waiting_input"


async def test_the_sweep_hands_back_the_job_of_a_silent_worker(node: Node) -> None:
    job_id = node.start_sample()
    # A worker took the run and went silent long ago.
    node.rows(
        "INSERT INTO procrastinate_workers (last_heartbeat) "
        "VALUES (now() - interval '1 hour') RETURNING id"
    )
    node.rows(
        "UPDATE procrastinate_jobs SET status = 'doing', worker_id = "
        "(SELECT max(id) FROM procrastinate_workers) RETURNING id"
    )
    async with node.worker.app.open_async():
        await node.worker.sweep()
    assert [row[:3] for row in node.rows()] == [("litgap.run_job", "todo", job_id)]
    await node.drain()
    assert job_service.get_job(node.dashboard, job_id)["status"] == "waiting_input"


async def test_the_sweep_times_out_overdue_prompts_and_continues(node: Node) -> None:
    job_id = node.start_sample(pillar_selections="ALL", prompt_timeouts={"run_mode": 1})
    await node.drain()
    node.rows("UPDATE prompts SET deadline = '2000-01-01T00:00:00.000000Z' RETURNING 1")
    async with node.worker.app.open_async():
        await node.worker.sweep()
    await node.drain()
    job = job_service.get_job(node.dashboard, job_id)
    assert job["status"] == "completed"
    assert [(p["status"], p["applied"]) for p in job["prompts"]] == [("timed_out", "ONCE")]


async def test_an_answer_takes_its_prompts_timeout_off_the_queue(node: Node) -> None:
    job_id = node.start_sample()
    await node.drain()
    node.answer(job_id, "ALL")
    assert node.rows() == [("litgap.run_job", "todo", job_id, None)]


def _leave_row(node: Node, task: str, status: str, lock: str | None, prompt_id: str) -> None:
    with psycopg.connect(node.dsn, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO procrastinate_jobs (queue_name, task_name, lock, args, status) "
            "VALUES ('litgap', %s, %s, %s, %s)",
            (task, lock, json.dumps({"prompt_id": prompt_id}), status),
        )


async def test_the_sweep_clears_what_no_run_will_need(node: Node) -> None:
    ended = node.start_sample(pillar_selections="ALL", run_mode="ONCE")
    waiting = node.start_sample()
    await node.drain()
    assert job_service.get_job(node.dashboard, ended)["status"] == "completed"
    # A killed run handed back while another waited, of a job that then completed; one
    # of a job still waiting; the timeout of a prompt answered where no hook ran.
    _leave_row(node, "litgap.run_job", "failed", ended, "")
    _leave_row(node, "litgap.run_job", "failed", waiting, "")
    _leave_row(node, "litgap.expire_prompt", "todo", None, "prm_answered_long_ago")
    async with node.worker.app.open_async():
        await node.worker.sweep()
    rows = node.rows()
    assert ("litgap.run_job", "failed", waiting, None) in rows
    assert [r for r in rows if r[2] == ended] == []
    assert [r[1] for r in rows if r[0] == "litgap.expire_prompt"] == ["todo"]  # the live one


async def test_the_sweep_removes_a_silent_workers_row(node: Node) -> None:
    node.rows(
        "INSERT INTO procrastinate_workers (last_heartbeat) "
        "VALUES (now() - interval '1 hour') RETURNING id"
    )
    async with node.worker.app.open_async():
        await node.worker.sweep()
    assert node.rows("SELECT count(*) FROM procrastinate_workers") == [(0,)]


async def test_a_run_handed_back_wakes_the_workers_at_once(node: Node) -> None:
    node.start_sample()
    node.rows(
        "INSERT INTO procrastinate_workers (last_heartbeat) "
        "VALUES (now() - interval '1 hour') RETURNING id"
    )
    [(run_id,)] = node.rows(
        "UPDATE procrastinate_jobs SET status = 'doing', worker_id = "
        "(SELECT max(id) FROM procrastinate_workers) RETURNING id"
    )
    with psycopg.connect(node.dsn, autocommit=True) as listener:
        listener.execute('LISTEN "procrastinate_queue_v1#litgap"')
        async with node.worker.app.open_async():
            await node.worker.sweep()
        payloads = [json.loads(n.payload) for n in listener.notifies(timeout=2, stop_after=1)]
    assert payloads == [{"type": "job_inserted", "job_id": run_id}]


async def test_a_job_keeps_the_timeouts_of_the_process_that_created_it(node: Node) -> None:
    # The dashboard was started with its own timeouts; the worker with the defaults.
    creator = open_runtime(
        node.dashboard.settings.model_copy(
            update={"prompt_timeouts": {**DEFAULT_TIMEOUTS, "pillar_selection": 7}}
        )
    )
    try:
        row = job_service.create_sample_job(creator)
        job_service.start_job(creator, node.executor, row["job_id"])
    finally:
        creator.close()
    assert node.worker_rt.settings.prompt_timeouts["pillar_selection"] == 300
    await node.drain()
    [pending] = job_service.get_job(node.dashboard, row["job_id"])["pending_prompts"]
    assert pending["timeout_seconds"] == 7
