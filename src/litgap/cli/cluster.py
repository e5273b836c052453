"""Cluster commands: `litgap worker` and `litgap db migrate-to URL`."""

import asyncio
import logging
from pathlib import Path
from typing import Annotated

import sqlalchemy as sa
import typer
from rich.table import Table

from litgap.cli.app import WorkspaceOpt, console, fail, load_settings
from litgap.exceptions import LitgapError
from litgap.store.copy import copy_database, shown_url
from litgap.store.database import open_database
from litgap.terminal import shown


def _safe_url(url: str) -> str:
    return sa.engine.make_url(url).render_as_string(hide_password=True)


def worker(
    workspace: WorkspaceOpt = None,
    concurrency: Annotated[
        int, typer.Option(min=1, max=64, help="Jobs this worker runs at the same time")
    ] = 1,
    name: Annotated[
        str | None, typer.Option(help="Name in the worker's logs (default: host-pid)")
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log every task")] = False,
) -> None:
    """Run jobs from the cluster's queue (PostgreSQL) until SIGINT or SIGTERM."""
    settings = load_settings(workspace)
    if not settings.db_url.startswith("postgresql"):
        raise fail(
            "a worker needs the cluster's PostgreSQL database: set "
            "LITGAP_DATABASE_URL=postgresql+psycopg://user:password@host/dbname",
            2,
        )
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    from litgap.executor.queue import run_worker

    console.print(
        f"litgap worker on {shown(_safe_url(settings.db_url))}  workspace "
        f"{shown(settings.workspace.resolve())}  concurrency {concurrency}"
    )
    asyncio.run(run_worker(settings, concurrency=concurrency, name=name))


def db_migrate_to(
    url: Annotated[
        str,
        typer.Argument(help="The empty target database, e.g. postgresql+psycopg://u:p@host/litgap"),
    ],
    workspace: WorkspaceOpt = None,
    source: Annotated[
        str | None,
        typer.Option("--from", help="Source database URL (default: the workspace's SQLite file)"),
    ] = None,
) -> None:
    """Copy the workspace's database into an empty one (stop the dashboard first)."""
    settings = load_settings(workspace)
    source_url = source or settings.model_copy(update={"database_url": None}).db_url
    if source_url.startswith("sqlite:///"):
        path = Path(source_url.removeprefix("sqlite:///"))
        if not path.is_file():
            raise fail(f"no database to copy: {path} does not exist")
    if _safe_url(source_url) == _safe_url(url):
        raise fail("the source and the target are the same database")
    try:
        src = open_database(source_url)
        dst = open_database(url)
    except sa.exc.SQLAlchemyError as err:
        raise fail(f"cannot open a database: {err.__class__.__name__}: {err}") from err
    try:
        report = copy_database(src, dst)
    except LitgapError as err:
        raise fail(err.detail) from err
    finally:
        src.dispose()
        dst.dispose()
    table = Table("table", "source rows", "target rows", title="Copied")
    for line in report:
        table.add_row(line.name, str(line.source_rows), str(line.target_rows))
    console.print(table)
    console.print(
        f"All rows copied into {shown(shown_url(dst))}. Point every process at it with "
        "LITGAP_DATABASE_URL; job folders stay in the workspace, which dashboard and "
        "workers must share."
    )
