"""Copying a whole store into another database (`litgap db migrate-to URL`): how a
workspace that started on SQLite moves to the PostgreSQL of a cluster.

The target is migrated first, must be empty, and receives every row in one
transaction, so a failure leaves it as empty as it was. Rows are compared as the
store reads them (JSON values, booleans, ISO timestamps), and each table's count is
checked on both sides after the commit.
"""

from dataclasses import dataclass

import sqlalchemy as sa

from litgap.exceptions import LitgapError
from litgap.store.schema import jobs, prompts, sessions, users

# In the order their foreign keys need.
TABLES = (jobs, prompts, users, sessions)
BATCH_ROWS = 1000


class TargetNotEmpty(LitgapError):
    status_code = 409

    def __init__(self, target: str, counts: dict[str, int]) -> None:
        held = ", ".join(f"{name}: {count}" for name, count in counts.items() if count)
        super().__init__(
            f"the target database {target} already holds rows ({held}); "
            "migrate-to only fills an empty database"
        )


class CopyMismatch(LitgapError):
    status_code = 500

    def __init__(self, table: str, source: int, target: int) -> None:
        super().__init__(f"table {table}: {source} rows in the source but {target} in the target")


@dataclass(frozen=True)
class CopiedTable:
    name: str
    source_rows: int
    target_rows: int


def shown_url(engine: sa.Engine) -> str:
    """An engine's URL without its password."""
    return engine.url.render_as_string(hide_password=True)


def count_rows(conn: sa.Connection) -> dict[str, int]:
    return {
        table.name: int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())
        for table in TABLES
    }


def _reset_sequences(conn: sa.Connection) -> None:
    # Users were inserted with their ids: the next new user must not reuse one.
    if conn.dialect.name == "postgresql":
        conn.execute(
            sa.text(
                "SELECT setval(pg_get_serial_sequence('users', 'user_id'), "
                "COALESCE(MAX(user_id), 1), MAX(user_id) IS NOT NULL) FROM users"
            )
        )


def copy_database(source: sa.Engine, target: sa.Engine) -> list[CopiedTable]:
    """Copy jobs, prompts, users and sessions from `source` into `target` (both already
    migrated to the newest schema). Raises TargetNotEmpty when the target holds any
    row, CopyMismatch when a count differs (before the commit: nothing is kept)."""
    with target.connect() as conn:
        held = count_rows(conn)
    if any(held.values()):
        raise TargetNotEmpty(shown_url(target), held)
    # One read transaction on the source: every table from the same snapshot.
    with source.connect() as src, src.begin(), target.begin() as dst:
        expected = count_rows(src)
        for table in TABLES:
            query = sa.select(table).order_by(*table.primary_key.columns)
            result = src.execute(query.execution_options(yield_per=BATCH_ROWS)).mappings()
            for part in result.partitions():
                dst.execute(table.insert(), [dict(row) for row in part])
        _reset_sequences(dst)
        _check(expected, count_rows(dst))  # a mismatch rolls the whole copy back
    with target.connect() as conn:
        copied = count_rows(conn)
    _check(expected, copied)
    return [CopiedTable(t.name, expected[t.name], copied[t.name]) for t in TABLES]


def _check(expected: dict[str, int], found: dict[str, int]) -> None:
    for name, count in expected.items():
        if found[name] != count:
            raise CopyMismatch(name, count, found[name])
