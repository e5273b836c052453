"""What a running job's flow sees: `ask` for decisions, `compute` for heavy work (in a
worker process), `progress` for the dashboard.

`ask` numbers its prompts. When a prompt with that number is already in the store
(the job is resuming after a crash, or waking up on another worker), its recorded
answer is applied again without asking and without a second record. A replay job
answers from the original's records when what the user would be shown matches.
"""

import functools
import time
from collections import Counter
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from litgap import eta
from litgap.clock import now_iso
from litgap.config import ReplayAnswer, StoredConfig
from litgap.exceptions import LitgapError
from litgap.executor.pool import shared_pool
from litgap.records import running_eta
from litgap.responses import PromptSpec, fingerprint
from litgap.runtime import Runtime
from litgap.status import JobStatus, PromptSource, PromptStatus
from litgap.store import jobs as job_rows
from litgap.store import prompts as prompt_rows

P = ParamSpec("P")
T = TypeVar("T")

Row = dict[str, Any]


class NoDecision(LitgapError):
    """A prompt without a default timed out: the job cannot go on."""


class DecisionCancelled(LitgapError):
    """The prompt was cancelled (the job was cancelled while it waited)."""


class HistoryMismatch(LitgapError):
    """The recorded history does not fit the flow being resumed."""


class Suspended(Exception):
    """The job waits for a human and lets its worker go; an answer or the deadline
    continues it by re-running the flow from its recorded answers."""

    def __init__(self, prompt: Row) -> None:
        super().__init__(f"waiting for {prompt['type']} until {prompt['deadline']}")
        self.prompt = prompt


