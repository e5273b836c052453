"""Jobs: create, start, cancel, read, list, and import job folders the store does not know."""

import asyncio
import functools
import json
import shutil
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from litgap.atomic import fsync_in_turn
from litgap.blobs import Blob, hold
from litgap.clock import iso, now_iso
from litgap.config import JobConfig, StoredConfig, error_place, selection_problem
from litgap.exceptions import InvalidInput, InvalidJobId
from litgap.executor import Executor
from litgap.ids import new_job_id, validate_job_id
from litgap.pipeline import Framework, FrameworkError
from litgap.pipeline.pillars import read_framework
from litgap.pipeline.sample import sample_corpus_paths, sample_framework_path
from litgap.records import NO_HISTORY_MESSAGE, job_public, pending_prompt, prompt_record
from litgap.responses import as_text, fingerprint
from litgap.runtime import Runtime
from litgap.services.duplicates import same_content
from litgap.services.inputs import (
    TEXT_SUFFIXES,
    Budget,
    InputFile,
    StoredFile,
    check_corpus_names,
    check_text_file,
    link_or_copy,
    save_corpus_files,
    save_input,
)
from litgap.status import JobStatus
from litgap.store import jobs as job_rows
from litgap.store import prompts as prompt_rows
from litgap.text import check_json, check_text, scrub

Row = dict[str, Any]


MAX_NAME_CHARS = 1000


def parse_config(raw: object) -> JobConfig:
    """Validate a user's job config (decoded JSON); InvalidInput names the bad field,
    e.g. `config -> pillar_selections -> 0: ...`."""
    if raw is None:
        return JobConfig()
    check_json(raw, "config")
    try:
        return JobConfig.model_validate(raw)
    except ValidationError as err:
        first = err.errors()[0]
        place = error_place(first["loc"])
        raise InvalidInput(f"config{' -> ' + place if place else ''}: {first['msg']}") from err


def _check_framework(data: bytes, name: str) -> Framework:
    """The run's own framework check (`read_framework`), made at upload."""
    try:
        return read_framework(data, name)
    except FrameworkError as err:
        raise InvalidInput(f"pillars: {err}") from err


def _framework_of(framework: InputFile | StoredFile, saved: Path) -> Framework:
    if isinstance(framework, InputFile):
        return _check_framework(saved.read_bytes(), framework.name)
    return _blob_framework(framework.blob, framework.name)


@functools.lru_cache(maxsize=32)
def _blob_framework(blob: Blob, name: str) -> Framework:
    """A blob's bytes never change (blobs.py): its framework is read and checked once
    per process, not at every sample job (a quarter of a sample creation's time in its
    thread)."""
    return _check_framework(blob.path.read_bytes(), name)


def _check_names(
    files: Sequence[InputFile | StoredFile], framework: InputFile | StoredFile | None
) -> None:
    named = [(f"files -> {i}", f) for i, f in enumerate(files)]
    if framework is not None:
        named.append(("pillars", framework))
    for place, item in named:
        check_text(item.name, f"{place} -> filename")
        if len(item.name) > MAX_NAME_CHARS:
            raise InvalidInput(
                f"{place} -> filename: {len(item.name)} characters; the limit is {MAX_NAME_CHARS}"
            )


def _check_selection(config: JobConfig, framework: Framework) -> None:
    """A preset selection that the run would refuse is refused now."""
    if config.pillar_selections is None:
        return
    found = selection_problem(config.pillar_selections, framework.pillar_names())
    if found is not None:
        index, reason = found
        place = "config -> pillar_selections" + ("" if index is None else f" -> {index}")
        raise InvalidInput(f"{place}: {reason}")


