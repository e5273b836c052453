"""In-process event bus: job_update, prompt_request, prompt_resolved.

Publishers may be on any thread; each subscriber is a queue drained on its own loop.
A subscriber may bound its queue (the WebSocket does): one that falls that far behind
is marked `overflowed` and gets nothing more, so a slow client costs a bounded amount
of memory; it reconnects and starts from a fresh snapshot. Unbounded subscribers (a
terminal watching its own job) lose nothing.
"""

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

Event = dict[str, Any]


def call_on(loop: asyncio.AbstractEventLoop, callback: Callable[..., Any], *args: Any) -> None:
    """Run `callback` on `loop`: now when we are on it, else at its next turn. A closed
    loop (its subscriber is gone) is skipped."""
    if loop.is_closed():
        return
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        callback(*args)
    else:
        # The loop may close between the check and the call.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(callback, *args)


class Subscription:
    """One subscriber's events, in order. With a `limit`, the first event that finds
    the queue full sets `overflowed` and is dropped, as is every later one."""

    def __init__(self, limit: int | None = None) -> None:
        self._queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=limit or 0)
        self.overflowed = asyncio.Event()

    def offer(self, event: Event) -> None:
        """Called on the subscriber's loop."""
        if self.overflowed.is_set():
            return
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed.set()

    async def get(self) -> Event:
        return await self._queue.get()

    def qsize(self) -> int:
        return self._queue.qsize()

    def empty(self) -> bool:
        return self._queue.empty()


class EventBus:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: list[tuple[asyncio.AbstractEventLoop, Subscription]] = []
        self._listeners: list[Callable[[Event], None]] = []

    def publish(self, kind: str, data: dict[str, Any], *, relayed: bool = False) -> None:
        """Deliver an event to this process's subscribers; listeners (which carry events
        to other processes) are skipped for an event that came from elsewhere."""
        event: Event = {"type": kind, "data": data}
        with self._lock:
            subscribers = list(self._subscribers)
            listeners = list(self._listeners)
        for loop, subscription in subscribers:
            call_on(loop, subscription.offer, event)
        if relayed:
            return
        for listener in listeners:
            listener(event)

    def listen(self, listener: Callable[[Event], None]) -> None:
        """Call `listener` synchronously for every event (on the publisher's thread)."""
        with self._lock:
            self._listeners.append(listener)

    @asynccontextmanager
    async def subscribe(self, limit: int | None = None) -> AsyncIterator[Subscription]:
        """This process's events from now on, until the block ends; `limit` bounds
        how many may wait unread (see Subscription)."""
        subscription = Subscription(limit)
        entry = (asyncio.get_running_loop(), subscription)
        with self._lock:
            self._subscribers.append(entry)
        try:
            yield subscription
        finally:
            with self._lock:
                self._subscribers.remove(entry)
