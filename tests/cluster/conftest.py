"""A cluster on one machine: a throwaway PostgreSQL server, a live dashboard
(`litgap serve` with the queue executor) and `litgap worker` processes, all sharing
one workspace folder, each test on a fresh database."""

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from litgap.executor.queue import conninfo
from litgap.runtime import Runtime, open_runtime
from litgap.services.auth import Role, create_user
from litgap.settings import Settings
from tests.cluster.postgres import PostgresServer, postgres_server
from tests.live import LiveServer

# Short enough that a killed worker's job moves on within seconds, long enough that a
# busy machine does not take a live worker for a dead one.
HEARTBEAT_SECONDS = 0.5
STALLED_SECONDS = 4.0
CLUSTER_ENV = {
    "LITGAP_EXECUTOR": "queue",
    "LITGAP_WORKER_HEARTBEAT_SECONDS": str(HEARTBEAT_SECONDS),
    "LITGAP_WORKER_STALLED_SECONDS": str(STALLED_SECONDS),
}
Event = dict[str, Any]


@pytest.fixture(scope="session")
def pg() -> PostgresServer:
    return postgres_server()


@pytest.fixture
def database_url(pg: PostgresServer) -> Iterator[str]:
    name = pg.create_database()
    yield pg.url(name)
    pg.drop_database(name)


class LiveWorker:
    """A `litgap worker` child process; its log goes to a file beside the workspace."""

    def __init__(
        self, workspace: Path, env: dict[str, str], name: str, args: tuple[str, ...] = ()
    ) -> None:
        self.name = name
        self.log = workspace.parent / f"{name}.log"
        command = [sys.executable, "-m", "litgap", "worker", "--workspace", str(workspace)]
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [*command, "--name", name, *args], env=env, stdout=subprocess.DEVNULL, stderr=log
            )

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


class Cluster:
    def __init__(self, root: Path, database_url: str) -> None:
        self.workspace = root / "ws"
        self.database_url = database_url
        self.env = {**os.environ, **CLUSTER_ENV, "LITGAP_DATABASE_URL": database_url}
        self.settings = Settings(
            workspace=self.workspace,
            database_url=database_url,
            executor="queue",
            worker_heartbeat_seconds=HEARTBEAT_SECONDS,
            worker_stalled_seconds=STALLED_SECONDS,
        )
        rt = open_runtime(self.settings)
        try:
            _user, token = create_user(rt.engine, "operator", Role.OPERATOR)
        finally:
            rt.close()
        self.server = LiveServer(self.workspace, token, env=self.env)
        self.workers: list[LiveWorker] = []

    def start_worker(self, *args: str) -> LiveWorker:
        """A `litgap worker` with these extra arguments (say, --verbose)."""
        worker = LiveWorker(self.workspace, self.env, f"worker{len(self.workers) + 1}", args)
        self.workers.append(worker)
        return worker

    def runtime(self) -> Runtime:
        """The store and workspace, as any process of the cluster opens them."""
        return open_runtime(self.settings)

    def queue_rows(self) -> list[dict[str, Any]]:
        """procrastinate's job table: id, task, status, lock, worker."""
        with (
            psycopg.connect(conninfo(self.database_url)) as conn,
            conn.cursor(row_factory=psycopg.rows.dict_row) as cur,
        ):
            cur.execute(
                "SELECT id, task_name, status, lock, worker_id, scheduled_at "
                "FROM procrastinate_jobs ORDER BY id"
            )
            return list(cur.fetchall())

    def runs(self, *statuses: str) -> list[dict[str, Any]]:
        """The queue's runs of jobs (not the prompts' timeouts) in these statuses."""
        return [r for r in self.queue_rows() if r["lock"] and r["status"] in statuses]

    def wait_until(self, condition: Callable[[], bool], what: str, timeout: float = 30) -> None:
        """Check a condition of the database until it holds (for what sends no event)."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError(f"waited {timeout} s for {what}\n{self.logs()}")
            time.sleep(0.05)

    def logs(self) -> str:
        return "\n".join(
            f"--- {w.name}\n{w.log.read_text(errors='replace')[-3000:]}" for w in self.workers
        )

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.server.stop()


@pytest.fixture
def cluster(tmp_path: Path, database_url: str) -> Iterator[Cluster]:
    """The dashboard running (it creates the schema and the queue's tables); start
    workers with `cluster.start_worker()`."""
    running = Cluster(tmp_path, database_url)
    running.server.start()
    yield running
    running.stop()


def read_events(ws: Any, until: Callable[[Event], bool], timeout: float = 60) -> list[Event]:
    """Events from /ws until `until` accepts one (inclusive); the snapshot is skipped."""
    seen: list[Event] = []
    deadline = time.monotonic() + timeout
    while True:
        event = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
        if event["type"] == "snapshot":
            continue
        seen.append(event)
        if until(event):
            return seen
