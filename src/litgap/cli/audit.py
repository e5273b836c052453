"""Audit commands: `litgap jobs export`, `litgap jobs replay`, `litgap verify`."""

import asyncio
import getpass
import os
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from litgap import terminal
from litgap.cli.app import WorkspaceOpt, console, fail, open_workspace
from litgap.cli.display import print_job
from litgap.cli.run import run_here
from litgap.exceptions import LitgapError
from litgap.runtime import Runtime
from litgap.services import diff, export, replay
from litgap.services import jobs as job_service
from litgap.services.manifest import verify_archive
from litgap.status import JobStatus
from litgap.terminal import shown


def jobs_export(
    job_id: str,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="ZIP file to write (default: JOB_ID.zip)")
    ] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Export a job's record as a ZIP with a SHA-256 manifest (any status; a job that has
    not ended is marked partial)."""
    target = output or Path(f"{job_id}.zip")
    rt = open_workspace(workspace)
    try:
        plan = export.plan_export(rt, job_id)
        target.parent.mkdir(parents=True, exist_ok=True)
        # Written beside the target and renamed: an interrupted export leaves no
        # half-written file under the name asked for.
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out:
                summary = export.write_export(rt, plan, out)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except LitgapError as err:
        raise fail(err.detail) from err
    except OSError as err:
        raise fail(f"cannot write {target}: {err.strerror or err}") from err
    finally:
        rt.close()
    size = target.stat().st_size
    note = "  [yellow]PARTIAL: the job has not ended[/yellow]" if plan.partial else ""
    console.print(
        f"Exported {shown(job_id)} to {shown(str(target))}: {len(summary.entries)} files "
        f"+ {export.MANIFEST}, {size:,} bytes{note}"
    )


def _override_value(text: str, record: dict[str, Any] | None) -> Any:
    """PROMPT_ID=VALUE's value: option numbers or names (comma-separated for a
    multi-select) as the terminal accepts them; anything else goes to the service as
    given, which names the allowed values."""
    if record is None:
        return text
    data = record["prompt_data"]
    options = list(data.get("options") or [])
    if not options:
        return text
    choice = terminal.parse_choice(text, options, bool(data.get("multiple")))
    return text if choice is None else choice


def _parse_overrides(items: list[str], records: list[dict[str, Any]]) -> dict[str, Any]:
    by_id = {r["prompt_id"]: r for r in records}
    overrides: dict[str, Any] = {}
    for item in items:
        prompt_id, sep, value = item.partition("=")
        if not sep or not prompt_id.strip():
            raise fail(f"--override {item!r}: expected PROMPT_ID=VALUE")
        prompt_id = prompt_id.strip()
        overrides[prompt_id] = _override_value(value.strip(), by_id.get(prompt_id))
    return overrides


def jobs_replay(
    job_id: str,
    override: Annotated[
        list[str] | None,
        typer.Option(
            "--override", help="PROMPT_ID=VALUE: answer this prompt differently (what-if)"
        ),
    ] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Re-run a job with its inputs and recorded answers, here in the terminal; a prompt
    that no longer matches the original is asked again."""
    rt = open_workspace(workspace)
    try:
        try:
            records = job_service.job_history(rt, job_id)
            overrides = _parse_overrides(override or [], records)
            row = replay.create_replay(rt, job_id, overrides, created_by=getpass.getuser())
        except LitgapError as err:
            raise fail(err.detail) from err
        new_id = row["job_id"]
        console.print(f"Replay [bold]{new_id}[/bold] of {shown(job_id)}")
        compared, final = run_and_compare(rt, job_id, new_id)
    finally:
        rt.close()
    colour = "green" if compared["reproduced"] else "yellow"
    console.print(
        f"\nCompared with {shown(job_id)}: [{colour}]{shown(compared['verdict'])}[/{colour}]"
    )
    if final != JobStatus.COMPLETED:
        raise typer.Exit(1)


def run_and_compare(rt: Runtime, job_id: str, new_id: str) -> tuple[dict[str, Any], str]:
    """Run the job made from `job_id` here, show it, and return its diff with `job_id`
    and the status it ended in."""
    asyncio.run(run_here(rt, new_id))
    rt.docs.flush()
    print_job(rt, new_id)
    compared = diff.diff_jobs(rt, job_id, new_id)
    return compared, job_service.get_job(rt, new_id)["status"]


def verify(
    archive: Annotated[Path, typer.Argument(help="A ZIP written by litgap jobs export")],
) -> None:
    """Check an exported ZIP against its MANIFEST.sha256; exit 1 naming any altered,
    missing or unlisted file."""
    if not archive.is_file():
        raise fail(f"file not found: {archive}")
    try:
        result = verify_archive(archive)
    except LitgapError as err:
        raise fail(err.detail) from err
    for name in result.altered:
        console.print(f"[red]ALTERED[/red]   {shown(name)}")
    for name in result.missing:
        console.print(f"[red]MISSING[/red]   {shown(name)}")
    for name in result.unlisted:
        console.print(f"[red]UNLISTED[/red]  {shown(name)}")
    if result.partial:
        console.print("[yellow]Partial export: the job had not ended when it was made.[/yellow]")
    if not result.ok:
        problems = len(result.altered) + len(result.missing) + len(result.unlisted)
        console.print(f"[red]FAILED[/red]: {problems} of the archive's files do not match")
        raise typer.Exit(1)
    console.print(f"OK: {len(result.checked)} files match {export.MANIFEST}")
