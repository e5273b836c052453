"""The cluster's commands: `litgap db migrate-to URL` moves a SQLite workspace into
PostgreSQL, nothing lost; `litgap worker` refuses a database it cannot share."""

import os
import re
import subprocess
import sys
from pathlib import Path

from litgap.runtime import open_runtime
from litgap.services.auth import Role, create_user
from litgap.settings import Settings
from litgap.store.database import open_database
from tests.cluster.conftest import CLUSTER_ENV
from tests.live import LiveServer
from tests.store.test_copy import fill, table_rows


def litgap(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "litgap", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
    )


def test_migrate_to_copies_the_workspace_and_a_cluster_serves_it(
    tmp_path: Path, database_url: str
) -> None:
    workspace = tmp_path / "ws"
    rt = open_runtime(Settings(workspace=workspace))
    fill(rt)
    _user, token = create_user(rt.engine, "ops", Role.OPERATOR)
    rt.close()
    documents = {p: p.read_bytes() for p in workspace.glob("jobs/*/job_data.json")}

    result = litgap("db", "migrate-to", database_url, "--workspace", str(workspace))
    assert result.returncode == 0, result.stderr + result.stdout
    for table, count in (("jobs", 3), ("prompts", 6), ("users", 3), ("sessions", 1)):
        assert re.search(rf"│ {table} +│ {count} +│ {count} +│", result.stdout), result.stdout
    assert "postgres@" in result.stdout and "All rows copied" in result.stdout
    source, target = (
        open_database(f"sqlite:///{workspace / 'litgap.db'}"),
        open_database(database_url),
    )
    assert table_rows(target) == table_rows(source)
    source.dispose()
    target.dispose()

    again = litgap("db", "migrate-to", database_url, "--workspace", str(workspace))
    assert again.returncode == 1
    assert "already holds rows (jobs: 3, prompts: 6, users: 3, sessions: 1)" in " ".join(
        again.stderr.split()
    )

    server = LiveServer(workspace, token, env={**CLUSTER_ENV, "LITGAP_DATABASE_URL": database_url})
    try:
        server.start()
        with server.client() as http:
            listed = http.get("/api/jobs").json()["jobs"]
    finally:
        server.stop()
    assert len(listed) == 3 and {j["status"] for j in listed} == {"draft"}
    assert {p: p.read_bytes() for p in workspace.glob("jobs/*/job_data.json")} == documents


def test_migrate_to_needs_a_database_to_copy(tmp_path: Path, database_url: str) -> None:
    result = litgap("db", "migrate-to", database_url, "--workspace", str(tmp_path / "none"))
    assert result.returncode == 1
    assert "no database to copy" in result.stderr


def test_a_worker_needs_postgresql(tmp_path: Path) -> None:
    result = litgap("worker", "--workspace", str(tmp_path / "ws"), env={"LITGAP_DATABASE_URL": ""})
    assert result.returncode == 2
    assert "a worker needs the cluster's PostgreSQL database" in " ".join(result.stderr.split())


def test_the_queue_executor_needs_postgresql(tmp_path: Path) -> None:
    result = litgap(
        "serve",
        "--workspace",
        str(tmp_path / "ws"),
        env={"LITGAP_EXECUTOR": "queue", "LITGAP_DATABASE_URL": ""},
    )
    assert result.returncode == 2
    assert "executor=queue needs a PostgreSQL database_url" in " ".join(result.stderr.split())
