"""Many rows in one SQLite statement, for the writer's merged writes (store/writer.py).

The SQL has a fixed shape built from the table's own column names (a name that is not
a column raises KeyError before anything runs); every value is bound, converted as its
column's type says (JSON encoded, for one), exactly as SQLAlchemy would.
"""

from collections import defaultdict
from collections.abc import Iterator
from typing import Any, TypeVar

import sqlalchemy as sa

Row = dict[str, Any]
T = TypeVar("T")
# SQLite's bound-variable limit is 32,766; our rows have at most a few dozen columns.
CHUNK = 500


def chunks(items: list[T]) -> Iterator[list[T]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def insert_rows(conn: sa.Connection, table: sa.Table, rows: list[Row]) -> None:
    """INSERT … VALUES (…), (…): one statement per set of columns and chunk."""
    for columns, same in _by_columns(rows).items():
        for chunk in chunks(same):
            marks = ", ".join([_marks(len(columns))] * len(chunk))
            conn.exec_driver_sql(
                f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES {marks}",
                tuple(_bound(conn, table, columns, chunk)),
            )


def update_rows(conn: sa.Connection, table: sa.Table, key: str, rows: list[Row]) -> None:
    """UPDATE … FROM (VALUES …): each row (its `key` and the values to set) updates the
    table's row with that key, one statement per set of columns and chunk."""
    for columns, same in _by_columns(rows).items():
        settable = [name for name in columns if name != key]
        assignments = ", ".join(f"{name} = v.column{i + 2}" for i, name in enumerate(settable))
        for chunk in chunks(same):
            marks = ", ".join([_marks(len(columns))] * len(chunk))
            conn.exec_driver_sql(
                f"UPDATE {table.name} SET {assignments} FROM (VALUES {marks}) AS v "
                f"WHERE {table.name}.{key} = v.column1",
                tuple(_bound(conn, table, (key, *settable), chunk)),
            )


def _by_columns(rows: list[Row]) -> dict[tuple[str, ...], list[Row]]:
    groups: dict[tuple[str, ...], list[Row]] = defaultdict(list)
    for row in rows:
        groups[tuple(sorted(row))].append(row)
    return groups


def _marks(count: int) -> str:
    return "(" + ", ".join(["?"] * count) + ")"


def _bound(
    conn: sa.Connection, table: sa.Table, columns: tuple[str, ...], rows: list[Row]
) -> Iterator[Any]:
    processors = [table.c[name].type.bind_processor(conn.dialect) for name in columns]
    for row in rows:
        for name, process in zip(columns, processors, strict=True):
            value = row[name]
            yield value if process is None else process(value)
