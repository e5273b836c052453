"""One store, two engines: every test here runs on SQLite and on PostgreSQL."""

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from litgap.store.database import open_database
from tests.cluster.postgres import postgres_server


@pytest.fixture(params=["sqlite", "postgresql"])
def engine_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh, empty database on each engine."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'litgap.db'}"
        return
    server = postgres_server()
    name = server.create_database()
    yield server.url(name)
    server.drop_database(name)


@pytest.fixture
def engine(engine_url: str) -> Iterator[sa.Engine]:
    """The database, migrated by the same Alembic scripts the application runs."""
    engine = open_database(engine_url)
    yield engine
    engine.dispose()
