"""Migrations on SQLite and PostgreSQL: the schema they build is the one the code
declares, running them again changes nothing, and processes starting together do not
trip over each other."""

import threading

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from litgap.store.database import open_database, upgrade
from litgap.store.schema import metadata
from tests.cluster.postgres import postgres_server


def test_migrations_build_the_declared_schema(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert differences == []


def test_upgrading_again_changes_nothing(engine: sa.Engine) -> None:
    upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).all() == [("0002",)]


def test_cluster_processes_starting_together_migrate_one_at_a_time() -> None:
    """A dashboard and its workers, started at once on an empty PostgreSQL database."""
    server = postgres_server()
    name = server.create_database()
    engine_url = server.url(name)
    barrier = threading.Barrier(6)
    errors: list[Exception] = []

    def start() -> None:
        barrier.wait()
        try:
            open_database(engine_url).dispose()
        except Exception as err:
            errors.append(err)

    threads = [threading.Thread(target=start) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    server.drop_database(name)
    assert errors == []
