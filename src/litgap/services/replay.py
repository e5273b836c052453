"""Replay: a new job with the same inputs and the answers the original recorded.

The new job gets the original's input files (hard-linked, checked by content hash) and
its config, plus a replay plan: one ReplayAnswer per recorded decision, keyed by prompt
type and occurrence and carrying the fingerprint of what the user was shown. While it
runs, JobContext answers each prompt that still matches and asks the ones that drifted.
A what-if replay overrides some recorded answers; an override is validated against the
original prompt's options before anything is created.
"""

import asyncio
import shutil
from collections import Counter
from collections.abc import Callable
from typing import Any

from litgap.clock import now_iso
from litgap.config import ReplayAnswer, StoredConfig
from litgap.exceptions import InvalidInput, NotReplayable
from litgap.executor import Executor
from litgap.ids import new_job_id, validate_job_id
from litgap.responses import validate_response
from litgap.runtime import Runtime
from litgap.services.inputs import file_sha256
from litgap.services.jobs import copy_inputs, start_job
from litgap.services.scoring_model import check_same_models
from litgap.status import JobStatus, PromptStatus
from litgap.store import jobs as job_rows
from litgap.store import prompts as prompt_rows

Row = dict[str, Any]
MAX_OVERRIDES = 100


def replay_answers(
    rows: list[Row], overrides: dict[str, Any], *, max_text_chars: int
) -> list[ReplayAnswer]:
    """The replay plan a history implies: every answered prompt, and every timed-out one
    whose default was applied, with its occurrence (1-based count of its type so far).
    `overrides` (prompt_id -> response) replace recorded answers; InvalidInput names an
    unknown prompt id, InvalidResponse the allowed values."""
    by_id = {r["prompt_id"]: r for r in rows}
    for prompt_id in overrides:
        if prompt_id not in by_id:
            known = ", ".join(by_id) or "none"
            raise InvalidInput(
                f"override {prompt_id[:80]!r}: not a prompt of this job's history "
                f"(its prompts: {known})"
            )
    checked = {
        prompt_id: validate_response(
            prompt_id, by_id[prompt_id]["prompt_data"], value, max_text_chars=max_text_chars
        )
        for prompt_id, value in overrides.items()
    }
    answers: list[ReplayAnswer] = []
    seen: Counter[str] = Counter()
    for row in rows:
        model = (row["prompt_data"] or {}).get("llm")
        if model is not None and row["prompt_id"] in checked:
            raise InvalidInput(
                f"override {row['prompt_id']!r}: a model's verdict is not a decision to change; "
                "make a revision with your own verdicts instead"
            )
        if model is not None:
            # A model's verdict is applied again from its record, matched by fingerprint
            # (llm/review.py); it is no occurrence of the asked prompts of its type.
            answers.append(
                ReplayAnswer(
                    type=row["type"],
                    occurrence=0,
                    fingerprint=row["fingerprint"],
                    response=row["applied"],
                    prompt_id=row["prompt_id"],
                    answered_by=row["answered_by"],
                    note=row["note"],
                    llm=model,
                )
            )
            continue
        seen[row["type"]] += 1
        if row["prompt_id"] in checked:
            response, overridden = checked[row["prompt_id"]], True
        elif row["status"] == PromptStatus.ANSWERED or (
            row["status"] == PromptStatus.TIMED_OUT and row["applied"] is not None
        ):
            response, overridden = row["applied"], False
        else:
            continue  # cancelled, or timed out without a default: asked again, live
        answers.append(
            ReplayAnswer(
                type=row["type"],
                occurrence=seen[row["type"]],
                fingerprint=row["fingerprint"],
                response=response,
                prompt_id=row["prompt_id"],
                overridden=overridden,
            )
        )
    return answers


def _replayable(rt: Runtime, original: Row) -> list[Row]:
    job_id = original["job_id"]
    if original["legacy"]:
        raise NotReplayable(
            f"job {job_id!r} has no prompt history: it was created before decisions were "
            "recorded, so there is nothing to replay"
        )
    if not JobStatus(original["status"]).is_terminal:
        raise NotReplayable(f"job {job_id!r} is {original['status']}: replay it once it has ended")
    rows = prompt_rows.job_prompts(rt.engine, job_id)
    if not rows:
        raise NotReplayable(
            f"job {job_id!r} has no prompt history: it asked no decisions, so there is "
            "nothing to replay"
        )
    if not (rt.workspace.inputs_dir(job_id) / "framework.json").is_file():
        raise NotReplayable(f"job {job_id!r} cannot be replayed: its input files are gone")
    return rows


