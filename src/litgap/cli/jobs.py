"""`litgap jobs list|show|prompts`: jobs and their recorded decisions, read-only."""

from typing import Annotated

import typer

from litgap.cli.app import WorkspaceOpt, console, fail, open_workspace
from litgap.cli.display import decisions_table, jobs_table, print_job
from litgap.exceptions import LitgapError
from litgap.services import jobs as job_service
from litgap.terminal import shown


def jobs_list(
    workspace: WorkspaceOpt = None,
    status: Annotated[str | None, typer.Option(help="Only jobs with this status")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
) -> None:
    """List jobs, newest first."""
    rt = open_workspace(workspace)
    try:
        rows, _ = job_service.list_jobs(rt, limit=limit, status=status)
    finally:
        rt.close()
    console.print(jobs_table(rows))


def jobs_show(job_id: str, workspace: WorkspaceOpt = None) -> None:
    """A job's status, results and User Decisions."""
    rt = open_workspace(workspace)
    try:
        print_job(rt, job_id)
    except LitgapError as err:
        raise fail(err.detail) from err
    finally:
        rt.close()


def jobs_prompts(
    job_id: str,
    workspace: WorkspaceOpt = None,
    type: Annotated[str | None, typer.Option("--type", help="Only this prompt type")] = None,
    search: Annotated[str | None, typer.Option(help="Free-text search")] = None,
) -> None:
    """A job's recorded decisions, filtered by type and searched."""
    rt = open_workspace(workspace)
    try:
        records = job_service.job_history(rt, job_id, type, search)
        legacy = job_service.get_job(rt, job_id)["history_message"]
    except LitgapError as err:
        raise fail(err.detail) from err
    finally:
        rt.close()
    if not records:
        console.print(shown(legacy or "No decisions match."))
        return
    console.print(decisions_table(records))