def create_job(
    rt: Runtime,
    *,
    files: Sequence[InputFile | StoredFile],
    framework: InputFile | StoredFile | None = None,
    config: JobConfig | StoredConfig | None = None,
    created_by: str | None = None,
    replay_of: str | None = None,
) -> Row:
    """Create a draft job from uploaded (or local) files. Raises InvalidInput or
    PayloadTooLarge; on any error nothing of the job is left behind."""
    if not files:
        raise InvalidInput("no corpus files: upload at least one PDF, TXT, MD or CSV file")
    _check_names(files, framework)
    check_corpus_names(files)
    if created_by is not None:
        check_text(created_by, "created_by")
    config = config or JobConfig()
    job_id = new_job_id()
    folder = rt.workspace.create_job_dirs(job_id)
    inserted = False
    try:
        inputs, parsed = _save_inputs(rt, folder / "inputs", files, framework)
        _check_selection(config, parsed)
        inputs, duplicates = _same_files_once(folder / "inputs", inputs, config.keep_duplicates)
        _make_durable(rt, folder, inputs)
        now = now_iso()
        row: Row = {
            "job_id": job_id,
            "status": JobStatus.DRAFT.value,
            "created_at": now,
            "updated_at": now,
            "config": {
                **config.model_dump(mode="json", exclude_defaults=False),
                # A replay keeps the original's; a new job, this process's.
                "settings": getattr(config, "settings", None) or rt.settings.job_values(),
                **({"duplicates": duplicates} if duplicates else {}),
            },
            "inputs": inputs,
            "transitions": [{"status": JobStatus.DRAFT.value, "at": now}],
            "replay_of": replay_of,
            "created_by": created_by,
            "search_text": " ".join([job_id, *(i["name"] for i in inputs), created_by or ""]),
        }
        # Last guard before anything is kept: every string of the row can be stored.
        check_json(row, "job")
        row = job_rows.insert_job(rt.engine, row)
        inserted = True
    except BaseException:
        # Whatever failed, the job was never created: no row, no folder.
        if inserted:
            job_rows.delete_job(rt.engine, job_id)
            rt.docs.forget(job_id)
        shutil.rmtree(folder, ignore_errors=True)
        raise
    # Its document follows, as after every change: the store holds the job, and a
    # document that a crash kept from the disk is rewritten at start. Written before
    # the 201 it cost a creation its third wait on the disk.
    rt.docs.mark(job_id)
    # No decision has been asked of a job no one has been told of yet.
    rt.events.publish("job_update", _choices(job_public(row), {}))
    return row


def _same_files_once(
    inputs_dir: Path, inputs: list[Row], keep: bool
) -> tuple[list[Row], list[Row]]:
    """A file uploaded twice (same sha256, any name) is left out, and listed, unless
    duplicates are kept. Papers that are the same by DOI or title are found when the run
    reads the files (reported as skipped, with the paper kept): reading every PDF here
    would hold the upload's response for the whole extraction."""
    corpus = [i for i in inputs if i["role"] == "corpus"]
    screening, _ = same_content(corpus, keep=keep)
    for entry in screening.left_out:
        (inputs_dir / entry["path"]).unlink()
    left_out = {entry["path"] for entry in screening.left_out}
    return [i for i in inputs if i["path"] not in left_out], screening.duplicates


def _make_durable(rt: Runtime, folder: Path, inputs: list[Row]) -> None:
    """The job's folder and every input on disk, before the row that publishes them is
    committed: a crash before the commit leaves a folder no job names (nothing reads it;
    cleanup removes it), after it a complete one. The files are written straight to
    their names in the new folder, not through a temp file: the commit is the rename.
    A file with a second name is a link to a blob, whose bytes are on disk already."""
    inputs_dir = folder / "inputs"
    files = [inputs_dir / i["path"] for i in inputs]
    fsync_in_turn(
        [
            *(path for path in files if path.stat().st_nlink == 1),
            inputs_dir / "corpus",
            inputs_dir,
            folder,  # with the name of results/, which is empty: nothing in it to sync
            rt.workspace.jobs_dir,
        ]
    )