class JobContext:
    def __init__(
        self,
        runtime: Runtime,
        job_id: str,
        config: StoredConfig,
        *,
        suspend: bool = False,
        recorded: int | None = None,
    ) -> None:
        """`recorded`, when the caller read it as the run began (off the event loop),
        is the last seq in the store; else the first ask reads it."""
        self.runtime = runtime
        self.job_id = job_id
        self.config = config
        # On a queue worker a waiting job holds no worker: `ask` raises Suspended
        # instead of waiting.
        self.suspend = suspend
        self._seq = 0
        self._recorded = recorded  # the last seq in the store when this run began
        self._occurrences: Counter[str] = Counter()
        self._last_progress = 0.0

    def timeout_for(self, prompt_type: str) -> int:
        return self.config.prompt_timeouts.get(
            prompt_type, self.runtime.settings.prompt_timeouts[prompt_type]
        )

    async def ask(self, spec: PromptSpec) -> Any:
        """Return the value the job goes on with: the answer, or the default on timeout.
        Raises NoDecision when a prompt without default times out."""
        seq = self._seq
        self._seq += 1
        self._occurrences[spec.type] += 1
        broker = self.runtime.broker
        if self._recorded is None:
            self._recorded = prompt_rows.last_seq(self.runtime.engine, self.job_id)
        # Only this run asks for this job, so past what was recorded before it started
        # there is nothing to look up.
        row = (
            prompt_rows.prompt_at(self.runtime.engine, self.job_id, seq)
            if seq <= self._recorded
            else None
        )
        if row is not None and row["type"] != spec.type:
            raise HistoryMismatch(
                f"job {self.job_id}: prompt {seq} was {row['type']!r} but the flow asks "
                f"{spec.type!r}"
            )
        if row is None:
            recorded, drift = self._replay_answer(spec)
            if recorded is None:
                row = await broker.open_async(
                    self.job_id, seq, spec, self.timeout_for(spec.type), drift=drift
                )
            else:
                note = "what-if override of the original answer" if recorded.overridden else None
                # Stored answered in one write, never pending: no other client can see
                # a question nobody is asked. A revision's verdicts are the reviewer's
                # answers, not a replay's.
                row = await broker.record_async(
                    self.job_id,
                    seq,
                    spec,
                    self.timeout_for(spec.type),
                    response=recorded.response,
                    source=PromptSource(recorded.source or PromptSource.REPLAY.value),
                    answered_by=recorded.answered_by,
                    requested_at=now_iso(),
                    note=recorded.note or note,
                    replayed_from=recorded.prompt_id,
                )
        if row["status"] == PromptStatus.PENDING and self.suspend:
            # Re-read: another process may have answered it since it was loaded.
            row = broker.expire(row["prompt_id"]) or broker.get(row["prompt_id"])
            if row["status"] == PromptStatus.PENDING:
                await self._set_status(JobStatus.WAITING_INPUT, f"waiting for {spec.type}")
                raise Suspended(row)
        if row["status"] == PromptStatus.PENDING:
            await self._set_status(JobStatus.WAITING_INPUT, f"waiting for {spec.type}")
            row = await broker.wait(row["prompt_id"], row)
            await self._set_status(JobStatus.RUNNING, f"{spec.type} decided")
        return self._applied(row)

    def reserve(self, prompt_type: str, count: int) -> list[tuple[int, Row | None]]:
        """Numbers for `count` decisions made concurrently, not asked (the model's
        verdicts): the same numbers, in the same order, on a resumed
        run, each with the record already made under it (None when none is). Raises
        HistoryMismatch when a number holds a decision of another kind."""
        if self._recorded is None:
            self._recorded = prompt_rows.last_seq(self.runtime.engine, self.job_id)
        start = self._seq
        self._seq += count
        found: dict[int, Row] = {}
        if count and start <= self._recorded:
            rows = prompt_rows.job_prompts(
                self.runtime.engine, self.job_id, after_seq=start - 1, limit=count
            )
            found = {r["seq"]: r for r in rows if r["seq"] < start + count}
        for seq, row in found.items():
            if row["type"] != prompt_type or "llm" not in (row["prompt_data"] or {}):
                raise HistoryMismatch(
                    f"job {self.job_id}: prompt {seq} was {row['type']!r} but the flow "
                    f"records a model's {prompt_type!r}"
                )
        return [(seq, found.get(seq)) for seq in range(start, start + count)]

    async def record(
        self,
        seq: int,
        spec: PromptSpec,
        *,
        response: object,
        source: PromptSource,
        answered_by: str | None,
        requested_at: str,
        note: str | None = None,
        replayed_from: str | None = None,
    ) -> Row:
        """Record a decision nobody is asked under a number from `reserve` (see
        PromptBroker.record_async)."""
        return await self.runtime.broker.record_async(
            self.job_id,
            seq,
            spec,
            self.timeout_for(spec.type),
            response=response,
            source=source,
            answered_by=answered_by,
            requested_at=requested_at,
            note=note,
            replayed_from=replayed_from,
        )

    def _replay_answer(self, spec: PromptSpec) -> tuple[ReplayAnswer | None, str | None]:
        if not self.config.replay_answers:
            return None, None
        occurrence = self._occurrences[spec.type]
        for answer in self.config.replay_answers:
            if answer.llm is not None:
                continue  # a model's verdict: llm/review.py applies it, by fingerprint
            if answer.type == spec.type and answer.occurrence == occurrence:
                if answer.fingerprint == fingerprint(spec.type, spec.message, spec.options):
                    return answer, None
                return None, (
                    f"drift: {spec.type} #{occurrence} differs from the original "
                    f"({answer.prompt_id}): message or options changed"
                )
        return None, f"drift: {spec.type} #{occurrence} has no recorded answer in the original job"

    def _applied(self, row: Row) -> Any:
        if row["status"] == PromptStatus.CANCELLED:
            raise DecisionCancelled(f"{row['type']} was cancelled")
        if row["status"] == PromptStatus.TIMED_OUT and row["applied"] is None:
            raise NoDecision(f"no response to {row['type']} within {row['timeout_seconds']} s")
        return row["applied"]

    async def _set_status(self, status: JobStatus, stage: str) -> None:
        # A wait for a decision is no part of the current stage's rate.
        (eta.pause if status == JobStatus.WAITING_INPUT else eta.resume)(self.job_id)
        row = await job_rows.transition_async(self.runtime.engine, self.job_id, status, stage=stage)
        self.runtime.docs.mark(self.job_id)
        self.runtime.events.publish("job_update", _job_event(row))

    async def compute(self, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a stage (a picklable top-level function) in a worker process: outside this
        process's event loop and GIL. Cancelling the job's task kills the work.

        Raises the stage's own error, or WorkerDied when its process ends without a reply.
        """
        return await self.compute_within(None, func, *args, **kwargs)

    async def compute_within(
        self, timeout: float | None, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """`compute`, with the work killed after `timeout` seconds (WorkTimedOut)."""
        pool = shared_pool(self.runtime.settings.analysis_processes)
        # The same job's stages prefer the same worker: it has the inputs read already.
        return await pool.run(
            functools.partial(func, *args, **kwargs), affinity=self.job_id, timeout=timeout
        )

    def progress(self, fraction: float, stage: str) -> None:
        """Record progress (called by the flow between stages); throttled to keep the store calm."""
        now = time.monotonic()
        if now - self._last_progress < 0.2 and fraction < 1.0:
            return
        self._last_progress = now
        percent = round(max(0.0, min(1.0, fraction)) * 100, 1)
        job_rows.set_progress(self.runtime.engine, self.job_id, percent, stage)
        eta_seconds = eta.note_progress(self.job_id, percent, stage)
        self.runtime.events.publish(
            "job_update",
            {
                "job_id": self.job_id,
                "progress": percent,
                "stage": stage,
                "eta_seconds": eta_seconds,
            },
        )


def _job_event(row: Row) -> dict[str, Any]:
    return {
        "job_id": row["job_id"],
        "status": row["status"],
        "progress": row["progress"],
        "stage": row["stage"],
        "eta_seconds": running_eta(row),
    }
