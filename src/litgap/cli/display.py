"""What the command line prints about jobs: the job summary and the decisions table.

Every string that came from a user or a file goes through `shown` (control characters
made visible, rich markup escaped) before it reaches the terminal.
"""

from typing import Any

from rich.table import Table

from litgap.cli.app import console
from litgap.records import NO_HISTORY_MESSAGE, decision_label, shown_value
from litgap.runtime import Runtime
from litgap.services import jobs as job_service
from litgap.terminal import shown


def _dash(value: object) -> str:
    return "—" if value is None or value == "" else shown(value)


def jobs_table(rows: list[dict[str, Any]]) -> Table:
    table = Table("job", "status", "created", "progress", "stage", title="Jobs")
    for row in rows:
        table.add_row(
            shown(row["job_id"]),
            shown(row["status"]) + (" (legacy)" if row["legacy"] else ""),
            shown(row["created_at"]),
            f"{row['progress']:.0f}%",
            shown(row["stage"]),
        )
    return table


def decisions_table(records: list[dict[str, Any]]) -> Table:
    table = Table(
        "#", "time", "type", "response", "status", "answered by", "ms", title="User Decisions"
    )
    for record in records:
        value = record["applied"] if record["response"] is None else record["response"]
        table.add_row(
            str(record["seq"]),
            shown(record["timestamp"] or ""),
            shown(record["type"]),
            shown(shown_value(value)),
            shown(decision_label(record)),
            shown(record["answered_by"] or record["source"] or "—"),
            str(record["response_time_ms"] if record["response_time_ms"] is not None else "—"),
        )
        message = shown(record["prompt_data"].get("message", ""))
        note = f"  note: {shown(record['note'])}" if record.get("note") else ""
        table.add_row("", "", f"[dim]{message}{note}[/dim]", "", "", "", "")
    return table


def print_job(rt: Runtime, job_id: str) -> None:
    """A job's status, reason, times, results and User Decisions. Raises UnknownJob or
    InvalidJobId."""
    job = job_service.get_job(rt, job_id)
    console.print(
        f"\n[bold]{shown(job['job_id'])}[/bold]  status: [bold]{shown(job['status'])}[/bold]"
    )
    if job["error"]:
        console.print(f"  reason: {shown(job['error'])}")
    console.print(
        f"  created {_dash(job['created_at'])}  started {_dash(job['started_at'])}  "
        f"ended {_dash(job['completed_at'])}"
    )
    summary = job["results"]
    if summary:
        console.print(
            f"  overall completeness {shown(summary.get('overall_completeness'))}%  "
            f"gaps {shown(summary.get('gap_count'))}"
        )
        for pillar, pct in (summary.get("pillars") or {}).items():
            console.print(f"    {shown(pillar)}: {shown(pct)}%")
    if job["result_files"]:
        folder = rt.workspace.results_dir(job_id)
        files = ", ".join(shown(name) for name in job["result_files"])
        console.print(f"  results in {shown(folder)}: {files}")
    if job["prompts"]:
        console.print(decisions_table(job["prompts"]))
    else:
        console.print(f"[dim]{NO_HISTORY_MESSAGE}[/dim]")


def print_duplicates(duplicates: list[dict[str, Any]]) -> None:
    """The papers an upload found the corpus already had, one line each."""
    for dup in duplicates:
        state = "kept" if dup["kept"] else "left out"
        console.print(
            f"  duplicate {shown(dup['paper'])} = {shown(dup['duplicate_of'])} "
            f"({shown(dup['reason'])}; {state})"
        )
