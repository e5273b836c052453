"""Replay: same inputs, the config the history implies, recorded answers given again;
drift when what the user would be shown changed; what-if overrides."""

import json
import os
from pathlib import Path
from typing import Any

import pytest

from litgap.config import StoredConfig
from litgap.exceptions import InvalidInput, InvalidResponse, NotReplayable
from litgap.runtime import Runtime
from litgap.services import diff, replay
from litgap.services import jobs as job_service
from litgap.store import jobs as job_rows
from litgap.store import prompts as prompt_rows
from tests.audit_helpers import add_prompt, run_job, sample_job, set_status
from tests.helpers import new_job

DEEP: dict[str, list[Any]] = {
    "pillar_selection": [["ALL"]],
    "run_mode": ["DEEP_LOOP"],
    "continue": ["yes", "no"],
}
ONCE: dict[str, list[Any]] = {"pillar_selection": [["ALL"]], "run_mode": ["ONCE"]}


def job_count(rt: Runtime) -> int:
    return len(job_rows.list_jobs(rt.engine, limit=1000)[0])


def replace_file(path: Path, data: bytes) -> None:
    """Write a new file in place of `path` (a hard link shared with another job must not
    be written through)."""
    path.unlink()
    path.write_bytes(data)


async def test_replay_of_a_completed_job_reproduces_it_exactly(runtime: Runtime) -> None:
    original = await sample_job(runtime, DEEP)
    assert original["status"] == "completed"
    row = replay.create_replay(runtime, original["job_id"], created_by="bob")
    again = await run_job(runtime, row["job_id"])  # no script: nothing may be asked
    assert again["status"] == "completed", again["error"]
    assert again["replay_of"] == original["job_id"]
    assert [p["source"] for p in again["prompts"]] == ["replay"] * 4
    assert [p["replayed_from"] for p in again["prompts"]] == [
        p["prompt_id"] for p in original["prompts"]
    ]
    compared = diff.diff_jobs(runtime, original["job_id"], again["job_id"])
    assert compared["reproduced"] is True
    assert compared["verdict"] == "reproduced exactly"
    assert {d["verdict"] for d in compared["decisions"]} == {"same"}


async def test_replay_shares_the_original_inputs_by_hard_link(runtime: Runtime) -> None:
    original = await sample_job(runtime, ONCE)
    row = replay.create_replay(runtime, original["job_id"])
    source = runtime.workspace.inputs_dir(original["job_id"])
    target = runtime.workspace.inputs_dir(row["job_id"])
    files = sorted(p.relative_to(source) for p in source.rglob("*") if p.is_file())
    assert Path("framework.json") in files and len(files) > 1
    for name in files:
        assert os.stat(source / name).st_ino == os.stat(target / name).st_ino
    assert row["inputs"] == original["inputs"]
    assert row["status"] == "draft"


async def test_replay_config_is_the_original_plus_every_recorded_answer(
    runtime: Runtime,
) -> None:
    original = await sample_job(runtime, DEEP, max_iterations=4)
    row = replay.create_replay(runtime, original["job_id"])
    config = StoredConfig.model_validate(row["config"])
    assert config.max_iterations == 4
    planned = [(a.type, a.occurrence, a.response, a.overridden) for a in config.replay_answers]
    assert planned == [
        ("pillar_selection", 1, ["ALL"], False),
        ("run_mode", 1, "DEEP_LOOP", False),
        ("continue", 1, "yes", False),
        ("continue", 2, "no", False),
    ]
    rows = prompt_rows.job_prompts(runtime.engine, original["job_id"])
    assert [a.fingerprint for a in config.replay_answers] == [r["fingerprint"] for r in rows]
    assert [a.prompt_id for a in config.replay_answers] == [r["prompt_id"] for r in rows]


def test_default_applied_on_timeout_is_replayed_and_a_timeout_without_default_is_not(
    runtime: Runtime,
) -> None:
    job_id = new_job(runtime)
    add_prompt(runtime, job_id, 0, status="timed_out", response=None, applied="ONCE")
    add_prompt(runtime, job_id, 1, status="timed_out", response=None, applied=None)
    add_prompt(runtime, job_id, 2, status="cancelled", response=None, applied=None)
    add_prompt(runtime, job_id, 3, response="DEEP_LOOP")
    rows = prompt_rows.job_prompts(runtime.engine, job_id)
    answers = replay.replay_answers(rows, {}, max_text_chars=100)
    assert [(a.occurrence, a.response) for a in answers] == [(1, "ONCE"), (4, "DEEP_LOOP")]


