"""`litgap serve` and `litgap db upgrade`."""

from typing import Annotated

import typer

from litgap.cli.app import WorkspaceOpt, console, load_settings
from litgap.runtime import open_runtime
from litgap.services.auth import Role, create_user, has_users
from litgap.store.database import open_database
from litgap.terminal import shown


def serve(
    workspace: WorkspaceOpt = None,
    host: Annotated[str | None, typer.Option(help="Address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on", min=1, max=65535)] = None,
) -> None:
    """Start the dashboard and API (SQLite, in-process jobs by default)."""
    from litgap.web import server

    settings = load_settings(workspace, host=host, port=port)
    rt = open_runtime(settings)
    try:
        if not has_users(rt.engine):
            _user, token = create_user(rt.engine, "admin", Role.ADMIN)
            console.print("No users yet: created [bold]admin[/bold]. Its token (shown once):")
            print(token)
            print(f"Sign in: http://{settings.host}:{settings.port}/login#token={token}")
    finally:
        rt.close()
    console.print(
        f"litgap on http://{shown(settings.host)}:{settings.port}  "
        f"workspace {shown(settings.workspace.resolve())}"
    )
    server.run(settings)


def db_upgrade(workspace: WorkspaceOpt = None) -> None:
    """Apply the schema migrations (idempotent)."""
    settings = load_settings(workspace)
    engine = open_database(settings.db_url)
    engine.dispose()
    console.print(f"Schema is up to date at {shown(settings.db_url.split('@')[-1])}")
