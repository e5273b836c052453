"""The prompt broker: records, validation, first answer wins, timeouts."""

import asyncio
import time

import pytest

from litgap.exceptions import InvalidResponse, PromptAlreadyResolved, UnknownPrompt
from litgap.responses import PromptSpec
from litgap.runtime import Runtime
from litgap.status import PromptSource
from litgap.store import prompts as prompt_rows
from tests.helpers import document, new_job

PILLARS = PromptSpec(
    type="pillar_selection",
    message="Select which pillars to analyze",
    options=["ALL", "DEEP", "Pillar 1: Data", "Pillar 2: Models", "NONE"],
    multiple=True,
)
MODE = PromptSpec(
    type="run_mode", message="Select analysis mode", options=["ONCE", "DEEP_LOOP"], default="ONCE"
)


def test_answer_is_recorded_in_job_data_with_every_field(runtime: Runtime) -> None:
    job_id = new_job(runtime)
    prompt = runtime.broker.open(job_id, 0, PILLARS, 300)
    runtime.broker.answer(
        prompt["prompt_id"], "ALL", source=PromptSource.USER, answered_by="ada", note="all of them"
    )
    [record] = document(runtime, job_id)["prompts"]
    assert record["prompt_id"] == prompt["prompt_id"]
    assert record["type"] == "pillar_selection"
    assert record["response"] == "ALL" and record["applied"] == "ALL"
    assert record["timed_out"] is False and record["status"] == "answered"
    assert record["timeout_seconds"] == 300
    assert record["prompt_data"]["options"] == PILLARS.options
    assert record["prompt_data"]["message"] == PILLARS.message
    assert record["source"] == "user" and record["answered_by"] == "ada"
    assert record["note"] == "all of them"
    assert record["seq"] == 0
    assert record["requested_at"] <= record["timestamp"]
    assert isinstance(record["response_time_ms"], int) and record["response_time_ms"] >= 0


def test_list_response_stays_a_list(runtime: Runtime) -> None:
    job_id = new_job(runtime)
    prompt = runtime.broker.open(job_id, 0, PILLARS, 300)
    runtime.broker.answer(
        prompt["prompt_id"], ["Pillar 2: Models", "Pillar 1: Data"], source=PromptSource.USER
    )
    [record] = document(runtime, job_id)["prompts"]
    assert record["response"] == ["Pillar 2: Models", "Pillar 1: Data"]


def test_several_prompts_keep_order_and_context(runtime: Runtime) -> None:
    job_id = new_job(runtime)
    for seq in range(3):
        spec = PromptSpec(
            type="continue",
            message=f"Iteration {seq + 1} complete",
            options=["yes", "no"],
            default="no",
            context={
                "iteration": seq + 1,
                "gap_count": 5 - seq,
                "details": [{"sub_requirement": "Sub-1", "delta": 7.5}],
            },
        )
        prompt = runtime.broker.open(job_id, seq, spec, 60)
        runtime.broker.answer(prompt["prompt_id"], "yes", source=PromptSource.USER)
    records = document(runtime, job_id)["prompts"]
    assert [r["seq"] for r in records] == [0, 1, 2]
    assert [r["prompt_data"]["iteration"] for r in records] == [1, 2, 3]
    assert [r["prompt_data"]["gap_count"] for r in records] == [5, 4, 3]
    assert records[0]["prompt_data"]["details"] == [{"sub_requirement": "Sub-1", "delta": 7.5}]


@pytest.mark.parametrize(
    ("response", "reason"),
    [
        ("EVERYTHING", "'EVERYTHING' is not an option"),
        ([], "choose at least one option"),
        (["ALL", "Pillar 1: Data"], "'ALL' stands alone"),
        (["Pillar 1: Data", "Pillar 1: Data"], "chosen twice"),
        (42, "expected an option or a list of options, got int"),
    ],
)
def test_invalid_response_is_refused_and_nothing_is_written(
    runtime: Runtime, response: object, reason: str
) -> None:
    job_id = new_job(runtime)
    prompt = runtime.broker.open(job_id, 0, PILLARS, 300)
    with pytest.raises(InvalidResponse) as caught:
        runtime.broker.answer(prompt["prompt_id"], response, source=PromptSource.USER)
    assert reason in caught.value.detail
    assert runtime.broker.get(prompt["prompt_id"])["status"] == "pending"
    assert document(runtime, job_id)["prompts"] == []


