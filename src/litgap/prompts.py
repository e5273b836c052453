"""The prompt broker: ask, answer, time out, cancel, list pending.

A prompt is stored as pending, with its deadline, before anyone is told of it. The
first valid answer wins by compare-and-set in the store, whichever process gives it.
The deadline lives in the store, so a restarted process still times a prompt out
at the right moment.
"""

import asyncio
import contextlib
import threading
from collections.abc import Callable
from typing import Any, NoReturn

import sqlalchemy as sa

from litgap.clock import after, iso, now_iso, parse_iso, utcnow
from litgap.events import EventBus, call_on
from litgap.exceptions import InvalidInput, PromptAlreadyResolved, UnknownPrompt
from litgap.ids import is_prompt_id, new_prompt_id
from litgap.records import pending_prompt, prompt_record
from litgap.responses import PromptSpec, as_text, fingerprint, validate_response
from litgap.settings import Settings
from litgap.status import PromptSource, PromptStatus
from litgap.store import prompts as rows
from litgap.store.documents import DocumentWriter
from litgap.text import check_text

Row = dict[str, Any]


class _Waiter:
    """One coroutine waiting for a prompt; a resolution in this process hands it the row."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.event = asyncio.Event()
        self.row: Row | None = None

    def wake(self, row: Row | None) -> None:
        self.row = row
        call_on(self.loop, self.event.set)


def _pending_row(
    job_id: str, seq: int, spec: PromptSpec, timeout_seconds: int, drift: str | None
) -> Row:
    requested = utcnow()
    return {
        "prompt_id": new_prompt_id(),
        "job_id": job_id,
        "seq": seq,
        "type": spec.type,
        "status": PromptStatus.PENDING.value,
        "prompt_data": spec.prompt_data(),
        "timeout_seconds": timeout_seconds,
        "requested_at": iso(requested),
        "deadline": iso(after(requested, timeout_seconds)),
        "fingerprint": fingerprint(spec.type, spec.message, spec.options),
        "drift": drift,
    }


def _elapsed_ms(requested_at: str, resolved_at: str) -> int:
    return round((parse_iso(resolved_at) - parse_iso(requested_at)).total_seconds() * 1000)


def _answered_fields(
    requested_at: str,
    value: object,
    source: PromptSource,
    answered_by: str | None,
    note: str | None,
    replayed_from: str | None,
) -> Row:
    """The columns an answer sets, resolved now: one shape for answers and records."""
    resolved_at = now_iso()
    return {
        "status": PromptStatus.ANSWERED.value,
        "resolved_at": resolved_at,
        "response": value,
        "applied": value,
        "applied_text": as_text(value),
        "source": source.value,
        "answered_by": answered_by,
        "note": note,
        "response_time_ms": _elapsed_ms(requested_at, resolved_at),
        "replayed_from": replayed_from,
    }


class PromptBroker:
    def __init__(
        self, engine: sa.Engine, docs: DocumentWriter, events: EventBus, settings: Settings
    ) -> None:
        self._engine = engine
        self._docs = docs
        self._events = events
        self._settings = settings
        self._lock = threading.Lock()
        self._signals: dict[str, list[_Waiter]] = {}
        # Prompts opened here and not yet resolved: what an answer is validated against
        # needs no read of the store (prompt_data never changes; the CAS still decides).
        self._open: dict[str, Row] = {}
        # Called with each resolved row; a queue executor continues suspended jobs here.
        self.on_resolved: list[Callable[[Row], None]] = []

    # -- asking ---------------------------------------------------------------

    def open(
        self,
        job_id: str,
        seq: int,
        spec: PromptSpec,
        timeout_seconds: int,
        *,
        drift: str | None = None,
        announce: bool = True,
    ) -> Row:
        """Store a pending prompt with its deadline, then announce it (unless the caller
        answers it at once, as a replay does)."""
        row = _pending_row(job_id, seq, spec, timeout_seconds, drift)
        rows.insert_prompt(self._engine, row)
        return self._opened(row, announce)

    async def open_async(
        self,
        job_id: str,
        seq: int,
        spec: PromptSpec,
        timeout_seconds: int,
        *,
        drift: str | None = None,
        announce: bool = True,
    ) -> Row:
        """open() for a coroutine: waits for the commit without holding a thread."""
        row = _pending_row(job_id, seq, spec, timeout_seconds, drift)
        await rows.insert_prompt_async(self._engine, row)
        return self._opened(row, announce)

    async def record_async(
        self,
        job_id: str,
        seq: int,
        spec: PromptSpec,
        timeout_seconds: int,
        *,
        response: object,
        source: PromptSource,
        answered_by: str | None,
        requested_at: str,
        note: str | None = None,
        replayed_from: str | None = None,
    ) -> Row:
        """Store a prompt already answered, in one insert: a decision nobody is asked,
        such as the model's verdict (llm/review.py) or an answer a replay or revision
        gives again (context.py). It is never pending, so no person can answer it, no
        client sees it as a question and no deadline can time it out. `response` None
        records that no verdict was given (`applied` null); any other is validated as an
        answer is.
        Raises InvalidResponse; a second record with this seq violates the store's
        unique (job_id, seq), so a verdict can never be recorded twice."""
        row = _pending_row(job_id, seq, spec, timeout_seconds, None)
        value = (
            None
            if response is None
            else validate_response(
                row["prompt_id"],
                row["prompt_data"],
                response,
                max_text_chars=self._settings.max_text_response_chars,
            )
        )
        row["requested_at"] = requested_at
        row.update(
            _answered_fields(
                requested_at,
                value,
                source,
                answered_by,
                note[: self._settings.max_note_chars] if note else None,
                replayed_from,
            )
        )
        await rows.insert_prompt_async(self._engine, row)
        self._docs.mark(job_id)
        # Told like any resolution (User Decisions updates live); no waiter, no hook:
        # nothing waits for a recorded verdict, and no suspended run needs waking.
        self._events.publish("prompt_resolved", {**prompt_record(row), "job_id": job_id})
        return row

    def _opened(self, row: Row, announce: bool) -> Row:
        with self._lock:
            self._open[row["prompt_id"]] = row
        if announce:
            self._events.publish("prompt_request", pending_prompt(row))
        return row

    # -- resolving ------------------------------------------------------------

    def get(self, prompt_id: str) -> Row:
        row = rows.get_prompt(self._engine, prompt_id) if is_prompt_id(prompt_id) else None
        if row is None:
            raise UnknownPrompt(prompt_id)
        return row

    def answer(
        self,
        prompt_id: str,
        response: object,
        *,
        source: PromptSource,
        answered_by: str | None = None,
        note: str | None = None,
        replayed_from: str | None = None,
    ) -> dict[str, Any]:
        """Record an answer. Raises UnknownPrompt, InvalidResponse (nothing written) or
        PromptAlreadyResolved (a second answer; nothing changes)."""
        with self._lock:
            row = self._open.get(prompt_id)
        row = row or self.get(prompt_id)
        values = self._answer_values(row, response, source, answered_by, note, replayed_from)
        if not rows.resolve(self._engine, prompt_id, values):
            self._lost(row)
        return self._answered(row, values)

    async def answer_async(
        self,
        prompt_id: str,
        response: object,
        *,
        source: PromptSource,
        answered_by: str | None = None,
        note: str | None = None,
    ) -> dict[str, Any]:
        """answer() for a coroutine: the commit is awaited, and the store is read (in a
        thread) only for a prompt that was not opened in this process."""
        with self._lock:
            row = self._open.get(prompt_id)
        if row is None:
            row = await asyncio.to_thread(self.get, prompt_id)
        values = self._answer_values(row, response, source, answered_by, note, None)
        if not await rows.resolve_async(self._engine, prompt_id, values):
            await asyncio.to_thread(self._lost, row)
        if self.on_resolved:  # hooks may block (a queue executor defers a run)
            return await asyncio.to_thread(self._answered, row, values)
        return self._answered(row, values)

    def _answer_values(
        self,
        row: Row,
        response: object,
        source: PromptSource,
        answered_by: str | None,
        note: str | None,
        replayed_from: str | None,
    ) -> Row:
        prompt_id = row["prompt_id"]
        if row["status"] != PromptStatus.PENDING:
            raise PromptAlreadyResolved(prompt_id, row["status"])
        if note is not None and len(note) > self._settings.max_note_chars:
            raise InvalidInput(
                f"note is {len(note)} characters; the limit is {self._settings.max_note_chars}"
            )
        if note is not None:
            check_text(note, "note")
        value = validate_response(
            prompt_id,
            row["prompt_data"],
            response,
            max_text_chars=self._settings.max_text_response_chars,
        )
        return _answered_fields(
            row["requested_at"], value, source, answered_by, note or None, replayed_from
        )

    def _lost(self, row: Row) -> NoReturn:
        """Someone resolved the prompt first: say how it ended."""
        current = rows.get_prompt(self._engine, row["prompt_id"]) or row
        raise PromptAlreadyResolved(row["prompt_id"], current["status"])

    def _answered(self, row: Row, values: Row) -> dict[str, Any]:
        return {**self._resolved({**row, **values}), "job_id": row["job_id"]}

    def expire(self, prompt_id: str) -> Row | None:
        """Time the prompt out if its deadline has passed; returns the resolved row, or
        None when it is not due (or was resolved by someone else first)."""
        row = rows.get_prompt(self._engine, prompt_id)
        if row is None or row["status"] != PromptStatus.PENDING:
            return None
        now = now_iso()
        if now < row["deadline"]:
            return None
        default = row["prompt_data"].get("default")
        values: Row = {
            "status": PromptStatus.TIMED_OUT.value,
            "resolved_at": now,
            "response": None,
            "applied": default,
            "applied_text": as_text(default),
            "source": PromptSource.TIMEOUT_DEFAULT.value if default is not None else None,
            "response_time_ms": _elapsed_ms(row["requested_at"], now),
        }
        if not rows.resolve(self._engine, prompt_id, values):
            return None
        full = {**row, **values}
        self._resolved(full)
        return full

    def expire_overdue(self) -> int:
        """Time out every prompt whose deadline has passed (a sweep after a restart)."""
        count = 0
        for row in rows.overdue(self._engine, now_iso()):
            if self.expire(row["prompt_id"]) is not None:
                count += 1
        return count

    def cancel_job(self, job_id: str) -> None:
        for prompt_id in rows.cancel_pending(self._engine, job_id, now_iso()):
            with self._lock:
                self._open.pop(prompt_id, None)
            self._events.publish(
                "prompt_resolved",
                {"prompt_id": prompt_id, "job_id": job_id, "status": "cancelled"},
            )
            self._signal(prompt_id, None)
        self._docs.mark(job_id)

    def _resolved(self, row: Row) -> dict[str, Any]:
        with self._lock:
            self._open.pop(row["prompt_id"], None)
        record = prompt_record(row)
        self._docs.mark(row["job_id"])
        self._events.publish("prompt_resolved", {**record, "job_id": row["job_id"]})
        self._signal(row["prompt_id"], row)
        for hook in self.on_resolved:
            hook(row)
        return record

    # -- waiting --------------------------------------------------------------

    def _signal(self, prompt_id: str, row: Row | None) -> None:
        with self._lock:
            waiters = list(self._signals.get(prompt_id, []))
        for waiter in waiters:
            waiter.wake(row)

    async def wait(self, prompt_id: str, known: Row | None = None) -> Row:
        """Wait until the prompt is resolved (answered here or in another process, timed
        out at its stored deadline, or cancelled) and return its row. `known` is the
        row as the caller last read it, which spares the first look at the store."""
        entry = _Waiter()
        with self._lock:
            self._signals.setdefault(prompt_id, []).append(entry)
            # Still open here, so any resolution in this process will signal us now.
            if known is not None and prompt_id in self._open:
                entry.row = known
        try:
            while True:
                row = entry.row or self.get(prompt_id)
                entry.row = None
                if row["status"] != PromptStatus.PENDING:
                    return row
                remaining = (parse_iso(row["deadline"]) - utcnow()).total_seconds()
                if remaining <= 0:
                    self.expire(prompt_id)
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        entry.event.wait(),
                        timeout=min(remaining, self._settings.prompt_poll_seconds),
                    )
                entry.event.clear()
        finally:
            with self._lock:
                waiters = self._signals.get(prompt_id, [])
                if entry in waiters:
                    waiters.remove(entry)
                if not waiters:
                    self._signals.pop(prompt_id, None)

    def pending(self, job_id: str | None = None) -> list[dict[str, Any]]:
        return [pending_prompt(r) for r in rows.pending(self._engine, job_id)]
