"""The `litgap` command line."""

import asyncio
import getpass
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from litgap import terminal
from litgap.events import Event
from litgap.exceptions import LitgapError, PromptAlreadyResolved
from litgap.executor.inprocess import run_watching
from litgap.records import NO_HISTORY_MESSAGE, decision_label, shown_value
from litgap.runtime import Runtime, open_runtime
from litgap.services import jobs as job_service
from litgap.services.auth import Role, create_user, has_users
from litgap.services.inputs import CORPUS_SUFFIXES, InputFile
from litgap.settings import Settings
from litgap.status import JobStatus, PromptSource
from litgap.store.database import open_database

app = typer.Typer(
    help="Literature gap analysis with audited human decisions.", no_args_is_help=True
)
jobs_app = typer.Typer(help="Inspect jobs and their recorded decisions.", no_args_is_help=True)
app.add_typer(jobs_app, name="jobs")
console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

WorkspaceOpt = Annotated[
    Path | None,
    typer.Option(
        "--workspace", "-w", help="Workspace folder (default: $LITGAP_WORKSPACE or ./workspace)"
    ),
]


def _settings(workspace: Path | None) -> Settings:
    try:
        settings = Settings()
    except ValueError as err:
        err_console.print(f"[red]Invalid settings:[/red] {escape(str(err))}")
        raise typer.Exit(2) from err
    if workspace is not None:
        settings = settings.model_copy(update={"workspace": workspace})
    return settings


def _open(workspace: Path | None) -> Runtime:
    rt = open_runtime(_settings(workspace))
    job_service.import_job_folders(rt)
    return rt


def _fail(message: str, code: int = 1) -> typer.Exit:
    err_console.print(f"[red]Error:[/red] {escape(message)}")
    return typer.Exit(code)


# -- run --------------------------------------------------------------------------------


@app.command()
def run(
    corpus: Annotated[Path, typer.Option(help="Folder of papers (PDF, TXT, MD, CSV)")],
    pillars: Annotated[Path | None, typer.Option(help="Pillar framework JSON")] = None,
    workspace: WorkspaceOpt = None,
    pillar_selection: Annotated[
        str | None,
        typer.Option(help='Preset: "ALL", "DEEP", "NONE" or pillar names, comma-separated'),
    ] = None,
    run_mode: Annotated[str | None, typer.Option(help="Preset: ONCE or DEEP_LOOP")] = None,
) -> None:
    """Run a job in the terminal, asking each decision here."""
    if not corpus.is_dir():
        raise _fail(f"corpus folder not found: {corpus}")
    paths = sorted(
        p for p in corpus.iterdir() if p.is_file() and p.suffix.lower() in CORPUS_SUFFIXES
    )
    if not paths:
        raise _fail(f"no papers in {corpus}: expected files ending in {', '.join(CORPUS_SUFFIXES)}")
    if pillars is not None and not pillars.is_file():
        raise _fail(f"framework file not found: {pillars}")
    preset: dict[str, Any] = {}
    if pillar_selection:
        names = [n.strip() for n in pillar_selection.split(",") if n.strip()]
        preset["pillar_selections"] = (
            names[0] if len(names) == 1 and names[0] in {"ALL", "DEEP", "NONE"} else names
        )
    if run_mode:
        preset["run_mode"] = run_mode
    try:
        config = job_service.parse_config(preset)
    except LitgapError as err:
        raise _fail(err.detail) from err
    rt = _open(workspace)
    try:
        files = [InputFile(p.name, open(p, "rb")) for p in paths]
        framework = InputFile(pillars.name, open(pillars, "rb")) if pillars else None
        try:
            row = job_service.create_job(
                rt, files=files, framework=framework, config=config, created_by=getpass.getuser()
            )
        except LitgapError as err:
            raise _fail(err.detail) from err
        finally:
            for item in files:
                item.stream.close()
        job_id = row["job_id"]
        console.print(f"Job [bold]{job_id}[/bold] with {len(paths)} papers")
        asyncio.run(_run_here(rt, job_id))
        rt.docs.flush()
        _print_job(rt, job_id)
        final = job_service.get_job(rt, job_id)["status"]
    finally:
        rt.close()
    if final != JobStatus.COMPLETED:
        raise typer.Exit(1)


async def _run_here(rt: Runtime, job_id: str) -> None:
    """Run a job in this process: progress, replayed decisions and questions here."""
    last_stage = ""

    async def handle(event: Event) -> None:
        nonlocal last_stage
        data = event["data"]
        if event["type"] == "job_update" and data.get("stage") and data["stage"] != last_stage:
            last_stage = data["stage"]
            console.print(f"[dim][{data.get('progress', 0):5.1f}%] {escape(last_stage)}[/dim]")
        elif event["type"] == "prompt_resolved" and data.get("source") == "replay":
            value = escape(shown_value(data.get("applied")))
            console.print(f"[dim]replayed {data['type']}: {value}[/dim]")
        elif event["type"] == "prompt_request":
            if data.get("drift"):
                console.print(f"[yellow]{escape(data['drift'])}[/yellow]")
            await _answer_here(rt, data)

    await run_watching(rt, job_id, handle)


async def _answer_here(rt: Runtime, pending: dict[str, Any]) -> None:
    while True:
        response = await asyncio.to_thread(terminal.ask, pending, console)
        if response is None:
            return  # the broker times it out at its stored deadline
        try:
            rt.broker.answer(
                pending["prompt_id"],
                response,
                source=PromptSource.CLI,
                answered_by=getpass.getuser(),
            )
            return
        except PromptAlreadyResolved:
            console.print("[yellow]Too late: this prompt was already resolved.[/yellow]")
            return
        except LitgapError as err:
            console.print(f"[red]{escape(err.detail)}[/red]")


