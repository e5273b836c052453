"""job_data.json follows the store: concurrent answers, order, and a failed write."""

import asyncio
import json
import os

import pytest

from litgap.exceptions import DocumentWriteError
from litgap.responses import PromptSpec
from litgap.runtime import Runtime
from litgap.status import PromptSource
from litgap.store import jobs as job_rows
from litgap.store import prompts as prompt_rows
from tests.helpers import new_job

STEP = PromptSpec(type="continue", message="Continue?", options=["yes", "no"], default="no")


async def test_fifty_jobs_times_twenty_answers_give_exactly_a_thousand_records(
    runtime: Runtime,
) -> None:
    job_ids = [new_job(runtime) for _ in range(50)]

    async def one_job(job_id: str) -> None:
        for seq in range(20):
            spec = PromptSpec(
                type="continue",
                message=f"Step {seq}",
                options=["yes", "no"],
                default="no",
                context={"iteration": seq},
            )
            prompt = await asyncio.to_thread(runtime.broker.open, job_id, seq, spec, 60)
            await asyncio.to_thread(
                runtime.broker.answer, prompt["prompt_id"], "yes", source=PromptSource.API
            )

    await asyncio.gather(*(one_job(j) for j in job_ids))
    runtime.docs.flush()
    total = 0
    for job_id in job_ids:
        records = json.loads(runtime.workspace.document(job_id).read_text())["prompts"]
        assert [r["seq"] for r in records] == list(range(20))
        assert [r["prompt_data"]["iteration"] for r in records] == list(range(20))
        total += len(records)
    assert total == 1000


def test_failed_write_keeps_previous_document_and_reports_it(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = new_job(runtime)
    before = runtime.workspace.document(job_id).read_bytes()
    prompt = runtime.broker.open(job_id, 0, STEP, 60)

    def disk_full(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    runtime.broker.answer(prompt["prompt_id"], "yes", source=PromptSource.USER)
    with pytest.raises(DocumentWriteError, match="No space left on device"):
        runtime.docs.flush()
    assert runtime.workspace.document(job_id).read_bytes() == before
    monkeypatch.undo()
    runtime.docs.mark(job_id)
    runtime.docs.flush()
    [record] = json.loads(runtime.workspace.document(job_id).read_text())["prompts"]
    assert record["response"] == "yes"


def test_documents_written_together_are_those_written_one_by_one(runtime: Runtime) -> None:
    # Histories of different lengths, and one job whose row is gone: a group's rows and
    # records are read for all of it at once, and each job's document is still its own.
    job_ids = [new_job(runtime) for _ in range(4)]
    for count, job_id in enumerate(job_ids):
        for seq in range(count):
            prompt = runtime.broker.open(job_id, seq, STEP, 60)
            runtime.broker.answer(prompt["prompt_id"], "yes", source=PromptSource.API)
    runtime.docs.flush()
    gone = new_job(runtime)
    runtime.docs.flush()
    job_rows.delete_job(runtime.engine, gone)
    for job_id in job_ids[1:3]:  # one more record each, cached histories grown
        seq = len(prompt_rows.job_prompts(runtime.engine, job_id))
        prompt = runtime.broker.open(job_id, seq, STEP, 60)
        runtime.broker.answer(prompt["prompt_id"], "no", source=PromptSource.API)
    for job_id in [*job_ids, gone]:
        runtime.docs.mark(job_id)
    runtime.docs.flush()
    together = {job_id: runtime.workspace.document(job_id).read_bytes() for job_id in job_ids}
    counts = [len(json.loads(together[job_id])["prompts"]) for job_id in job_ids]
    assert counts == [0, 2, 3, 3]
    for job_id in job_ids:
        runtime.workspace.document(job_id).unlink()
        runtime.docs.write_now(job_id)
        assert runtime.workspace.document(job_id).read_bytes() == together[job_id]


def test_document_is_valid_json_with_an_empty_history(runtime: Runtime) -> None:
    job_id = new_job(runtime)
    document = json.loads(runtime.workspace.document(job_id).read_text())
    assert document["job_id"] == job_id and document["prompts"] == []
