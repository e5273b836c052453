"""`litgap jobs export`, `litgap verify` and `litgap jobs replay`, run as a user runs them,
on a real workspace."""

import asyncio
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from litgap.cli import app
from litgap.runtime import open_runtime
from litgap.settings import Settings
from tests.audit_helpers import sample_job
from tests.conftest import make_settings

runner = CliRunner()
SCRIPT: dict[str, list[Any]] = {"pillar_selection": [["ALL"]], "run_mode": ["ONCE"]}


def run_cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, " ".join(result.output.split())


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


def completed_job(settings: Settings, script: dict[str, list[Any]], **config: Any) -> dict:
    rt = open_runtime(settings)
    try:
        return asyncio.run(sample_job(rt, script, **config))
    finally:
        rt.close()


def exported(settings: Settings, tmp_path: Path) -> tuple[dict, Path]:
    job = completed_job(settings, SCRIPT)
    out = tmp_path / "out" / "job.zip"
    code, output = run_cli("jobs", "export", job["job_id"], "-o", str(out),
                           "-w", str(settings.workspace))  # fmt: skip
    assert code == 0, output
    return job, out


def rewrite(source: Path, target: Path, *, change: str | None = None, drop: str | None = None):
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            if info.filename != drop:
                data = old.read(info.filename)
                new.writestr(info.filename, data + b" " if info.filename == change else data)
    return target


def test_export_writes_a_zip_that_verify_accepts(settings: Settings, tmp_path: Path) -> None:
    _, out = exported(settings, tmp_path)
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
    assert "prompt_history.txt" in names
    assert [p.name for p in out.parent.iterdir()] == ["job.zip"]  # no .part left over
    code, output = run_cli("verify", str(out))
    assert code == 0, output
    assert output == f"OK: {len(names) - 1} files match MANIFEST.sha256"


def test_verify_names_an_altered_file_and_exits_1(settings: Settings, tmp_path: Path) -> None:
    _, out = exported(settings, tmp_path)
    tampered = rewrite(out, tmp_path / "t.zip", change="results/gap_analysis_report.json")
    code, output = run_cli("verify", str(tampered))
    assert code == 1
    assert "ALTERED results/gap_analysis_report.json" in output
    assert "FAILED: 1 of the archive's files do not match" in output


def test_verify_names_a_missing_file_and_exits_1(settings: Settings, tmp_path: Path) -> None:
    _, out = exported(settings, tmp_path)
    code, output = run_cli("verify", str(rewrite(out, tmp_path / "t.zip", drop="job_data.json")))
    assert code == 1
    assert "MISSING job_data.json" in output


def test_verify_of_a_file_that_is_not_an_export_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "notes.zip"
    path.write_text("not a zip")
    code, output = run_cli("verify", str(path))
    assert code == 1 and "is not a readable ZIP archive" in output


def test_export_of_a_legacy_job_has_no_history(settings: Settings, tmp_path: Path) -> None:
    folder = settings.workspace / "jobs" / "job_legacy2024"
    folder.mkdir(parents=True)
    (folder / "job_data.json").write_text(json.dumps({"job_id": "job_legacy2024"}))
    out = tmp_path / "legacy.zip"
    code, output = run_cli("jobs", "export", "job_legacy2024", "-o", str(out),
                           "-w", str(settings.workspace))  # fmt: skip
    assert code == 0, output
    with zipfile.ZipFile(out) as archive:
        assert sorted(archive.namelist()) == ["MANIFEST.sha256", "job_data.json"]


def test_export_of_an_unknown_job_exits_1(settings: Settings, tmp_path: Path) -> None:
    code, output = run_cli("jobs", "export", "job_doesnotexist", "-o", str(tmp_path / "x.zip"),
                           "-w", str(settings.workspace))  # fmt: skip
    assert code == 1
    assert output == "Error: unknown job 'job_doesnotexist'"
    assert not (tmp_path / "x.zip").exists()


def test_replay_runs_in_the_terminal_and_reproduces_the_original(settings: Settings) -> None:
    job = completed_job(settings, SCRIPT)
    code, output = run_cli("jobs", "replay", job["job_id"], "-w", str(settings.workspace))
    assert code == 0, output
    assert "replayed pillar_selection: ALL" in output
    assert "replayed run_mode: ONCE" in output
    assert f"Compared with {job['job_id']}: reproduced exactly" in output


def test_replay_override_by_option_number_is_a_what_if(settings: Settings) -> None:
    job = completed_job(settings, SCRIPT)
    pillars = job["prompts"][0]
    code, output = run_cli("jobs", "replay", job["job_id"], "-w", str(settings.workspace),
                           "--override", f"{pillars['prompt_id']}=3")  # fmt: skip
    assert code == 0, output
    assert f"replayed pillar_selection: {pillars['prompt_data']['options'][2]}" in output
    assert "decisions differ (1 changed); results differ" in output


def test_replay_override_outside_the_options_exits_1_naming_them(settings: Settings) -> None:
    job = completed_job(settings, SCRIPT)
    mode = job["prompts"][1]
    code, output = run_cli("jobs", "replay", job["job_id"], "-w", str(settings.workspace),
                           "--override", f"{mode['prompt_id']}=TWICE")  # fmt: skip
    assert code == 1
    assert "allowed values: 'ONCE', 'DEEP_LOOP'" in output


def test_replay_of_a_job_without_history_exits_1_with_the_reason(settings: Settings) -> None:
    job = completed_job(settings, {}, pillar_selections="ALL", run_mode="ONCE")
    code, output = run_cli("jobs", "replay", job["job_id"], "-w", str(settings.workspace))
    assert code == 1
    assert "has no prompt history: it asked no decisions" in output
