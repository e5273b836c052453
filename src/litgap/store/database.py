"""Engines and migrations. SQLite runs in WAL mode with a full fsync on every commit,
so that "saved" means on disk; PostgreSQL needs nothing special."""

import asyncio
import contextlib
import os
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from litgap.store.writer import Writer
from litgap.text import loads_stored

MIGRATIONS = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # Let SQLAlchemy own transactions (BEGIN is issued on first statement).
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(conn: sa.Connection) -> None:
    # A writer takes the lock at BEGIN (IMMEDIATE): two writers that both started as
    # readers cannot deadlock, and compare-and-set updates stay serial. Readers do not
    # take it, so WAL lets them run beside a writer.
    options = conn.get_execution_options()
    if options.get("litgap_write"):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    elif not options.get("litgap_read"):
        conn.exec_driver_sql("BEGIN")
    # A read of one statement needs no transaction of its own: SQLite makes each
    # statement atomic, and skipping BEGIN/COMMIT halves the cost of a lookup.


# SQLite lets one writer in at a time and makes the others retry with sleeps; inside
# one process, writers queue on this lock instead, and SQLite's lock is only ever
# contended by another process.
_WRITE_LOCKS: "weakref.WeakKeyDictionary[sa.Engine, threading.Lock]" = weakref.WeakKeyDictionary()
_WRITERS: "weakref.WeakKeyDictionary[sa.Engine, Writer]" = weakref.WeakKeyDictionary()
T = TypeVar("T")


def create_engine(url: str) -> sa.Engine:
    # JSON columns are read with `loads_stored`: a surrogate escape kept before text was
    # checked at the edge comes back as U+FFFD, so it cannot break a read.
    if url.startswith("sqlite"):
        engine = sa.create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            json_deserializer=loads_stored,
        )
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        sa.event.listen(engine, "begin", _sqlite_begin)
        _WRITE_LOCKS[engine] = threading.Lock()
        _WRITERS[engine] = Writer(engine, _WRITE_LOCKS[engine])
        return engine
    return sa.create_engine(url, pool_pre_ping=True, json_deserializer=loads_stored)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: sa.Engine) -> None:
    """Bring the schema to the newest migration (idempotent)."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Processes of a cluster that start together migrate one at a time; the
            # lock ends with this transaction.
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(7441001)"))
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


PRIVATE = 0o600


def _make_private(path: Path) -> None:
    """Create the SQLite file 0600 before SQLite opens it, and tighten an existing one
    with its WAL and SHM files: they hold session CSRF tokens and token hashes. SQLite
    gives the -wal and -shm files it creates the database file's mode."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE))
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        with contextlib.suppress(FileNotFoundError, PermissionError):
            if name.stat().st_mode & 0o777 != PRIVATE:
                os.chmod(name, PRIVATE)


def open_database(url: str) -> sa.Engine:
    if url.startswith("sqlite:///") and url.removeprefix("sqlite:///") not in ("", ":memory:"):
        _make_private(Path(url.removeprefix("sqlite:///")))
    engine = create_engine(url)
    upgrade(engine)
    return engine


@contextmanager
def writing(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A write transaction, committed (and on disk) when the block ends without error."""
    lock = _WRITE_LOCKS.get(engine)
    with (
        lock or contextlib.nullcontext(),
        engine.connect().execution_options(litgap_write=True) as conn,
        conn.begin(),
    ):
        yield conn


def run_write(engine: sa.Engine, work: Callable[[sa.Connection], T]) -> T:
    """Run `work` in a write transaction and return its result once committed. On
    SQLite, concurrent writes share one commit (store.writer)."""
    writer = _WRITERS.get(engine)
    if writer is not None:
        return writer.run(work)
    with writing(engine) as conn:
        return work(conn)


def post_write(engine: sa.Engine, work: Callable[[sa.Connection], object]) -> None:
    """Queue `work` for a commit without waiting for it (on SQLite; elsewhere it is
    run_write): for live state that the next write supersedes."""
    writer = _WRITERS.get(engine)
    if writer is not None:
        writer.post(work)
        return
    run_write(engine, work)


async def run_write_async(engine: sa.Engine, work: Callable[[sa.Connection], T]) -> T:
    """run_write for a coroutine: on SQLite it waits for the commit without a thread."""
    writer = _WRITERS.get(engine)
    if writer is not None:
        return await writer.run_async(work)
    return await asyncio.to_thread(run_write, engine, work)


@contextmanager
def reading(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A connection for reads; on SQLite each statement reads a consistent snapshot."""
    with engine.connect().execution_options(litgap_read=True) as conn, conn.begin():
        yield conn
