"""The terminal: `litgap run` asks at the prompt and records like the dashboard does."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from litgap.pipeline.sample import sample_corpus_paths, sample_framework_path

LITGAP = [sys.executable, "-m", "litgap"]


def litgap(
    *args: str, stdin: str = "", env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*LITGAP, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        cwd=cwd,
    )


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    for path in sample_corpus_paths():
        shutil.copy(path, folder / path.name)
    return folder


def only_job(workspace: Path) -> dict:
    [folder] = list((workspace / "jobs").iterdir())
    return json.loads((folder / "job_data.json").read_text())  # type: ignore[no-any-return]


def test_run_asks_at_the_terminal_and_records_each_decision(tmp_path: Path, corpus: Path) -> None:
    workspace = tmp_path / "ws"
    result = litgap(
        "run", "--corpus", str(corpus), "--workspace", str(workspace), stdin="2,3\n3,4\n2\nno\n"
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert "Select which pillars to analyze" in result.stdout
    assert "(default)" in result.stdout
    assert "User Decisions" in result.stdout
    job = only_job(workspace)
    assert job["status"] == "completed"
    assert "'DEEP' stands alone" in result.stdout
    pillars = [k for k in json.loads(sample_framework_path().read_text()) if k.startswith("Pillar")]
    records = job["prompts"]
    assert [r["type"] for r in records] == ["pillar_selection", "run_mode", "continue"]
    assert records[0]["response"] == pillars[:2]
    assert records[1]["response"] == "DEEP_LOOP"
    assert records[2]["response"] == "no" and records[2]["prompt_data"]["iteration"] == 1
    assert {r["source"] for r in records} == {"cli"}


def test_enter_takes_the_default(tmp_path: Path, corpus: Path) -> None:
    workspace = tmp_path / "ws"
    result = litgap("run", "--corpus", str(corpus), "--workspace", str(workspace), stdin="1\n\n")
    assert result.returncode == 0, result.stderr
    records = only_job(workspace)["prompts"]
    assert records[1]["response"] == "ONCE"


def test_an_answer_that_is_no_option_is_asked_again(tmp_path: Path, corpus: Path) -> None:
    workspace = tmp_path / "ws"
    result = litgap(
        "run", "--corpus", str(corpus), "--workspace", str(workspace), stdin="9\nALL\nONCE\n"
    )
    assert result.returncode == 0, result.stderr
    assert "Not an option: 9" in result.stdout
    assert only_job(workspace)["prompts"][0]["response"] == "ALL"


def test_jobs_show_and_prompts_filter(tmp_path: Path, corpus: Path) -> None:
    workspace = tmp_path / "ws"
    litgap("run", "--corpus", str(corpus), "--workspace", str(workspace), stdin="1\n1\n")
    job_id = only_job(workspace)["job_id"]
    listed = litgap("jobs", "list", "--workspace", str(workspace))
    assert job_id in listed.stdout and "completed" in listed.stdout
    shown = litgap("jobs", "show", job_id, "--workspace", str(workspace))
    assert "User Decisions" in shown.stdout and "pillar_selection" in shown.stdout
    filtered = litgap(
        "jobs", "prompts", job_id, "--type", "run_mode", "--workspace", str(workspace)
    )
    assert "run_mode" in filtered.stdout and "pillar_selection" not in filtered.stdout
    searched = litgap(
        "jobs", "prompts", job_id, "--search", "analysis mode", "--workspace", str(workspace)
    )
    assert "run_mode" in searched.stdout


def test_unknown_job_is_a_clear_error(tmp_path: Path) -> None:
    result = litgap("jobs", "show", "job_nosuchjob", "--workspace", str(tmp_path / "ws"))
    assert result.returncode == 1
    assert "unknown job 'job_nosuchjob'" in result.stderr


def test_traversal_job_id_is_refused(tmp_path: Path) -> None:
    result = litgap("jobs", "show", "../../etc", "--workspace", str(tmp_path / "ws"))
    assert result.returncode == 1
    assert "invalid job id" in result.stderr


def test_empty_corpus_folder_is_a_clear_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = litgap("run", "--corpus", str(empty), "--workspace", str(tmp_path / "ws"))
    assert result.returncode == 1
    assert "no papers in" in result.stderr


def test_bad_timeout_setting_fails_at_start_naming_the_key(tmp_path: Path, corpus: Path) -> None:
    result = litgap(
        "run",
        "--corpus",
        str(corpus),
        "--workspace",
        str(tmp_path / "ws"),
        env={"LITGAP_PROMPT_TIMEOUTS": '{"continue": 0}'},
    )
    assert result.returncode == 2
    assert "prompt_timeouts.continue" in result.stderr


def test_users_add_prints_the_token_last(tmp_path: Path) -> None:
    result = litgap(
        "users", "add", "grace", "--role", "viewer", "--workspace", str(tmp_path / "ws")
    )
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip().splitlines()[-1]
    assert token.startswith("lg_") and len(token) > 30


COMMANDS = [["serve"], ["worker"], ["jobs", "list"], ["users", "add", "ada"], ["db", "upgrade"]]
BAD_SETTINGS = [
    *[(command, {"LITGAP_PORT": "abc"}, "LITGAP_PORT") for command in COMMANDS],
    (["serve"], {"LITGAP_PROMPT_TIMEOUTS": '{"run_mode": 0}'}, "prompt_timeouts.run_mode"),
    (["worker"], {"LITGAP_PROMPT_TIMEOUTS": '{"run_mode": 0}'}, "prompt_timeouts.run_mode"),
    (["serve"], {"LITGAP_PROMPT_TIMEOUTS": "{not json"}, "LITGAP_PROMPT_TIMEOUTS"),
    (["serve"], {"LITGAP_LLM_CONCURRENCY": "0"}, "LITGAP_LLM_CONCURRENCY"),
    (["worker"], {"LITGAP_LLM_TIMEOUT_SECONDS": "never"}, "LITGAP_LLM_TIMEOUT_SECONDS"),
]


@pytest.mark.parametrize(("command", "env", "key"), BAD_SETTINGS)
def test_bad_settings_are_one_line_naming_the_key_and_exit_2(
    tmp_path: Path, command: list[str], env: dict[str, str], key: str
) -> None:
    result = litgap(*command, "--workspace", str(tmp_path / "ws"), env=env)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("Invalid settings:") and key in line
    assert not (tmp_path / "ws").exists()
