"""The CLI shows user text with its control characters made visible: a note can
neither rewrite earlier rows, nor write the clipboard (OSC 52), nor hide text."""

import asyncio
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from litgap.cli import app
from litgap.config import JobConfig
from litgap.executor.inprocess import run_watching
from litgap.runtime import open_runtime
from litgap.services import jobs as job_service
from litgap.settings import Settings
from litgap.status import PromptSource
from tests.conftest import make_settings

HOSTILE = "ok\x1b[2K\x1b[1A\x1b]52;c;aGk=\x07\x1b[8m hidden \u202eevil\x7f\x9b"
RAW = ["\x1b", "\x07", "\x7f", "\x9b", "\u202e"]
runner = CliRunner()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


def job_with_hostile_note(settings: Settings) -> str:
    rt = open_runtime(settings)
    try:
        row = job_service.create_sample_job(rt, JobConfig(), created_by="ada")
        answers = {"pillar_selection": ["ALL"], "run_mode": "ONCE"}

        async def answer(event: dict[str, Any]) -> None:
            data = event["data"]
            if event["type"] == "prompt_request":
                rt.broker.answer(
                    data["prompt_id"],
                    answers[data["type"]],
                    source=PromptSource.USER,
                    answered_by="ada",
                    note=HOSTILE,
                )

        asyncio.run(run_watching(rt, row["job_id"], answer))
        rt.docs.flush()
        return str(row["job_id"])
    finally:
        rt.close()


@pytest.mark.parametrize("command", ["show", "prompts"])
def test_a_hostile_note_reaches_the_terminal_with_no_raw_control_byte(
    settings: Settings, command: str
) -> None:
    job_id = job_with_hostile_note(settings)
    result = runner.invoke(
        app, ["jobs", command, job_id, "-w", str(settings.workspace)], env={"COLUMNS": "400"}
    )
    assert result.exit_code == 0, result.output
    assert not [c for c in RAW if c in result.output]
    assert "\\x1b]52;c;aGk=\\x07" in result.output
    assert "\\u202eevil" in result.output
