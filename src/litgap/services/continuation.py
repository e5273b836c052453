"""Continuation: a finished job, carried on with new papers.

The new job (relation "continues") gets the parent's inputs (hard-linked, checked by
sha256) plus the new files, less those found to be papers the corpus already has
(services/duplicates.py) unless the user keeps them. It runs with the parent's config
(some keys overridden), a replay plan from the parent's decisions (a prompt that still
matches is answered again, one that differs is asked live, flagged as drift), and the
parent's evidence verdicts: every file the parent read is in the new corpus, so every
passage judged still exists (evidence ids come from the file's sha256 and offsets).
Its inputs mark what was added (`"added": true`); its config lists the duplicates left
out.
"""

import asyncio
import json
from pathlib import Path
from typing import Any, TypedDict, Unpack

from litgap.config import JobConfig, StoredConfig
from litgap.exceptions import InvalidInput, NotContinuable
from litgap.executor import Executor
from litgap.ids import validate_job_id
from litgap.runtime import Runtime
from litgap.services.archives import expand_archives
from litgap.services.duplicates import bounded_reader, existing_identities, screen
from litgap.services.inputs import (
    Budget,
    InputFile,
    check_corpus_names,
    file_sha256,
    save_corpus_files,
)
from litgap.services.jobs import start_job
from litgap.services.replay import draft_from, replay_answers
from litgap.services.screening import carry as carry_screening
from litgap.services.screening import job_reasons, kept_reasons
from litgap.status import JobStatus
from litgap.store import jobs as job_rows
from litgap.store import prompts as prompt_rows

Row = dict[str, Any]
RELATION = "continues"
REPORT_JSON = "gap_analysis_report.json"


def read_report(rt: Runtime, job_id: str) -> Row | None:
    try:
        data = json.loads((rt.workspace.results_dir(job_id) / REPORT_JSON).read_bytes())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _continuable(rt: Runtime, parent: Row) -> None:
    job_id = parent["job_id"]
    if parent["status"] != JobStatus.COMPLETED.value:
        raise NotContinuable(
            f"job {job_id!r} is {parent['status']}: only a completed job can be continued"
        )
    folder = rt.workspace.inputs_dir(job_id)
    if not (folder / "framework.json").is_file():
        raise NotContinuable(f"job {job_id!r} cannot be continued: its input files are gone")


def _check_copied(rt: Runtime, parent: Row, job_id: str) -> None:
    """The copied inputs must be the bytes the parent ran on."""
    folder = rt.workspace.inputs_dir(job_id)
    for item in parent["inputs"]:
        expected = item.get("sha256")
        path = folder / str(item.get("path", ""))
        if expected and (not path.is_file() or file_sha256(path) != expected):
            raise NotContinuable(
                f"job {parent['job_id']!r} cannot be continued: its input "
                f"{item.get('name')!r} changed since it ran (sha256 differs)"
            )


def _save_new(rt: Runtime, corpus_dir: Path, files: list[InputFile]) -> list[Row]:
    taken = {p.name.lower() for p in corpus_dir.iterdir()}
    saved = save_corpus_files(files, corpus_dir, Budget(rt.settings.max_upload_bytes), taken)
    return [{**entry, "added": True} for entry in saved]


def child_config(
    parent_config: Row, overrides: JobConfig | None, plan: list[Any], keep: bool, dups: list[Row]
) -> StoredConfig:
    config = StoredConfig.model_validate(parent_config)
    update: Row = {
        "replay_answers": plan,
        "keep_duplicates": keep,
        "duplicates": dups,
    }
    if overrides is not None:
        update.update({k: getattr(overrides, k) for k in overrides.model_fields_set})
    return config.model_copy(update=update)


