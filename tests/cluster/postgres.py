"""A throwaway PostgreSQL server for the tests: initdb in a temporary folder, started
with pg_ctl on a free port of 127.0.0.1 (its unix socket in the same folder), stopped
and removed when the test session ends. One server per session; a fresh database per
test (CREATE DATABASE), so tests never see each other's rows.

Without PostgreSQL binaries the tests that need it are skipped, unless
LITGAP_REQUIRE_PG is set (CI sets it): then they fail, loudly.
"""

import atexit
import contextlib
import functools
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

REQUIRE_ENV = "LITGAP_REQUIRE_PG"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def find_bindir() -> Path | None:
    """The folder holding initdb and pg_ctl: $PG_BINDIR, PATH, or Debian's layout."""
    candidates = [os.environ.get("PG_BINDIR", "")]
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(str(Path(on_path).parent))
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for folder in candidates:
        if folder and (Path(folder) / "initdb").is_file() and (Path(folder) / "pg_ctl").is_file():
            return Path(folder)
    return None


@dataclass
class PostgresServer:
    bindir: Path
    root: Path
    port: int = field(default_factory=_free_port)
    user: str = "postgres"

    @property
    def data(self) -> Path:
        return self.root / "data"

    def _run(self, *args: str) -> None:
        command = [str(self.bindir / args[0]), *args[1:]]
        if os.geteuid() == 0:
            # initdb refuses root: run the server as the postgres user.
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def start(self) -> "PostgresServer":
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            self.user,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
        )
        options = " ".join(
            [
                f"-p {self.port}",
                "-c listen_addresses=127.0.0.1",
                f"-c unix_socket_directories={self.root}",
                "-c max_connections=400",
                # A throwaway server: durability buys nothing here.
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
            ]
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.root / "server.log"),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )
        return self

    def stop(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        """A SQLAlchemy URL, as LITGAP_DATABASE_URL takes it."""
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{database}"

    def conninfo(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A new empty database; returns its name."""
        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@functools.cache
def _server() -> PostgresServer | str:
    bindir = find_bindir()
    if bindir is None:
        return "PostgreSQL binaries (initdb, pg_ctl) not found"
    server = PostgresServer(bindir, Path(tempfile.mkdtemp(prefix="litgap-pg-")))
    try:
        server.start()
    except (subprocess.SubprocessError, OSError) as err:
        shutil.rmtree(server.root, ignore_errors=True)
        detail = getattr(err, "stderr", b"") or b""
        return f"PostgreSQL did not start: {err} {detail.decode(errors='replace')}"
    atexit.register(server.stop)
    return server


def postgres_server() -> PostgresServer:
    """The session's server; skips (or fails, with LITGAP_REQUIRE_PG) without one."""
    found = _server()
    if isinstance(found, str):
        if os.environ.get(REQUIRE_ENV):
            pytest.fail(f"{found}, and {REQUIRE_ENV} is set", pytrace=False)
        pytest.skip(found)
    return found
