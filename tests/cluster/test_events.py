"""NOTIFY/LISTEN between processes: a worker's events reach the dashboard's bus
whole, however big, once, and never echo back."""

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from litgap.cluster_events import MAX_PAYLOAD, EventBridge, encode
from litgap.executor.queue import conninfo
from litgap.records import job_public, pending_prompt
from litgap.responses import PromptSpec
from litgap.runtime import Runtime, open_runtime
from litgap.settings import Settings
from litgap.store import jobs as job_rows
from tests.helpers import new_job


@dataclass
class Pair:
    worker: Runtime
    dashboard: Runtime


@pytest.fixture
async def pair(tmp_path: Path, database_url: str) -> AsyncIterator[Pair]:
    settings = Settings(workspace=tmp_path / "ws", database_url=database_url)
    worker, dashboard = open_runtime(settings), open_runtime(settings)
    # The worker listens too (real workers do not): what it hears shows what was sent.
    sending = EventBridge(worker, conninfo(database_url), listen=True)
    receiving = EventBridge(dashboard, conninfo(database_url), listen=True)
    await sending.start()
    await receiving.start()
    yield Pair(worker, dashboard)
    await sending.stop()
    await receiving.stop()
    worker.close()
    dashboard.close()


async def next_event(queue: "asyncio.Queue[dict[str, Any]]") -> dict[str, Any]:
    return await asyncio.wait_for(queue.get(), timeout=10)


async def test_a_workers_event_reaches_the_dashboard(pair: Pair) -> None:
    async with pair.dashboard.events.subscribe() as queue:
        data = {"job_id": "job_abc123", "progress": 42.5, "stage": "iteration 2 «é»"}
        pair.worker.events.publish("job_update", data)
        assert await next_event(queue) == {"type": "job_update", "data": data}


async def test_an_event_too_big_to_notify_is_read_back_from_the_store(pair: Pair) -> None:
    job_id = new_job(pair.worker)
    inputs = [{"role": "corpus", "name": f"paper-{i}.txt", "sha256": "0" * 64} for i in range(200)]
    job_rows.update_job(pair.worker.engine, job_id, inputs=inputs)
    row = job_rows.get_job(pair.worker.engine, job_id)
    assert len(json.dumps(job_public(row))) > MAX_PAYLOAD
    spec = PromptSpec(
        type="continue",
        message="Continue?",
        options=["yes", "no"],
        default="no",
        context={"details": [{"sub_requirement": "x" * 90, "i": i} for i in range(100)]},
    )
    async with pair.dashboard.events.subscribe() as queue:
        pair.worker.events.publish("job_update", job_public(row))
        prompt = pair.worker.broker.open(job_id, 0, spec, 60)
        assert await next_event(queue) == {"type": "job_update", "data": job_public(row)}
        assert await next_event(queue) == {"type": "prompt_request", "data": pending_prompt(prompt)}


def test_every_payload_fits_in_a_notify() -> None:
    huge = {
        "type": "prompt_request",
        "data": {"job_id": "job_abc123", "prompt_id": "prompt_abc123", "blob": "é" * 20000},
    }
    payload = encode(huge, "origin")
    assert len(payload.encode()) <= MAX_PAYLOAD
    assert json.loads(payload)["ref"] == {"job_id": "job_abc123", "prompt_id": "prompt_abc123"}


async def test_events_are_not_echoed_or_relayed_twice(pair: Pair) -> None:
    async with pair.dashboard.events.subscribe() as mine, pair.worker.events.subscribe() as theirs:
        # The dashboard's own event: delivered here once, and sent to the others.
        pair.dashboard.events.publish("job_update", {"job_id": "job_own001", "stage": "a"})
        assert (await next_event(theirs))["data"]["job_id"] == "job_own001"
        # An event the worker only relays is not sent on; notifications arrive in order,
        # so an echo of either would come before the last one.
        pair.worker.events.publish(
            "job_update", {"job_id": "job_relay1", "stage": "b"}, relayed=True
        )
        pair.worker.events.publish("job_update", {"job_id": "job_last01", "stage": "c"})
        seen = [(await next_event(mine))["data"]["job_id"] for _ in range(2)]
        assert seen == ["job_own001", "job_last01"]