def _check_inputs(rt: Runtime, original: Row, job_id: str) -> None:
    """The copied inputs must be the bytes the original ran on."""
    folder = rt.workspace.inputs_dir(job_id)
    for item in original["inputs"]:
        path = folder / str(item.get("path", ""))
        expected = item.get("sha256")
        if not expected:
            continue
        if not path.is_file() or file_sha256(path) != expected:
            raise NotReplayable(
                f"job {original['job_id']!r} cannot be replayed: its input "
                f"{item.get('name')!r} changed since it ran (sha256 differs)"
            )


def create_replay(
    rt: Runtime,
    job_id: str,
    overrides: dict[str, Any] | None = None,
    *,
    created_by: str | None = None,
) -> Row:
    """Create (as a draft, not started) the replay of a job. Raises InvalidJobId,
    UnknownJob, NotReplayable (no history, still running, inputs gone or changed),
    InvalidInput / InvalidResponse (a bad override); nothing is left behind on error."""
    original = job_rows.get_job(rt.engine, validate_job_id(job_id))
    overrides = overrides or {}
    if len(overrides) > MAX_OVERRIDES:
        raise InvalidInput(f"{len(overrides)} overrides; the limit is {MAX_OVERRIDES}")
    rows = _replayable(rt, original)
    config = StoredConfig.model_validate(original["config"])
    config = config.model_copy(
        update={
            "replay_answers": replay_answers(
                rows, overrides, max_text_chars=rt.settings.max_text_response_chars
            )
        }
    )
    return new_job_from(
        rt,
        original,
        config,
        relation="replay_of",
        created_by=created_by,
        label=f"replay {job_id}",
    )


def new_job_from(
    rt: Runtime,
    original: Row,
    config: StoredConfig,
    *,
    relation: str,
    created_by: str | None,
    label: str,
) -> Row:
    """A draft job made from `original`: its inputs hard-linked and checked by sha256,
    `config` as given, lineage (`parent_job_id`, `relation`) recorded. Shared by replay
    and revision. Raises NotReplayable when the inputs changed or the installed models
    are not those the original was scored with; nothing is left behind on error."""
    check_same_models(rt, original["job_id"])

    def same_inputs(new_id: str) -> tuple[StoredConfig, list[Row]]:
        _check_inputs(rt, original, new_id)
        return config, original["inputs"]

    return draft_from(
        rt, original, same_inputs, relation=relation, created_by=created_by, label=label
    )


def draft_from(
    rt: Runtime,
    original: Row,
    complete: Callable[[str], tuple[StoredConfig, list[Row]]],
    *,
    relation: str,
    created_by: str | None,
    label: str,
) -> Row:
    """A draft job made from `original`, lineage (`parent_job_id`, `relation`) recorded:
    the original's inputs are hard-linked into it, then `complete(new_id)` checks them,
    adds what it adds and returns the job's config and inputs list. Shared by replay,
    revision and continuation; whatever `complete` raises, nothing is left behind."""
    job_id = original["job_id"]
    new_id = new_job_id()
    folder = rt.workspace.create_job_dirs(new_id)
    try:
        copy_inputs(rt, job_id, new_id)
        config, inputs = complete(new_id)
        now = now_iso()
        names = [str(i.get("name", "")) for i in inputs]
        job_rows.insert_job(
            rt.engine,
            {
                "job_id": new_id,
                "status": JobStatus.DRAFT.value,
                "created_at": now,
                "updated_at": now,
                "config": config.model_dump(mode="json"),
                "inputs": inputs,
                "transitions": [{"status": JobStatus.DRAFT.value, "at": now}],
                # The older column, kept for readers made before the lineage columns.
                "replay_of": job_id if relation == "replay_of" else None,
                "parent_job_id": job_id,
                "relation": relation,
                "created_by": created_by,
                "search_text": " ".join([new_id, *names, created_by or "", label]),
            },
        )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    rt.docs.write_now(new_id)
    return job_rows.get_job(rt.engine, new_id)


async def replay_job(
    rt: Runtime,
    executor: Executor,
    job_id: str,
    overrides: dict[str, Any] | None = None,
    *,
    created_by: str | None = None,
) -> Row:
    """Create the replay of a job and start it at once (from the executor's event loop).
    Raises as `create_replay` does."""
    row = await asyncio.to_thread(create_replay, rt, job_id, overrides, created_by=created_by)
    return start_job(rt, executor, row["job_id"])
