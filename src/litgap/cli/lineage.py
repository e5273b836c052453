"""Job families on the command line: `litgap jobs continue`, and `litgap verify` over
a chain of exports."""

import getpass
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated

import typer

from litgap.cli import audit
from litgap.cli.app import WorkspaceOpt, console, fail, open_workspace
from litgap.cli.display import print_duplicates
from litgap.exceptions import LitgapError
from litgap.services import continuation
from litgap.services.inputs import CORPUS_SUFFIXES, InputFile
from litgap.services.lineage import verify_chain
from litgap.status import JobStatus
from litgap.terminal import shown


def _paths(add: list[Path]) -> list[Path]:
    """The files named, folders searched for corpus files (hidden ones left out)."""
    found: list[Path] = []
    for path in add:
        if path.is_dir():
            found += sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and p.suffix.lower() in CORPUS_SUFFIXES
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        elif path.is_file():
            found.append(path)
        else:
            raise fail(f"file not found: {path}")
    if not found:
        raise fail("no corpus files to add: " + ", ".join(str(p) for p in add))
    return found


def jobs_continue(
    job_id: str,
    add: Annotated[
        list[Path],
        typer.Option("--add", help="A paper, library (.bib, .ris), ZIP or folder to add"),
    ],
    keep_duplicates: Annotated[
        bool, typer.Option("--keep-duplicates", help="Add papers the corpus already has")
    ] = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Continue a completed job with new papers, here in the terminal: its decisions are
    given again where the prompts match, and the diff with the parent is shown."""
    paths = _paths(add)
    rt = open_workspace(workspace)
    try:
        with ExitStack() as stack:
            files = [InputFile(p.name, stack.enter_context(open(p, "rb"))) for p in paths]
            try:
                row = continuation.create_continuation(
                    rt,
                    job_id,
                    files,
                    keep_duplicates=keep_duplicates,
                    created_by=getpass.getuser(),
                )
            except LitgapError as err:
                raise fail(err.detail) from err
        new_id = row["job_id"]
        console.print(f"Continuation [bold]{new_id}[/bold] of {shown(job_id)}")
        for item in continuation.added_inputs(row):
            console.print(f"  added     {shown(item['name'])}")
        print_duplicates(row["config"].get("duplicates", []))
        compared, final = audit.run_and_compare(rt, job_id, new_id)
    finally:
        rt.close()
    closed = compared["results"]["gaps_removed"]
    console.print(f"\nCompared with {shown(job_id)}: {len(closed)} gaps closed")
    for gap in closed:
        console.print(f"  closed {shown(gap['id'])}: {shown(gap.get('text') or '')}")
    if final != JobStatus.COMPLETED:
        raise typer.Exit(1)


def verify(
    archives: Annotated[
        list[Path], typer.Argument(help="ZIPs written by litgap jobs export (a chain: several)")
    ],
) -> None:
    """Check exported ZIPs against their MANIFEST.sha256; given several, also check that
    each one's parent archive is the one it was made from. Exit 1 naming any problem."""
    if len(archives) == 1:
        audit.verify(archives[0])
        return
    for path in archives:
        if not path.is_file():
            raise fail(f"file not found: {path}")
    try:
        check = verify_chain(archives)
    except LitgapError as err:
        raise fail(err.detail) from err
    for link in check.links:
        result = link.verification
        state = "[green]OK[/green]" if result.ok else "[red]FAILED[/red]"
        parent = (
            f" ({shown(link.relation or '')} {shown(link.parent_job_id)})"
            if link.parent_job_id
            else ""
        )
        console.print(f"{state} {shown(str(link.archive))}: {shown(link.job_id or '?')}{parent}")
        for label, names in (
            ("ALTERED", result.altered),
            ("MISSING", result.missing),
            ("UNLISTED", result.unlisted),
        ):
            for name in names:
                console.print(f"  [red]{label}[/red] {shown(name)}")
    for problem in check.problems:
        console.print(f"[red]BROKEN CHAIN[/red] {shown(problem)}")
    if not check.ok:
        raise typer.Exit(1)
    console.print(f"OK: a chain of {len(check.links)} archives, each link verified")
