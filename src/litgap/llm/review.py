"""The model reviewer's decision point: every verdict an `evidence_review` record.

One record per judged passage: options `[evidence_id]`, the response `[evidence_id]`
when the model says "supports", `[]` for "does_not_support", and null (no verdict, so
`applied` null and every reader of verdicts skips it) for "unclear", a malformed answer
or a refusal. `source` is "llm", `answered_by` is `llm:<model as the server reported
it>`, the model's reason is the record's note, and `prompt_data.llm` holds the rest:
model, template version, request hash, label, reason, raw response, latency, tokens,
calls, cached.

Each passage's record number is reserved before any call (`JobContext.reserve`, in
framework order), so calls run concurrently (at most LITGAP_LLM_CONCURRENCY, on the
flow's event loop: network I/O, not worker processes) while a resumed run finds each
verdict under the same number: a recorded verdict is used again, never asked or
recorded twice (the store's unique (job_id, seq) guarantees it). Records are inserted
in their numbers' order whatever order the answers come in (`_InOrder`), so a run
killed at any moment leaves the review recorded up to one passage (less those that got
no answer), and job_data.json grows by appending; a passage whose answer had
not been recorded is asked again (from the cache, when its answer had come).

For each passage, in order: the record already made (a resumed run); the replay plan
(a replay's or a revision's recorded verdicts, by fingerprint: no call, works with the
server gone); the answer cache by (model, request hash); the model.
"""

import asyncio
import contextlib
import functools
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from litgap.clock import now_iso
from litgap.config import ReplayAnswer
from litgap.llm import template
from litgap.llm.cache import AnswerCache
from litgap.llm.client import (
    Budget,
    BudgetExhausted,
    ChatClient,
    Completion,
    LLMFailed,
    LLMRejected,
    LLMUnreachable,
)
from litgap.llm.records import rater_name
from litgap.llm.settings import LLMNotConfigured, LLMReviewConfig, LLMSettings, read_settings
from litgap.pipeline.thresholds import SUPPORT_SCORE
from litgap.responses import PromptSpec, fingerprint
from litgap.review import PROMPT_TYPE, passage_entry
from litgap.runtime import Runtime
from litgap.status import PromptSource
from litgap.store import jobs as job_rows

Row = dict[str, Any]
Sub = Mapping[str, Any]
BORDERLINE_SCORE_BAND = 0.08
""""borderline" judges passages scoring within this of SUPPORT_SCORE: those whose
counting or not is closest to a coin toss."""
REPLAYS_ONLY = ("replay_of", "revision_of")
MAX_RAW = 4000  # characters of the model's answer kept in a record


class ModelContext(Protocol):
    """The part of JobContext this module uses."""

    runtime: Runtime
    job_id: str

    @property
    def config(self) -> Any: ...

    def reserve(self, prompt_type: str, count: int) -> list[tuple[int, Row | None]]: ...

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
    ) -> Row: ...

    def progress(self, fraction: float, stage: str) -> None: ...


def chosen(subs: Sequence[Sub], config: LLMReviewConfig) -> list[tuple[Sub, Row]]:
    """The (sub-requirement, passage) pairs the model judges, in framework order, best
    passage first."""
    pairs = []
    for sub in subs:
        passages = [p for p in sub.get("evidence", ()) if p.get("evidence_id")][: config.top]
        for passage in passages:
            score = passage.get("score")
            if config.passages == "borderline" and not (
                isinstance(score, int | float)
                and abs(float(score) - SUPPORT_SCORE) <= BORDERLINE_SCORE_BAND
            ):
                continue
            pairs.append((sub, dict(passage)))
    return pairs


def verdict_prompt(sub: Sub, passage: Mapping[str, Any], version: str) -> PromptSpec:
    """The record a model's verdict on one passage is kept as (before its answer)."""
    entry = passage_entry(passage)
    return PromptSpec(
        type=PROMPT_TYPE,
        message=(
            f"Model review ({version}) of {entry['evidence_id']} for {sub['id']}: "
            f"does this passage support it? {sub.get('text', '')}"
        )[:1000],
        options=[entry["evidence_id"]],
        default=None,
        multiple=True,
        context={
            "sub_requirement": str(sub["id"]),
            "text": str(sub.get("text", "")),
            "requirement": sub.get("requirement"),
            "pillar": sub.get("pillar"),
            "passages": [entry],
            "min_choices": 0,
            "reviewer": "llm",
            "template": version,
        },
    )