def _save_inputs(
    rt: Runtime,
    inputs_dir: Path,
    files: Sequence[InputFile | StoredFile],
    framework: InputFile | StoredFile | None,
) -> tuple[list[Row], Framework]:
    """Save the uploads and the framework, not yet fsynced (`_make_durable` does it for
    all at once: one by one, a sample job's nine files cost nine flushes of the disk)."""
    budget = Budget(rt.settings.max_upload_bytes)
    corpus_dir = inputs_dir / "corpus"
    corpus_dir.mkdir()
    saved = save_corpus_files(files, corpus_dir, budget, set(), sync=False)
    if framework is None:
        framework = InputFile("sample_framework.json", open(sample_framework_path(), "rb"))
    target = inputs_dir / "framework.json"
    try:
        sha, size = save_input(framework, target, budget, sync=False)
    finally:
        if isinstance(framework, InputFile):
            framework.stream.close()
    parsed = _framework_of(framework, target)
    saved.append(
        {
            "role": "framework",
            "name": framework.name,
            "path": "framework.json",
            "sha256": sha,
            "size": size,
        }
    )
    return saved, parsed


def create_sample_job(
    rt: Runtime, config: JobConfig | None = None, created_by: str | None = None
) -> Row:
    """A job on the bundled corpus and framework, whose files are links to the
    workspace's blobs of them: nothing is written but the job's folder."""

    def create() -> Row:
        corpus, framework = hold_sample(rt)
        return create_job(
            rt, files=corpus, framework=framework, config=config, created_by=created_by
        )

    try:
        return create()
    except FileNotFoundError:
        # A blob was swept since it was held (no job linked it): hold them again.
        with _SAMPLE_LOCK:
            _SAMPLE_FILES.pop(rt.workspace.blobs_dir, None)
        return create()


_SAMPLE_FILES: dict[Path, tuple[list[StoredFile], StoredFile]] = {}  # by blobs folder
_SAMPLE_LOCK = threading.Lock()


def hold_sample(rt: Runtime) -> tuple[list[StoredFile], StoredFile]:
    """The sample corpus and framework as blobs of the workspace, held once per process
    (at start-up by the server, so its first sample job is as quick as the next)."""
    blobs_dir = rt.workspace.blobs_dir
    with _SAMPLE_LOCK:
        held = _SAMPLE_FILES.get(blobs_dir)
        if held is None:
            paths = sample_corpus_paths()
            for path in paths:
                if path.name.lower().endswith(TEXT_SUFFIXES):
                    check_text_file(path, path.name)
            corpus = [StoredFile(p.name, hold(blobs_dir, p)) for p in paths]
            framework = hold(blobs_dir, sample_framework_path())
            held = _SAMPLE_FILES[blobs_dir] = (
                corpus,
                StoredFile("sample_framework.json", framework),
            )
    return held


def copy_inputs(rt: Runtime, source_job: str, target_job: str) -> None:
    """Give a new job the same inputs as another, hard-linked where the disk allows."""
    source = rt.workspace.inputs_dir(source_job)
    target = rt.workspace.inputs_dir(target_job)
    for path in sorted(source.rglob("*")):
        destination = target / path.relative_to(source)
        if path.is_dir():
            destination.mkdir(parents=True, exist_ok=True)
        else:
            destination.parent.mkdir(parents=True, exist_ok=True)
            link_or_copy(path, destination)


def start_job(rt: Runtime, executor: Executor, job_id: str) -> Row:
    row = job_rows.transition(rt.engine, validate_job_id(job_id), JobStatus.QUEUED, stage="queued")
    return _started(rt, executor, row)


async def start_job_async(rt: Runtime, executor: Executor, job_id: str) -> Row:
    """start_job() for a coroutine: the commit is awaited, off the event loop."""
    validate_job_id(job_id)
    row = await job_rows.transition_async(rt.engine, job_id, JobStatus.QUEUED, stage="queued")
    return _started(rt, executor, row)


def _started(rt: Runtime, executor: Executor, row: Row) -> Row:
    rt.docs.mark(row["job_id"])
    rt.events.publish("job_update", job_public(row))
    executor.submit(row["job_id"])
    return row


def _cancel_record(rt: Runtime, job_id: str) -> Row:
    row = job_rows.transition(
        rt.engine,
        validate_job_id(job_id),
        JobStatus.CANCELLED,
        error="cancelled by user",
        stage="cancelled",
    )
    rt.broker.cancel_job(job_id)
    return row


def cancel_job(rt: Runtime, executor: Executor, job_id: str) -> Row:
    return _cancelled(rt, executor, _cancel_record(rt, job_id))


