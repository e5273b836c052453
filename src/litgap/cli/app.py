"""The bottom of the command line: the Typer apps, the shared options, the consoles,
settings and runtime helpers, and the one way a command fails.

Every other module of the package imports from here and never the other way round;
`litgap.cli` (the package's __init__) assembles the commands onto these apps.
"""

from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from pydantic_settings import SettingsError
from rich.console import Console

from litgap.runtime import Runtime, open_runtime
from litgap.services import jobs as job_service
from litgap.settings import Settings
from litgap.terminal import shown

app = typer.Typer(
    help="Literature gap analysis with audited human decisions.", no_args_is_help=True
)
jobs_app = typer.Typer(help="Inspect jobs and their recorded decisions.", no_args_is_help=True)
users_app = typer.Typer(help="Manage who may use the dashboard and the API.", no_args_is_help=True)
db_app = typer.Typer(help="The database schema.", no_args_is_help=True)
console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

WorkspaceOpt = Annotated[
    Path | None,
    typer.Option(
        "--workspace", "-w", help="Workspace folder (default: $LITGAP_WORKSPACE or ./workspace)"
    ),
]

_ENV_PREFIX = "LITGAP_"


def _brief(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def settings_error(err: ValueError) -> str:
    """One line naming each bad setting by its environment variable, e.g.
    ``LITGAP_PORT: Input should be a valid integer (got 'abc')``."""
    if isinstance(err, ValidationError):
        parts = []
        for item in err.errors():
            key = ".".join(str(p) for p in item["loc"])
            message = item["msg"].removeprefix("Value error, ")
            if not key:  # a rule over several settings: its message names them
                parts.append(message)
                continue
            got = "" if item["type"] == "value_error" else f" (got {_brief(item['input'])})"
            parts.append(f"{_ENV_PREFIX}{key.split('.')[0].upper()}: {message}{got}")
        return "; ".join(parts)
    if isinstance(err, SettingsError):
        # pydantic-settings names the field in quotes: 'error parsing value for field
        # "prompt_timeouts" from source ...'
        field = str(err).split('"')[1] if str(err).count('"') >= 2 else ""
        if field:
            return f"{_ENV_PREFIX}{field.upper()}: not valid JSON"
    return " ".join(str(err).split())


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print `message` as one error line on stderr (control characters made visible)
    and return the exit to raise."""
    err_console.print(f"[red]Error:[/red] {shown(message)}", soft_wrap=True)
    return typer.Exit(code)


def load_settings(workspace: Path | None, **updates: Any) -> Settings:
    """The settings from the environment, with the command line's overrides; bad
    settings exit 2 with one line naming the key."""
    try:
        settings = Settings()
    except ValueError as err:
        err_console.print(
            f"[red]Invalid settings:[/red] {shown(settings_error(err))}", soft_wrap=True
        )
        raise typer.Exit(2) from err
    # The model reviewer's settings are read again when a review starts (a rotated key
    # file is picked up); a bad one stops the start here, naming its key.
    from litgap.llm.settings import LLMNotConfigured, read_settings

    try:
        read_settings()
    except LLMNotConfigured as err:
        err_console.print(f"[red]Invalid settings:[/red] {shown(str(err))}", soft_wrap=True)
        raise typer.Exit(2) from err
    overrides = {k: v for k, v in {"workspace": workspace, **updates}.items() if v is not None}
    return settings.model_copy(update=overrides) if overrides else settings


def open_workspace(workspace: Path | None) -> Runtime:
    """A runtime on the workspace, with old job folders imported."""
    rt = open_runtime(load_settings(workspace))
    job_service.import_job_folders(rt)
    return rt