@dataclass
class ModelReview:
    """What one review did: the figures the job's summary and the dashboard show."""

    total: int
    model: str | None = None
    labels: Counter[str] = field(default_factory=Counter)
    verdicts: dict[str, str] = field(default_factory=dict)  # evidence_id -> accept/reject
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached: int = 0
    replayed: int = 0
    resumed: int = 0
    failed: int = 0
    last_error: str | None = None
    stopped: str | None = None

    @property
    def judged(self) -> int:
        return sum(self.labels.values())

    def note(self, row: Row) -> None:
        block = row["prompt_data"]["llm"]
        label = str(block.get("label"))
        self.labels[label] += 1
        self.model = self.model or block.get("model")
        if label in template.AS_VERDICT:
            self.verdicts[row["prompt_data"]["options"][0]] = template.AS_VERDICT[label]
        if row["source"] == PromptSource.LLM and not block.get("cached"):
            self.calls += int(block.get("calls") or 0)
            self.prompt_tokens += int(block.get("prompt_tokens") or 0)
            self.completion_tokens += int(block.get("completion_tokens") or 0)

    def stage(self) -> str:
        return (
            f"model review: {self.judged}/{self.total} passages · {self.calls} calls · "
            f"{self.prompt_tokens + self.completion_tokens} tokens"
        )

    def summary(self, config: LLMReviewConfig) -> Row:
        return {
            "model": self.model,
            "template": config.template,
            "passages": self.total,
            "judged": self.judged,
            "labels": dict(sorted(self.labels.items())),
            "calls": self.calls,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "cached": self.cached,
            "replayed": self.replayed,
            "failed": self.failed,
            "last_error": self.last_error,
            "stopped": self.stopped,
            "counted": config.counts,
        }


def _plan(answers: Sequence[ReplayAnswer]) -> dict[str, list[ReplayAnswer]]:
    plan: dict[str, list[ReplayAnswer]] = {}
    for answer in answers:
        if answer.llm is not None:
            plan.setdefault(answer.fingerprint, []).append(answer)
    return plan


async def review_with_model(
    ctx: ModelContext,
    subs: Sequence[Sub],
    config: LLMReviewConfig,
    *,
    settings: LLMSettings | None = None,
    progress: tuple[float, float] = (0.85, 0.9),
) -> ModelReview:
    """Judge the chosen passages of `subs` and record every verdict. Never raises for the
    model's or the server's failures: they are in the result (`stopped`, `failed`).
    Cancelling the task cancels the calls in flight; what was recorded stays."""
    pairs = chosen(subs, config)
    specs = [verdict_prompt(sub, passage, config.template) for sub, passage in pairs]
    slots = ctx.reserve(PROMPT_TYPE, len(specs))
    run = ModelReview(total=len(specs))
    plan = _plan(ctx.config.replay_answers)
    items: list[_Item] = []
    for (seq, row), spec, (sub, passage) in zip(slots, specs, pairs, strict=True):
        if row is not None:
            run.resumed += 1
            run.note(row)
            continue
        recorded = plan.get(fingerprint(spec.type, spec.message, spec.options))
        items.append(_Item(seq, spec, sub, passage, recorded.pop(0) if recorded else None))
    asks = sum(1 for item in items if item.replay is None)
    client = await _client(ctx, run, config, settings, asks) if asks else None
    cache = AnswerCache(ctx.runtime.workspace.root / "cache" / "llm")
    gate = asyncio.Semaphore(client.settings.concurrency if client else 1)
    order = _InOrder(ctx, run, progress)

    async def judge(index: int, item: _Item) -> None:
        make: Callable[[], Awaitable[Row]] | None = None
        if item.replay is not None:
            make = functools.partial(_replayed, ctx, item.seq, item.spec, item.replay)
        elif client is not None:
            async with gate:
                answer = None if run.stopped else await _answer(client, cache, run, item)
            if answer is not None:
                block, requested_at, fresh = answer
                if fresh and block["label"] != template.MALFORMED:
                    # Kept as soon as it is paid for, recorded or not; off the loop.
                    await asyncio.to_thread(cache.put, client.model, block["request_hash"], block)
                block = {**block, "cached": not fresh}
                make = functools.partial(_record, ctx, item.seq, item.spec, block, requested_at)
        await order.done(index, make)

    async with contextlib.AsyncExitStack() as stack:
        if client is not None:
            await stack.enter_async_context(client)
        async with asyncio.TaskGroup() as group:
            for index, item in enumerate(items):
                group.create_task(judge(index, item))
    if client is not None:
        run.calls = client.budget.used  # every attempt, a failed one too
    if run.stopped:
        run.stopped = f"{run.stopped}; {run.total - run.judged} passages not judged"
    return run


@dataclass(frozen=True)
class _Item:
    seq: int
    spec: PromptSpec
    sub: Sub
    passage: Row
    replay: ReplayAnswer | None