async def cancel_job_async(rt: Runtime, executor: Executor, job_id: str) -> Row:
    """cancel_job() for a coroutine: the store's writes run in a thread."""
    return _cancelled(rt, executor, await asyncio.to_thread(_cancel_record, rt, job_id))


def _cancelled(rt: Runtime, executor: Executor, row: Row) -> Row:
    executor.cancel(row["job_id"])
    rt.docs.mark(row["job_id"])
    rt.events.publish("job_update", job_public(row))
    return row


def get_job(rt: Runtime, job_id: str) -> Row:
    """The job with its history (the same records as job_data.json) and pending prompts."""
    row = job_rows.get_job(rt.engine, validate_job_id(job_id))
    history = [prompt_record(r) for r in prompt_rows.job_prompts(rt.engine, job_id)]
    return {
        **with_choices(rt, [job_public(row)])[0],
        "prompts": history,
        "pending_prompts": [pending_prompt(r) for r in prompt_rows.pending(rt.engine, job_id)],
        "history_message": None if history else NO_HISTORY_MESSAGE,
        "result_files": result_files(rt, job_id),
    }


def result_files(rt: Runtime, job_id: str) -> list[str]:
    folder = rt.workspace.results_dir(job_id)
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def matches(record: Row, prompt_type: str | None, q: str | None) -> bool:
    if prompt_type and record["type"] != prompt_type:
        return False
    if not q:
        return True
    needle = q.casefold()
    fields = [
        record["type"],
        json.dumps(record["response"], ensure_ascii=False),
        json.dumps(record["applied"], ensure_ascii=False),
        str(record["prompt_data"].get("message", "")),
        # evidence_review: the passages judged, and the notes on them.
        *(
            f"{p.get('text', '')} {p.get('note') or ''}"
            for p in record["prompt_data"].get("passages", [])
            if isinstance(p, dict)
        ),
        record.get("note") or "",
        record.get("answered_by") or "",
        record.get("source") or "",
        record["status"],
    ]
    return any(needle in f.casefold() for f in fields)


def job_history(
    rt: Runtime, job_id: str, prompt_type: str | None = None, q: str | None = None
) -> list[Row]:
    job_rows.get_job(rt.engine, validate_job_id(job_id))
    records = [prompt_record(r) for r in prompt_rows.job_prompts(rt.engine, job_id)]
    return [r for r in records if matches(r, prompt_type, q)]


def with_choices(rt: Runtime, jobs: list[Row]) -> list[Row]:
    """Add the pillars and run mode each job goes on with: preset in its config, or
    decided at a prompt."""
    decided = prompt_rows.latest_applied(
        rt.engine, [j["job_id"] for j in jobs], ("pillar_selection", "run_mode")
    )
    return [_choices(job, decided.get(job["job_id"], {})) for job in jobs]


def _choices(job: Row, decided: dict[str, Any]) -> Row:
    config = job["config"]
    pillars = config.get("pillar_selections") or decided.get("pillar_selection")
    mode = config.get("run_mode") or decided.get("run_mode")
    if pillars == "DEEP" or pillars == ["DEEP"]:
        mode = mode or "DEEP_LOOP"
    job["pillars"], job["run_mode"] = pillars, mode
    return job


def list_jobs(rt: Runtime, **filters: Any) -> tuple[list[Row], str | None]:
    rows, cursor = job_rows.list_jobs(rt.engine, **filters)
    return with_choices(rt, [job_public(r) for r in rows]), cursor


# -- job folders and the store, brought back into agreement at start ----------------


def repair_documents(rt: Runtime) -> list[str]:
    """Rewrite every job_data.json that is missing, unreadable or behind the store
    (a crash between a commit and the document's rewrite, a file truncated by hand)."""
    repaired = []
    counts = prompt_rows.resolved_counts(rt.engine)
    for job_id, updated_at, legacy in job_rows.document_states(rt.engine):
        if legacy:
            continue
        try:
            data = json.loads(rt.workspace.document(job_id).read_text(encoding="utf-8"))
            stale = (
                not isinstance(data, dict)
                or data.get("updated_at") != updated_at
                or len(data.get("prompts", [])) != counts.get(job_id, 0)
            )
        except (OSError, ValueError):
            stale = True
        if stale:
            rt.workspace.job_dir(job_id).mkdir(parents=True, exist_ok=True)
            rt.docs.mark(job_id)
            repaired.append(job_id)
    return repaired


