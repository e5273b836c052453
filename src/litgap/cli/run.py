"""`litgap run`: a job run in the terminal, each decision asked here."""

import asyncio
import getpass
from pathlib import Path
from typing import Annotated, Any

import typer

from litgap import terminal
from litgap.cli.app import WorkspaceOpt, console, fail, open_workspace
from litgap.cli.display import print_duplicates, print_job
from litgap.events import Event
from litgap.exceptions import LitgapError, PromptAlreadyResolved
from litgap.executor.inprocess import run_watching
from litgap.records import shown_value
from litgap.runtime import Runtime
from litgap.services import jobs as job_service
from litgap.services.inputs import CORPUS_SUFFIXES, InputFile
from litgap.status import JobStatus, PromptSource
from litgap.terminal import shown


def run(
    corpus: Annotated[Path, typer.Option(help="Folder of papers (PDF, TXT, MD, CSV)")],
    pillars: Annotated[Path | None, typer.Option(help="Pillar framework JSON")] = None,
    workspace: WorkspaceOpt = None,
    pillar_selection: Annotated[
        str | None,
        typer.Option(help='Preset: "ALL", "DEEP", "NONE" or pillar names, comma-separated'),
    ] = None,
    run_mode: Annotated[str | None, typer.Option(help="Preset: ONCE or DEEP_LOOP")] = None,
    screening: Annotated[
        str | None,
        typer.Option(help='"ask": include or exclude each paper, with a reason, before analysis'),
    ] = None,
    scorer: Annotated[
        str | None, typer.Option(help="semantic (the default: meaning) or lexical (exact words)")
    ] = None,
) -> None:
    """Run a job in the terminal, asking each decision here."""
    if not corpus.is_dir():
        raise fail(f"corpus folder not found: {corpus}")
    paths = sorted(
        p for p in corpus.iterdir() if p.is_file() and p.suffix.lower() in CORPUS_SUFFIXES
    )
    if not paths:
        raise fail(f"no papers in {corpus}: expected files ending in {', '.join(CORPUS_SUFFIXES)}")
    if pillars is not None and not pillars.is_file():
        raise fail(f"framework file not found: {pillars}")
    preset: dict[str, Any] = {}
    if pillar_selection:
        names = [n.strip() for n in pillar_selection.split(",") if n.strip()]
        preset["pillar_selections"] = (
            names[0] if len(names) == 1 and names[0] in {"ALL", "DEEP", "NONE"} else names
        )
    if run_mode:
        preset["run_mode"] = run_mode
    if screening:
        preset["screening"] = screening
    if scorer:
        preset["scorer"] = scorer
    try:
        config = job_service.parse_config(preset)
    except LitgapError as err:
        raise fail(err.detail) from err
    rt = open_workspace(workspace)
    try:
        files = [InputFile(p.name, open(p, "rb")) for p in paths]
        framework = InputFile(pillars.name, open(pillars, "rb")) if pillars else None
        try:
            row = job_service.create_job(
                rt, files=files, framework=framework, config=config, created_by=getpass.getuser()
            )
        except LitgapError as err:
            raise fail(err.detail) from err
        finally:
            for item in files:
                item.stream.close()
        job_id = row["job_id"]
        console.print(f"Job [bold]{job_id}[/bold] with {len(paths)} papers")
        print_duplicates(row["config"].get("duplicates", []))
        asyncio.run(run_here(rt, job_id))
        rt.docs.flush()
        print_job(rt, job_id)
        final = job_service.get_job(rt, job_id)["status"]
    finally:
        rt.close()
    if final != JobStatus.COMPLETED:
        raise typer.Exit(1)


async def run_here(rt: Runtime, job_id: str) -> None:
    """Run a job in this process: progress, replayed decisions and questions here."""
    last_stage = ""

    async def handle(event: Event) -> None:
        nonlocal last_stage
        data = event["data"]
        if event["type"] == "job_update" and data.get("stage") and data["stage"] != last_stage:
            last_stage = data["stage"]
            console.print(f"[dim][{data.get('progress', 0):5.1f}%] {shown(last_stage)}[/dim]")
        elif event["type"] == "prompt_resolved" and data.get("source") == "replay":
            value = shown(shown_value(data.get("applied")))
            console.print(f"[dim]replayed {shown(data['type'])}: {value}[/dim]")
        elif event["type"] == "prompt_request":
            if data.get("drift"):
                console.print(f"[yellow]{shown(data['drift'])}[/yellow]")
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
            console.print(f"[red]{shown(err.detail)}[/red]")