class _InOrder:
    """Records verdicts in the order of their numbers, whatever order the answers come
    in: the store and job_data.json then grow by appending (the document writer renders
    only the new records), and a run killed at any moment leaves a prefix of the
    review recorded. Answers that are ready together are recorded in one commit."""

    def __init__(self, ctx: ModelContext, run: ModelReview, progress: tuple[float, float]):
        self._ctx = ctx
        self._run = run
        self._progress = progress
        self._ready: dict[int, Callable[[], Awaitable[Row]] | None] = {}
        self._next = 0
        self._lock = asyncio.Lock()

    async def done(self, index: int, make: Callable[[], Awaitable[Row]] | None) -> None:
        """Item `index` is answered (`make` records it) or will have no record (None)."""
        self._ready[index] = make
        async with self._lock:
            batch = []
            while self._next in self._ready:
                item = self._ready.pop(self._next)
                self._next += 1
                if item is not None:
                    batch.append(item)
            if not batch:
                return
            for row in await asyncio.gather(*(make_row() for make_row in batch)):
                if row["source"] == PromptSource.REPLAY:
                    self._run.replayed += 1
                self._run.note(row)
        low, high = self._progress
        run = self._run
        self._ctx.progress(low + (high - low) * run.judged / max(run.total, 1), run.stage())


async def _client(
    ctx: ModelContext,
    run: ModelReview,
    config: LLMReviewConfig,
    settings: LLMSettings | None,
    asks: int,
) -> ChatClient | None:
    """The client for the passages the model must be asked about, or None (with the
    reason in `run.stopped`) when none may be asked."""
    job = await asyncio.to_thread(job_rows.get_job, ctx.runtime.engine, ctx.job_id)
    relation = job.get("relation")
    if relation in REPLAYS_ONLY:
        # A replay or a revision applies the recorded verdicts and never calls the model
        # (a continuation does, for its new papers' passages).
        run.stopped = f"a {relation.replace('_of', '')} applies recorded model verdicts only"
        return None
    try:
        settings = settings or read_settings()
        limit = min(settings.max_calls, config.max_calls or settings.max_calls)
        return ChatClient(settings, Budget(limit, used=run.calls))
    except LLMNotConfigured as err:
        run.stopped = err.detail
        return None


async def _replayed(ctx: ModelContext, seq: int, spec: PromptSpec, answer: ReplayAnswer) -> Row:
    block = {**(answer.llm or {}), "calls": 0}
    return await ctx.record(
        seq,
        replace(spec, context={**spec.context, "llm": block}),
        response=answer.response,
        source=PromptSource.REPLAY,
        answered_by=answer.answered_by or rater_name(str(block.get("model"))),
        requested_at=now_iso(),
        note=answer.note,
        replayed_from=answer.prompt_id,
    )


async def _answer(
    client: ChatClient, cache: AnswerCache, run: ModelReview, item: _Item
) -> tuple[Row, str, bool] | None:
    """One passage's answer (its llm block, when it was asked, and whether it is new),
    from the cache or from the model; None when no answer came."""
    settings = client.settings
    body = template.request_body(client.model, item.sub, item.passage, settings.response_format)
    request_hash = template.request_hash(body)
    requested_at = now_iso()
    kept = cache.get(client.model, request_hash)
    if kept is not None:
        run.cached += 1
        return {**kept, "calls": 0}, requested_at, False
    try:
        block = await _ask(client, body, settings.retries)
    except (BudgetExhausted, LLMUnreachable, LLMRejected) as err:
        run.stopped = run.stopped or err.detail
        return None
    except LLMFailed as err:
        run.failed += 1
        run.last_error = err.detail
        return None
    block = {**block, "template": item.spec.context["template"], "request_hash": request_hash}
    return block, requested_at, True


async def _record(ctx: ModelContext, seq: int, spec: PromptSpec, block: Row, at: str) -> Row:
    label = block["label"]
    eid = spec.options[0]
    response = [eid] if label == "supports" else [] if label == "does_not_support" else None
    return await ctx.record(
        seq,
        replace(spec, context={**spec.context, "llm": block}),
        response=response,
        source=PromptSource.LLM,
        answered_by=rater_name(str(block["model"])),
        requested_at=at,
        note=block.get("reason") or None,
    )


async def _ask(client: ChatClient, body: bytes, retries: int) -> Row:
    """Ask until a verdict or a refusal comes, at most 1 + `retries` times; the last
    malformed answer is what is recorded when none does."""
    calls = prompt_tokens = completion_tokens = 0
    answer: Completion | None = None
    problem = ""
    for _ in range(retries + 1):
        answer = await client.complete(body)
        calls += answer.attempts
        prompt_tokens += answer.prompt_tokens
        completion_tokens += answer.completion_tokens
        if answer.refusal is not None or answer.finish_reason == "content_filter":
            label, reason, problem = template.REFUSED, answer.refusal or "content filter", ""
            break
        try:
            verdict = template.parse_verdict(answer.content or "")
        except template.MalformedVerdict as err:
            problem = str(err)
            continue
        label, reason, problem = verdict.label, verdict.reason, ""
        break
    else:
        label, reason = template.MALFORMED, f"malformed answer: {problem}"
    assert answer is not None  # the loop ran at least once
    return {
        "model": answer.model,
        "requested_model": client.model,
        "label": label,
        "reason": reason[: template.MAX_REASON],
        "raw_response": (answer.content or answer.refusal or "")[:MAX_RAW],
        "finish_reason": answer.finish_reason,
        "latency_ms": answer.latency_ms,
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "calls": calls,
        "error": problem or None,
    }
