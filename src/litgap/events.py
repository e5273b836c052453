"""In-process event bus: job_update, prompt_request, prompt_resolved.

Publishers may be on any thread; each subscriber is an asyncio queue drained on its
own loop. Slow subscribers lose nothing: queues are unbounded, and a reconnecting
client starts from a snapshot anyway.
"""

import asyncio
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
        loop.call_soon_threadsafe(callback, *args)


class EventBus:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queues: list[tuple[asyncio.AbstractEventLoop, asyncio.Queue[Event]]] = []
        self._listeners: list[Callable[[Event], None]] = []

    def publish(self, kind: str, data: dict[str, Any], *, relayed: bool = False) -> None:
        """Deliver an event to this process's subscribers; listeners (which carry events
        to other processes) are skipped for an event that came from elsewhere."""
        event: Event = {"type": kind, "data": data}
        with self._lock:
            queues = list(self._queues)
            listeners = list(self._listeners)
        for loop, queue in queues:
            call_on(loop, queue.put_nowait, event)
        if relayed:
            return
        for listener in listeners:
            listener(event)

    def listen(self, listener: Callable[[Event], None]) -> None:
        """Call `listener` synchronously for every event (on the publisher's thread)."""
        with self._lock:
            self._listeners.append(listener)

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator["asyncio.Queue[Event]"]:
        queue: asyncio.Queue[Event] = asyncio.Queue()
        entry = (asyncio.get_running_loop(), queue)
        with self._lock:
            self._queues.append(entry)
        try:
            yield queue
        finally:
            with self._lock:
                self._queues.remove(entry)
