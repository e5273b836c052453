"""`litgap users add|revoke|rotate`: who may use the dashboard and the API."""

from typing import Annotated

import typer

from litgap.cli.app import WorkspaceOpt, console, fail, load_settings
from litgap.exceptions import LitgapError
from litgap.runtime import open_runtime
from litgap.services.auth import Role, create_user, revoke_user, rotate_token
from litgap.terminal import shown


def users_add(
    name: str,
    role: Annotated[
        Role, typer.Option(help="viewer reads; operator and admin also act")
    ] = Role.OPERATOR,
    workspace: WorkspaceOpt = None,
) -> None:
    """Create a user; its token is printed once, as the last line."""
    rt = open_runtime(load_settings(workspace))
    try:
        user, token = create_user(rt.engine, name, role)
    except LitgapError as err:
        raise fail(err.detail) from err
    finally:
        rt.close()
    console.print(f"Created {user.role} {shown(user.name)}. Token (shown once):")
    print(token)


def users_revoke(name: str, workspace: WorkspaceOpt = None) -> None:
    """Revoke a user's token and end its sessions, at once; `rotate` gives it a new one."""
    rt = open_runtime(load_settings(workspace))
    try:
        user = revoke_user(rt.engine, name)
    except LitgapError as err:
        raise fail(err.detail) from err
    finally:
        rt.close()
    console.print(f"Revoked the token of {shown(user.name)}; its sessions are closed.")


def users_rotate(name: str, workspace: WorkspaceOpt = None) -> None:
    """Give a user a new token (printed once, as the last line); the old one and the
    user's sessions stop working at once."""
    rt = open_runtime(load_settings(workspace))
    try:
        user, token = rotate_token(rt.engine, name)
    except LitgapError as err:
        raise fail(err.detail) from err
    finally:
        rt.close()
    console.print(f"New token for {user.role} {shown(user.name)} (shown once):")
    print(token)
