"""Engines and migrations. SQLite runs in WAL mode with a full fsync on every commit,
so that "saved" means on disk; PostgreSQL needs nothing special."""

import contextlib
import threading
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

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
_COMMITTERS: "weakref.WeakKeyDictionary[sa.Engine, GroupCommit]" = weakref.WeakKeyDictionary()
T = TypeVar("T")


class GroupCommit:
    """Commits the small writes of many threads together: one transaction, one fsync.

    No thread of its own: whoever holds the commit lock commits everything queued so
    far, its own write and those that arrived meanwhile; a caller whose write was
    committed by another finds it done and returns. Alone, a write costs what it did;
    under load N writes share one fsync. Each write runs in its own SAVEPOINT, so one
    that fails is rolled back alone and raises in its caller, and every caller returns
    only after the shared COMMIT is on disk.
    """

    def __init__(self, engine: sa.Engine, lock: threading.Lock) -> None:
        self._engine = engine
        self._commit_lock = lock
        self._mutex = threading.Lock()
        self._pending: list[tuple[Callable[[sa.Connection], Any], Future[Any]]] = []

    def run(self, work: Callable[[sa.Connection], T]) -> T:
        done: Future[T] = Future()
        with self._mutex:
            self._pending.append((work, done))
        with self._commit_lock:
            if not done.done():
                with self._mutex:
                    batch, self._pending = self._pending, []
                self._commit(batch)
        return done.result()

    def _commit(self, batch: list[tuple[Callable[[sa.Connection], Any], Future[Any]]]) -> None:
        if len(batch) == 1:  # alone: no savepoint needed, its failure is the whole txn's
            work, done = batch[0]
            try:
                with writing_unlocked(self._engine) as conn:
                    result = work(conn)
            except Exception as err:
                done.set_exception(err)
            else:
                done.set_result(result)
            return
        outcomes: list[tuple[Future[Any], Any, BaseException | None]] = []
        try:
            with (
                self._engine.connect().execution_options(litgap_write=True) as conn,
                conn.begin(),
            ):
                for work, done in batch:
                    savepoint = conn.begin_nested()
                    try:
                        result = work(conn)
                    except Exception as err:
                        savepoint.rollback()
                        outcomes.append((done, None, err))
                    else:
                        savepoint.commit()
                        outcomes.append((done, result, None))
        except Exception as err:  # the COMMIT itself failed: nobody's write is saved
            for _work, done in batch:
                done.set_exception(err)
            return
        for done, result, error in outcomes:
            if error is not None:
                done.set_exception(error)
            else:
                done.set_result(result)


def create_engine(url: str) -> sa.Engine:
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        sa.event.listen(engine, "begin", _sqlite_begin)
        _WRITE_LOCKS[engine] = threading.Lock()
        _COMMITTERS[engine] = GroupCommit(engine, _WRITE_LOCKS[engine])
        return engine
    return sa.create_engine(url, pool_pre_ping=True)


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


def open_database(url: str) -> sa.Engine:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)
    upgrade(engine)
    return engine


@contextmanager
def writing_unlocked(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A write transaction for a caller that already holds the process's write lock."""
    with engine.connect().execution_options(litgap_write=True) as conn, conn.begin():
        yield conn


@contextmanager
def writing(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A write transaction, committed (and on disk) when the block ends without error."""
    lock = _WRITE_LOCKS.get(engine)
    with lock or contextlib.nullcontext(), writing_unlocked(engine) as conn:
        yield conn


def run_write(engine: sa.Engine, work: Callable[[sa.Connection], T]) -> T:
    """Run `work` in a write transaction and return its result once committed. On
    SQLite, concurrent writes share one commit (GroupCommit)."""
    committer = _COMMITTERS.get(engine)
    if committer is not None:
        return committer.run(work)
    with writing(engine) as conn:
        return work(conn)


@contextmanager
def reading(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A connection for reads; on SQLite each statement reads a consistent snapshot."""
    with engine.connect().execution_options(litgap_read=True) as conn, conn.begin():
        yield conn