def test_invalid_response_names_the_allowed_values(runtime: Runtime) -> None:
    job_id = new_job(runtime)
    prompt = runtime.broker.open(job_id, 0, MODE, 120)
    with pytest.raises(InvalidResponse) as caught:
        runtime.broker.answer(prompt["prompt_id"], "TWICE", source=PromptSource.USER)
    assert caught.value.detail.endswith("allowed values: 'ONCE', 'DEEP_LOOP'")


def test_unknown_prompt_is_refused(runtime: Runtime) -> None:
    with pytest.raises(UnknownPrompt, match="prompt_doesnotexist"):
        runtime.broker.answer("prompt_doesnotexist", "ALL", source=PromptSource.USER)


def test_second_answer_is_a_conflict_and_changes_nothing(runtime: Runtime) -> None:
    job_id = new_job(runtime)
    prompt = runtime.broker.open(job_id, 0, MODE, 120)
    runtime.broker.answer(prompt["prompt_id"], "ONCE", source=PromptSource.USER, answered_by="a")
    with pytest.raises(PromptAlreadyResolved, match="already answered"):
        runtime.broker.answer(
            prompt["prompt_id"], "DEEP_LOOP", source=PromptSource.USER, answered_by="b"
        )
    [record] = document(runtime, job_id)["prompts"]
    assert (record["response"], record["answered_by"]) == ("ONCE", "a")


async def test_timeout_with_default_applies_it_and_records_null_response(
    runtime: Runtime,
) -> None:
    job_id = new_job(runtime)
    started = time.monotonic()
    prompt = runtime.broker.open(job_id, 0, MODE, 1)
    row = await runtime.broker.wait(prompt["prompt_id"])
    elapsed = time.monotonic() - started
    # Never before the stored deadline; the wall clock is what the store compares.
    assert row["resolved_at"] >= prompt["deadline"]
    assert elapsed < 2.0
    [record] = document(runtime, job_id)["prompts"]
    assert record["timed_out"] is True and record["response"] is None
    assert record["applied"] == "ONCE" and record["source"] == "timeout_default"
    assert row["status"] == "timed_out"


async def test_timeout_without_default_records_no_applied_value(runtime: Runtime) -> None:
    job_id = new_job(runtime)
    prompt = runtime.broker.open(job_id, 0, PILLARS, 1)
    await runtime.broker.wait(prompt["prompt_id"])
    [record] = document(runtime, job_id)["prompts"]
    assert record["timed_out"] is True and record["applied"] is None and record["source"] is None


async def test_answer_wakes_the_waiter(runtime: Runtime) -> None:
    job_id = new_job(runtime)
    prompt = runtime.broker.open(job_id, 0, MODE, 300)
    waiter = asyncio.create_task(runtime.broker.wait(prompt["prompt_id"]))
    await asyncio.sleep(0)
    runtime.broker.answer(prompt["prompt_id"], "DEEP_LOOP", source=PromptSource.API)
    row = await asyncio.wait_for(waiter, timeout=1)
    assert row["applied"] == "DEEP_LOOP"


def test_deadline_survives_a_restart(runtime: Runtime, settings) -> None:
    from litgap.runtime import open_runtime

    job_id = new_job(runtime)
    prompt = runtime.broker.open(job_id, 0, MODE, 1)
    runtime.close()
    time.sleep(1.1)
    again = open_runtime(settings)
    try:
        assert again.broker.expire_overdue() == 1
        assert prompt_rows.get_prompt(again.engine, prompt["prompt_id"])["applied"] == "ONCE"
    finally:
        again.close()


def test_pending_prompts_are_listed_until_resolved(runtime: Runtime) -> None:
    job_id = new_job(runtime)
    prompt = runtime.broker.open(job_id, 0, MODE, 120)
    assert [p["prompt_id"] for p in runtime.broker.pending(job_id)] == [prompt["prompt_id"]]
    runtime.broker.answer(prompt["prompt_id"], "ONCE", source=PromptSource.USER)
    assert runtime.broker.pending(job_id) == []
