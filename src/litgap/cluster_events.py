"""Events across processes, for the cluster: PostgreSQL NOTIFY and LISTEN.

Every process of a cluster NOTIFYs the events its own code publishes (a listener on
its `EventBus`), tagged with the process's origin. A dashboard also LISTENs, and
republishes what the other processes sent into its local bus as relayed events: its
WebSocket forwards them, and they are not notified again. So a prompt asked on a
worker reaches the browser as soon as the worker has stored it; nothing polls.

A NOTIFY payload must stay under 8000 bytes. An event that does not fit travels as a
reference (its kind and ids), and the receiving side reads the rows from the store.
Events are announcements, not records: one lost while a dashboard reconnects to the
database is not replayed (a browser that reconnects starts from a snapshot anyway).
"""

import asyncio
import contextlib
import json
import logging
import queue
import threading
import uuid
from typing import Any

import sqlalchemy as sa

try:
    import psycopg
except ImportError as err:  # the embedded default is installed without it
    raise ImportError(
        "cluster events need the `cluster` extra (psycopg is missing): "
        "pip install 'litgap[cluster]'"
    ) from err

from litgap.events import Event
from litgap.records import job_public, pending_prompt, prompt_record
from litgap.runtime import Runtime
from litgap.store import jobs as job_rows
from litgap.store import prompts as prompt_rows

log = logging.getLogger(__name__)

CHANNEL = "litgap_events"
MAX_PAYLOAD = 7900  # bytes; PostgreSQL refuses 8000 and more
REFERENCE_FIELDS = ("job_id", "prompt_id", "status")
_STOP = object()


def encode(event: Event, origin: str) -> str:
    """The NOTIFY payload of an event: the event itself, or a reference when too big."""
    full = json.dumps(
        {"origin": origin, "type": event["type"], "data": event["data"]},
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )
    if len(full.encode()) <= MAX_PAYLOAD:
        return full
    data = event["data"]
    ref = {key: data[key] for key in REFERENCE_FIELDS if isinstance(data.get(key), str)}
    return json.dumps({"origin": origin, "type": event["type"], "ref": ref})


def decode(payload: str) -> dict[str, Any] | None:
    try:
        message = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        return None
    return message


def resolve_reference(engine: sa.Engine, kind: str, ref: dict[str, Any]) -> dict[str, Any] | None:
    """Rebuild an event that travelled as a reference, from the store as it is now."""
    if kind == "job_update" and ref.get("job_id"):
        return job_public(job_rows.get_job(engine, ref["job_id"]))
    row = prompt_rows.get_prompt(engine, ref["prompt_id"]) if ref.get("prompt_id") else None
    if row is None:
        return None
    if kind == "prompt_request":
        return pending_prompt(row)
    if kind == "prompt_resolved":
        return {**prompt_record(row), "job_id": row["job_id"]}
    return None


class Notifier:
    """Sends this process's events, in order, from a thread of its own: a publisher (a
    pipeline thread, the event loop) never waits for the database."""

    def __init__(self, dsn: str, origin: str) -> None:
        self._dsn = dsn
        self._origin = origin
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name="event-notify", daemon=True)
        self._thread.start()

    def __call__(self, event: Event) -> None:
        self._queue.put(encode(event, self._origin))

    def close(self, timeout: float = 10.0) -> None:
        """Send what is queued, then stop."""
        self._queue.put(_STOP)
        self._thread.join(timeout)

    def _loop(self) -> None:
        conn: psycopg.Connection[Any] | None = None
        try:
            while True:
                item = self._queue.get()
                if item is _STOP:
                    return
                batch = [item]
                with contextlib.suppress(queue.Empty):
                    while len(batch) < 100:
                        batch.append(self._queue.get_nowait())
                stop = _STOP in batch
                conn = self._send([p for p in batch if isinstance(p, str)], conn)
                if stop:
                    return
        finally:
            if conn is not None:
                conn.close()

    def _send(
        self, payloads: list[str], conn: psycopg.Connection[Any] | None
    ) -> psycopg.Connection[Any] | None:
        for attempt in (1, 2):
            try:
                if conn is None or conn.closed:
                    conn = psycopg.connect(self._dsn, autocommit=True)
                # One transaction: the batch is delivered together, at its commit.
                with conn.transaction(), conn.cursor() as cur:
                    cur.executemany("SELECT pg_notify(%s, %s)", [(CHANNEL, p) for p in payloads])
                return conn
            except psycopg.Error as err:
                if conn is not None:
                    conn.close()
                conn = None
                if attempt == 2:
                    log.warning("could not notify %d events: %s", len(payloads), err)
        return conn


class EventBridge:
    """Connects a process's `EventBus` to the cluster: NOTIFY what it publishes and,
    with `listen`, republish what the others notify."""

    def __init__(self, runtime: Runtime, dsn: str, *, listen: bool) -> None:
        self._rt = runtime
        self._dsn = dsn
        self._listen_enabled = listen
        self.origin = uuid.uuid4().hex[:16]
        self._notifier: Notifier | None = None
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def start(self, timeout: float = 30.0) -> None:
        """Start notifying; with `listen`, return once LISTEN is in place."""
        self._notifier = Notifier(self._dsn, self.origin)
        self._rt.events.listen(self._notifier)
        if self._listen_enabled:
            self._task = asyncio.create_task(self._listen(), name="event-listen")
            await asyncio.wait_for(self._ready.wait(), timeout)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._notifier is not None:
            await asyncio.to_thread(self._notifier.close)

    async def _listen(self) -> None:
        delay = 0.2
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self._dsn, autocommit=True
                ) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self._ready.set()
                    delay = 0.2
                    async for notify in conn.notifies():
                        await self._relay(notify.payload)
            except psycopg.Error as err:
                log.warning("listening for cluster events: %s; again in %.1f s", err, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _relay(self, payload: str) -> None:
        message = decode(payload)
        if message is None or message.get("origin") == self.origin:
            return
        kind = message["type"]
        data = message.get("data")
        if not isinstance(data, dict):
            try:
                data = await asyncio.to_thread(
                    resolve_reference, self._rt.engine, kind, message.get("ref") or {}
                )
            except Exception:  # a row gone meanwhile: the event has nothing left to say
                log.exception("could not read the %s event %r", kind, message.get("ref"))
                return
        if data is not None:
            self._rt.events.publish(kind, data, relayed=True)