# -- jobs -------------------------------------------------------------------------------


@jobs_app.command("list")
def jobs_list(
    workspace: WorkspaceOpt = None,
    status: Annotated[str | None, typer.Option(help="Only jobs with this status")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
) -> None:
    """List jobs, newest first."""
    rt = _open(workspace)
    try:
        rows, _ = job_service.list_jobs(rt, limit=limit, status=status)
    finally:
        rt.close()
    table = Table("job", "status", "created", "progress", "stage", title="Jobs")
    for row in rows:
        table.add_row(
            row["job_id"],
            row["status"] + (" (legacy)" if row["legacy"] else ""),
            row["created_at"],
            f"{row['progress']:.0f}%",
            escape(row["stage"]),
        )
    console.print(table)


def _decisions_table(records: list[dict[str, Any]]) -> Table:
    table = Table(
        "#", "time", "type", "response", "status", "answered by", "ms", title="User Decisions"
    )
    for record in records:
        table.add_row(
            str(record["seq"]),
            record["timestamp"] or "",
            record["type"],
            escape(
                shown_value(record["applied"] if record["response"] is None else record["response"])
            ),
            decision_label(record),
            escape(record["answered_by"] or record["source"] or "—"),
            str(record["response_time_ms"] if record["response_time_ms"] is not None else "—"),
        )
        message = escape(str(record["prompt_data"].get("message", "")))
        note = f"  note: {escape(record['note'])}" if record.get("note") else ""
        table.add_row("", "", f"[dim]{message}{note}[/dim]", "", "", "", "")
    return table


def _print_job(rt: Runtime, job_id: str) -> None:
    job = job_service.get_job(rt, job_id)
    console.print(f"\n[bold]{job['job_id']}[/bold]  status: [bold]{job['status']}[/bold]")
    if job["error"]:
        console.print(f"  reason: {escape(job['error'])}")
    console.print(
        f"  created {job['created_at']}  started {job['started_at'] or '—'}  "
        f"ended {job['completed_at'] or '—'}"
    )
    summary = job["results"]
    if summary:
        console.print(
            f"  overall completeness {summary.get('overall_completeness')}%  "
            f"gaps {summary.get('gap_count')}"
        )
        for pillar, pct in (summary.get("pillars") or {}).items():
            console.print(f"    {escape(pillar)}: {pct}%")
    if job["result_files"]:
        folder = rt.workspace.results_dir(job_id)
        console.print(f"  results in {folder}: {', '.join(job['result_files'])}")
    if job["prompts"]:
        console.print(_decisions_table(job["prompts"]))
    else:
        console.print(f"[dim]{NO_HISTORY_MESSAGE}[/dim]")


@jobs_app.command("show")
def jobs_show(job_id: str, workspace: WorkspaceOpt = None) -> None:
    """A job's status, results and User Decisions."""
    rt = _open(workspace)
    try:
        _print_job(rt, job_id)
    except LitgapError as err:
        raise _fail(err.detail) from err
    finally:
        rt.close()


@jobs_app.command("prompts")
def jobs_prompts(
    job_id: str,
    workspace: WorkspaceOpt = None,
    type: Annotated[str | None, typer.Option("--type", help="Only this prompt type")] = None,
    search: Annotated[str | None, typer.Option(help="Free-text search")] = None,
) -> None:
    """A job's recorded decisions, filtered by type and searched."""
    rt = _open(workspace)
    try:
        records = job_service.job_history(rt, job_id, type, search)
        legacy = job_service.get_job(rt, job_id)["history_message"]
    except LitgapError as err:
        raise _fail(err.detail) from err
    finally:
        rt.close()
    if not records:
        console.print(legacy or "No decisions match.")
        return
    console.print(_decisions_table(records))


# -- serve, users, db -------------------------------------------------------------------

users_app = typer.Typer(help="Manage who may use the dashboard and the API.", no_args_is_help=True)
app.add_typer(users_app, name="users")
db_app = typer.Typer(help="The database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@users_app.command("add")
def users_add(
    name: str,
    role: Annotated[
        Role, typer.Option(help="viewer reads; operator and admin also act")
    ] = Role.OPERATOR,
    workspace: WorkspaceOpt = None,
) -> None:
    """Create a user; its token is printed once, as the last line."""
    rt = open_runtime(_settings(workspace))
    try:
        user, token = create_user(rt.engine, name, role)
    except LitgapError as err:
        raise _fail(err.detail) from err
    finally:
        rt.close()
    console.print(f"Created {user.role} {escape(user.name)}. Token (shown once):")
    print(token)


@app.command()
def serve(
    workspace: WorkspaceOpt = None,
    host: Annotated[str | None, typer.Option(help="Address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on")] = None,
) -> None:
    """Start the dashboard and API (SQLite, in-process jobs by default)."""
    from litgap.web import server

    settings = _settings(workspace)
    updates = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    settings = settings.model_copy(update=updates)
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
        f"litgap on http://{settings.host}:{settings.port}  "
        f"workspace {settings.workspace.resolve()}"
    )
    server.run(settings)


@db_app.command("upgrade")
def db_upgrade(workspace: WorkspaceOpt = None) -> None:
    """Apply the schema migrations (idempotent)."""
    settings = _settings(workspace)
    engine = open_database(settings.db_url)
    engine.dispose()
    console.print(f"Schema is up to date at {escape(settings.db_url.split('@')[-1])}")


def main() -> None:  # pragma: no cover - entry point
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    app()


# Commands defined in their own modules register themselves on the apps above.
import litgap.cli_audit  # noqa: E402
import litgap.cli_cluster  # noqa: E402, F401