def import_job_folders(rt: Runtime) -> list[str]:
    """Import job folders written before this store (or before prompt history existed).
    A document without a `prompts` key is a legacy job: listed, never rewritten, its
    history empty."""
    imported = []
    for folder in sorted(rt.workspace.jobs_dir.iterdir()):
        try:
            job_id = validate_job_id(folder.name)
        except InvalidJobId:
            continue
        if job_rows.job_exists(rt.engine, job_id):
            continue
        document = folder / "job_data.json"
        try:
            data = json.loads(document.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            continue
        if not isinstance(data, dict):
            continue
        # Written by hand or by an older litgap: what cannot be stored is replaced,
        # so that this document cannot break the reads of every other job.
        _import_document(rt, job_id, folder, scrub(data))
        imported.append(job_id)
    return imported


def _text(value: object, fallback: str) -> str:
    return value if isinstance(value, str) and value else fallback


def _import_document(rt: Runtime, job_id: str, folder: Path, data: Row) -> None:
    mtime = iso(datetime.fromtimestamp(folder.stat().st_mtime, UTC))
    status = data.get("status")
    status = status if status in {s.value for s in JobStatus} else JobStatus.COMPLETED.value
    if JobStatus(status).is_active:
        # Its process is long gone and it has no recorded flow to resume.
        status = JobStatus.INTERRUPTED.value
    created = _text(data.get("created_at"), mtime)
    legacy = "prompts" not in data
    config = data.get("config") if isinstance(data.get("config"), dict) else {}
    results = data.get("results") if isinstance(data.get("results"), dict) else None
    inputs = (
        [i for i in data.get("inputs", []) if isinstance(i, dict)]
        if isinstance(data.get("inputs"), list)
        else []
    )
    row: Row = {
        "job_id": job_id,
        "status": status,
        "created_at": created,
        "updated_at": _text(data.get("updated_at"), created),
        "started_at": data.get("started_at") if isinstance(data.get("started_at"), str) else None,
        "completed_at": data.get("completed_at")
        if isinstance(data.get("completed_at"), str)
        else None,
        "config": config,
        "inputs": inputs,
        "summary": results,
        "transitions": [{"status": status, "at": created}],
        "legacy": legacy,
        "stage": "imported",
        "search_text": job_id,
    }
    job_rows.insert_job(rt.engine, row)
    if not legacy and isinstance(data["prompts"], list):
        for index, record in enumerate(data["prompts"]):
            if isinstance(record, dict):
                _import_record(rt, job_id, index, record)
        rt.docs.mark(job_id)


def _import_record(rt: Runtime, job_id: str, index: int, record: Row) -> None:
    raw = record.get("prompt_data")
    data: dict[str, Any] = raw if isinstance(raw, dict) else {}
    seq = record.get("seq") if isinstance(record.get("seq"), int) else index
    prompt_rows.insert_prompt(
        rt.engine,
        {
            "prompt_id": str(record.get("prompt_id")),
            "job_id": job_id,
            "seq": seq,
            "type": str(record.get("type")),
            "status": record.get("status")
            or ("timed_out" if record.get("timed_out") else "answered"),
            "prompt_data": data,
            "timeout_seconds": int(record.get("timeout_seconds") or 0),
            "requested_at": str(record.get("requested_at") or record.get("timestamp")),
            "deadline": str(record.get("timestamp")),
            "resolved_at": record.get("timestamp"),
            "response": record.get("response"),
            "applied": record.get("applied", record.get("response")),
            "applied_text": as_text(record.get("applied", record.get("response"))),
            "source": record.get("source"),
            "answered_by": record.get("answered_by"),
            "response_time_ms": record.get("response_time_ms"),
            "note": record.get("note"),
            "fingerprint": fingerprint(
                str(record.get("type")),
                str(data.get("message", "")),
                list(data.get("options") or []),
            ),
            "replayed_from": record.get("replayed_from"),
        },
    )