def create_continuation(
    rt: Runtime,
    job_id: str,
    files: list[InputFile],
    *,
    overrides: JobConfig | None = None,
    keep_duplicates: bool = False,
    created_by: str | None = None,
) -> Row:
    """Create (as a draft) the continuation of a completed job with new corpus files
    (ZIPs unpacked). Returns the new job's row. Raises InvalidJobId, UnknownJob,
    NotContinuable (not completed, inputs gone or changed), InvalidInput (no files, a bad
    name, every file a duplicate) or PayloadTooLarge; nothing is left behind on error."""
    parent = job_rows.get_job(rt.engine, validate_job_id(job_id))
    _continuable(rt, parent)
    if not files:
        raise InvalidInput("no new papers: upload at least one corpus file to add")
    check_corpus_names(files)
    files = expand_archives(files, rt.settings.max_upload_bytes)
    check_corpus_names(files)
    rows = prompt_rows.job_prompts(rt.engine, job_id)
    plan = replay_answers(rows, {}, max_text_chars=rt.settings.max_text_response_chars)
    # The parent's screening decisions as a plan: in-run screening asks only new papers.
    reasons = job_reasons(rt, parent["config"] or {})
    screened, plan = carry_screening(rows, plan, reasons)
    report = read_report(rt, job_id)

    def add_papers(new_id: str) -> tuple[StoredConfig, list[Row]]:
        _check_copied(rt, parent, new_id)
        corpus_dir = rt.workspace.inputs_dir(new_id) / "corpus"
        corpus_dir.mkdir(exist_ok=True)
        new = _save_new(rt, corpus_dir, files)
        screening = screen(
            corpus_dir,
            new,
            existing_identities(report, parent["inputs"]),
            read=bounded_reader(rt),
            keep=keep_duplicates,
        )
        for entry in screening.left_out:
            (corpus_dir / Path(entry["path"]).name).unlink()
        if not screening.kept:
            shown = ", ".join(repr(e["name"][:100]) for e in screening.left_out)
            raise InvalidInput(
                f"nothing to add: every file is a paper job {job_id!r} already has ({shown}); "
                "send keep_duplicates=true to add them anyway"
            )
        config = child_config(
            parent["config"] or {}, overrides, plan, keep_duplicates, screening.duplicates
        )
        config = config.model_copy(
            update={
                "screening_plan": screened,
                "settings": kept_reasons(config.settings, reasons),
            }
        )
        inherited = [{k: v for k, v in i.items() if k != "added"} for i in parent["inputs"] or []]
        return config, [*inherited, *screening.kept]

    return draft_from(
        rt,
        parent,
        add_papers,
        relation=RELATION,
        created_by=created_by,
        label=f"continues {job_id}",
    )


class ContinueOptions(TypedDict, total=False):
    """`create_continuation`'s keyword arguments, passed through by `continue_job`."""

    overrides: JobConfig | None
    keep_duplicates: bool
    created_by: str | None


async def continue_job(
    rt: Runtime,
    executor: Executor,
    job_id: str,
    files: list[InputFile],
    **options: Unpack[ContinueOptions],
) -> Row:
    """Create the continuation of a job and start it (from the executor's event loop).
    Raises as `create_continuation` does."""
    row = await asyncio.to_thread(create_continuation, rt, job_id, files, **options)
    return start_job(rt, executor, row["job_id"])


def added_inputs(row: Row) -> list[Row]:
    """What a continuation added: file names and sha256."""
    return [
        {"name": i.get("name"), "sha256": i.get("sha256")}
        for i in row.get("inputs") or []
        if i.get("added")
    ]


def _paper_ids(report: Row) -> set[str]:
    return {str(p.get("id")) for p in (report.get("corpus") or {}).get("papers", [])}


def evidence_gained(a: Row, b: Row) -> list[Row]:
    """Sub-requirements whose evidence in `b` comes from papers `a` did not have: with
    completeness before and after and those papers, in framework order."""
    before = _paper_ids(a)
    subs_a = {
        s["id"]: s
        for p in a.get("pillars", [])
        for r in p.get("requirements", [])
        for s in r.get("sub_requirements", [])
    }
    gained = []
    for pillar in b.get("pillars", []):
        for requirement in pillar.get("requirements", []):
            for sub in requirement.get("sub_requirements", []):
                papers: dict[str, str] = {}
                for e in sub.get("evidence", []):
                    if str(e.get("paper")) not in before:
                        papers.setdefault(str(e.get("paper")), str(e.get("title") or ""))
                if not papers:
                    continue
                old = subs_a.get(sub["id"], {})
                gained.append(
                    {
                        "id": sub["id"],
                        "pillar": pillar.get("name"),
                        "text": sub.get("text"),
                        "a": old.get("completeness"),
                        "b": sub.get("completeness"),
                        "was_gap": old.get("gap"),
                        "gap": sub.get("gap"),
                        "papers": [{"paper": k, "title": v} for k, v in papers.items()],
                    }
                )
    return gained