async def test_changed_framework_in_the_replay_is_asked_again_as_drift(
    runtime: Runtime,
) -> None:
    original = await sample_job(runtime, ONCE)
    row = replay.create_replay(runtime, original["job_id"])
    framework = runtime.workspace.inputs_dir(row["job_id"]) / "framework.json"
    data = json.loads(framework.read_text())
    first = next(k for k in data if k.startswith("Pillar 1"))
    data["Pillar 1: Renamed (SAMPLE)"] = data.pop(first)
    replace_file(framework, json.dumps(data).encode())
    again = await run_job(runtime, row["job_id"], {"pillar_selection": [["ALL"]]})
    assert again["status"] == "completed", again["error"]
    pillars, mode = again["prompts"]
    assert pillars["source"] == "user" and "replayed_from" not in pillars
    assert pillars["drift"].startswith("drift: pillar_selection #1 differs from the original")
    assert mode["source"] == "replay" and "drift" not in mode
    original_framework = runtime.workspace.inputs_dir(original["job_id"]) / "framework.json"
    assert first in json.loads(original_framework.read_text())


async def test_what_if_override_changes_the_results_and_the_diff_shows_it(
    runtime: Runtime,
) -> None:
    original = await sample_job(runtime, ONCE)
    pillars = original["prompts"][0]
    names = pillars["prompt_data"]["options"][2:-1]
    row = replay.create_replay(runtime, original["job_id"], {pillars["prompt_id"]: [names[0]]})
    again = await run_job(runtime, row["job_id"])
    assert again["status"] == "completed", again["error"]
    assert again["prompts"][0]["applied"] == [names[0]]
    assert again["prompts"][0]["note"] == "what-if override of the original answer"
    compared = diff.diff_jobs(runtime, original["job_id"], again["job_id"])
    assert compared["reproduced"] is False
    assert compared["decisions"][0] == {
        **compared["decisions"][0], "verdict": "changed", "a": ["ALL"], "b": [names[0]],
    }  # fmt: skip
    assert compared["decisions"][1]["verdict"] == "same"
    dropped = {p["pillar"]: p for p in compared["results"]["pillars"]}
    assert dropped[names[1]]["a"] is not None and dropped[names[1]]["b"] is None
    assert compared["results"]["overall"]["delta"] != 0
    assert compared["verdict"] == "decisions differ (1 changed); results differ"


async def test_override_outside_the_options_is_refused_naming_the_allowed_values(
    runtime: Runtime,
) -> None:
    original = await sample_job(runtime, ONCE)
    mode = original["prompts"][1]
    before = job_count(runtime)
    with pytest.raises(InvalidResponse) as caught:
        replay.create_replay(runtime, original["job_id"], {mode["prompt_id"]: "TWICE"})
    assert caught.value.detail.endswith("allowed values: 'ONCE', 'DEEP_LOOP'")
    assert job_count(runtime) == before
    assert len(list(runtime.workspace.jobs_dir.iterdir())) == before


async def test_override_of_a_prompt_not_in_the_history_is_refused(runtime: Runtime) -> None:
    original = await sample_job(runtime, ONCE)
    with pytest.raises(InvalidInput, match="'prompt_elsewhere0': not a prompt of this job"):
        replay.create_replay(runtime, original["job_id"], {"prompt_elsewhere0": "ONCE"})


async def test_job_that_asked_nothing_is_not_replayable(runtime: Runtime) -> None:
    original = await sample_job(runtime, {}, pillar_selections="ALL", run_mode="ONCE")
    assert original["status"] == "completed" and original["prompts"] == []
    with pytest.raises(NotReplayable, match="has no prompt history: it asked no decisions"):
        replay.create_replay(runtime, original["job_id"])


def test_legacy_job_is_not_replayable(runtime: Runtime) -> None:
    folder = runtime.workspace.jobs_dir / "job_legacy2024"
    folder.mkdir(parents=True)
    (folder / "job_data.json").write_text('{"job_id": "job_legacy2024", "status": "completed"}')
    job_service.import_job_folders(runtime)
    with pytest.raises(NotReplayable, match="created before decisions were recorded"):
        replay.create_replay(runtime, "job_legacy2024")


def test_job_that_has_not_ended_is_not_replayable(runtime: Runtime) -> None:
    job_id = new_job(runtime)
    add_prompt(runtime, job_id, 0)
    set_status(runtime, job_id, "waiting_input")
    with pytest.raises(NotReplayable, match="is waiting_input: replay it once it has ended"):
        replay.create_replay(runtime, job_id)


async def test_original_inputs_changed_since_the_run_are_refused(runtime: Runtime) -> None:
    original = await sample_job(runtime, ONCE)
    corpus = runtime.workspace.inputs_dir(original["job_id"]) / "corpus"
    paper = sorted(corpus.iterdir())[0]
    replace_file(paper, paper.read_bytes() + b"\nedited afterwards\n")
    before = job_count(runtime)
    with pytest.raises(NotReplayable, match="changed since it ran"):
        replay.create_replay(runtime, original["job_id"])
    assert job_count(runtime) == before
