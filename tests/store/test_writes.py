"""run_write and run_write_async: concurrent writes are all saved, a failing write
fails alone, and a coroutine's write is committed before it is told so. On SQLite
they share commits through the writer thread; on PostgreSQL each has its own."""

import asyncio
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from litgap.store.database import open_database, run_write, run_write_async
from litgap.store.writer import IDLE_SECONDS

scratch = sa.Table("scratch_writes", sa.MetaData(), sa.Column("n", sa.Integer, primary_key=True))


@pytest.fixture
def table(engine: sa.Engine) -> Iterator[sa.Table]:
    scratch.create(engine)
    yield scratch
    scratch.drop(engine)


def insert(n: int) -> "sa.Executable":
    return scratch.insert().values(n=n)


def saved(engine: sa.Engine) -> list[int]:
    with engine.connect() as conn:
        return sorted(conn.execute(sa.select(scratch.c.n)).scalars())


def test_writes_from_many_threads_are_all_saved(engine: sa.Engine, table: sa.Table) -> None:
    barrier = threading.Barrier(20)

    def write(worker: int) -> None:
        barrier.wait()
        for n in range(worker * 10, worker * 10 + 10):
            run_write(engine, lambda conn, n=n: conn.execute(insert(n)))

    threads = [threading.Thread(target=write, args=(w,)) for w in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert saved(engine) == list(range(200))


def test_a_failing_write_fails_alone(engine: sa.Engine, table: sa.Table) -> None:
    run_write(engine, lambda conn: conn.execute(insert(0)))
    barrier = threading.Barrier(10)  # nine writers and this thread
    errors: dict[int, Exception] = {}

    def write(n: int) -> None:
        barrier.wait()
        try:
            # Writer 5 inserts a second row 0 after its own: the key clashes.
            def work(conn: sa.Connection) -> None:
                conn.execute(insert(n))
                if n == 5:
                    conn.execute(insert(0))

            run_write(engine, work)
        except sa.exc.IntegrityError as err:
            errors[n] = err

    threads = [threading.Thread(target=write, args=(n,)) for n in range(1, 10)]
    for thread in threads:
        thread.start()
    barrier.wait()
    for thread in threads:
        thread.join()
    assert list(errors) == [5]
    assert saved(engine) == [0, 1, 2, 3, 4, 6, 7, 8, 9]


def test_coroutines_await_their_commits(engine: sa.Engine, table: sa.Table) -> None:
    async def write_all() -> list[int]:
        def work(n: int) -> Callable[[sa.Connection], int]:
            def insert_it(conn: sa.Connection) -> int:
                conn.execute(insert(n))
                return n

            return insert_it

        results = await asyncio.gather(*(run_write_async(engine, work(n)) for n in range(100)))
        assert saved(engine) == list(range(100))  # committed before the awaits returned
        return results

    assert asyncio.run(write_all()) == list(range(100))


def test_a_coroutines_failing_write_raises_in_it(engine: sa.Engine, table: sa.Table) -> None:
    run_write(engine, lambda conn: conn.execute(insert(7)))

    async def clash() -> None:
        await run_write_async(engine, lambda conn: conn.execute(insert(7)))

    with pytest.raises(sa.exc.IntegrityError):
        asyncio.run(clash())
    assert saved(engine) == [7]


def test_an_idle_sqlite_engine_holds_no_thread(tmp_path: Path) -> None:
    engine = open_database(f"sqlite:///{tmp_path / 'litgap.db'}")
    scratch.create(engine)
    before = set(threading.enumerate())
    run_write(engine, lambda conn: conn.execute(insert(1)))
    [writer] = [t for t in set(threading.enumerate()) - before if t.name == "store-writer"]
    writer.join(timeout=IDLE_SECONDS + 5)
    assert not writer.is_alive(), "the writer thread outlived its idle time"
    engine.dispose()
