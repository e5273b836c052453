"""The `screening` decision point: the prompt it builds per paper, the reasons it
offers, and (through a real JobContext on a real store) a revision's planned decisions
recorded as the reviewer's and an in-run prompt timing out to include the paper."""

import asyncio

import pytest

from litgap.config import StoredConfig
from litgap.context import JobContext
from litgap.exceptions import InvalidResponse
from litgap.responses import validate_response
from litgap.runtime import Runtime
from litgap.screening import (
    DEFAULT_REASONS,
    PROMPT_TYPE,
    answer_for,
    decision_of,
    reasons_for,
    screen_papers,
    screening_prompt,
)
from litgap.services.screening import Decided, plan
from litgap.status import JobStatus
from litgap.store import jobs as job_rows
from litgap.store import prompts as prompt_rows
from tests.helpers import new_job

PAPER = {"paper": "a.pdf", "title": "Roof yield", "kind": "pdf", "year": 2020,
         "authors": ["Ada"], "doi": None, "abstract": "We measured roof yield."}  # fmt: skip


def running_job(runtime: Runtime) -> str:
    job_id = new_job(runtime)
    job_rows.transition(runtime.engine, job_id, JobStatus.QUEUED)
    job_rows.transition(runtime.engine, job_id, JobStatus.RUNNING)
    return job_id


def test_the_prompt_offers_include_or_each_reason_and_defaults_to_include() -> None:
    spec = screening_prompt(PAPER, reasons_for(), "title_abstract")
    assert spec.type == PROMPT_TYPE and not spec.multiple and spec.default == "include"
    assert spec.options == ["include", *(f"exclude: {r}" for r in DEFAULT_REASONS)]
    data = spec.prompt_data()
    assert (data["paper"], data["title"], data["stage"]) == (
        "a.pdf",
        "Roof yield",
        "title_abstract",
    )
    assert data["abstract"] == "We measured roof yield." and data["reasons"] == list(
        DEFAULT_REASONS
    )
    with pytest.raises(ValueError, match="screening stage 'abstract'"):
        screening_prompt(PAPER, reasons_for(), "abstract")


def test_the_teams_reasons_follow_the_defaults_once_each() -> None:
    assert reasons_for(["Off Topic", "animal study", "animal study"]) == [
        *DEFAULT_REASONS,
        "animal study",
    ]


def test_a_reason_not_on_the_list_is_not_an_option() -> None:
    data = screening_prompt(PAPER, reasons_for(), "full_text").prompt_data()
    with pytest.raises(InvalidResponse, match="'exclude: boring' is not an option"):
        validate_response("p1", data, "exclude: boring", max_text_chars=100)
    assert validate_response("p1", data, "EXCLUDE: OFF TOPIC", max_text_chars=100) == (
        "exclude: off topic"
    )


def test_an_answer_reads_back_as_its_decision() -> None:
    assert decision_of("exclude: wrong population") == ("exclude", "wrong population")
    assert decision_of("include") == ("include", None)
    assert answer_for(*decision_of("exclude: other")) == "exclude: other"


def test_a_revisions_planned_decisions_are_recorded_as_the_reviewers(runtime: Runtime) -> None:
    reasons = reasons_for()
    decided = {"a.pdf": (Decided("exclude", "off topic", "full_text", "ada", "not roofs"), PAPER)}
    items, answers = plan(decided, reasons, note_of="ada")
    config = StoredConfig(replay_answers=answers, screening_plan=items)
    job_id = running_job(runtime)
    ctx = JobContext(runtime, job_id, config)
    excluded = asyncio.run(screen_papers(ctx, [PAPER], config, reasons))
    assert excluded == (("a.pdf", "off topic", "full_text"),)
    [row] = prompt_rows.job_prompts(runtime.engine, job_id)
    assert (row["applied"], row["source"], row["answered_by"], row["note"]) == (
        "exclude: off topic", "user", "ada", "not roofs",
    )  # fmt: skip
    assert row["drift"] is None and row["prompt_data"]["judged_by"] == "ada"


def test_an_unanswered_screening_prompt_includes_the_paper(runtime: Runtime) -> None:
    config = StoredConfig(screening="ask", prompt_timeouts={PROMPT_TYPE: 1})
    job_id = running_job(runtime)
    ctx = JobContext(runtime, job_id, config)
    assert asyncio.run(screen_papers(ctx, [PAPER], config, reasons_for())) == ()
    [row] = prompt_rows.job_prompts(runtime.engine, job_id)
    assert (row["status"], row["source"], row["applied"]) == (
        "timed_out", "timeout_default", "include",
    )  # fmt: skip
