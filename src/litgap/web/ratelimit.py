"""Failure counting per client address, for sign-in: after `limit` failures within
`window` seconds an address is refused until the oldest of them ages out."""

import math
import threading
import time
from collections import deque


class FailureLimiter:
    def __init__(self, limit: int = 10, window: float = 60.0, max_clients: int = 10_000) -> None:
        self.limit = limit
        self.window = window
        self.max_clients = max_clients
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, client: str, now: float) -> deque[float] | None:
        failures = self._failures.get(client)
        if failures is None:
            return None
        while failures and now - failures[0] >= self.window:
            failures.popleft()
        if not failures:
            del self._failures[client]
            return None
        return failures

    def retry_after(self, client: str) -> int:
        """Seconds until `client` may try again; 0 when it may now."""
        now = time.monotonic()
        with self._lock:
            failures = self._recent(client, now)
            if failures is None or len(failures) < self.limit:
                return 0
            return max(1, math.ceil(self.window - (now - failures[0])))

    def failed(self, client: str) -> None:
        now = time.monotonic()
        with self._lock:
            if client not in self._failures and len(self._failures) >= self.max_clients:
                # Bounded memory under a spray of addresses: forget the oldest-seen.
                self._failures.pop(next(iter(self._failures)))
            failures = self._recent(client, now) or self._failures.setdefault(client, deque())
            failures.append(now)
            while len(failures) > self.limit:
                failures.popleft()

    def clear(self, client: str) -> None:
        with self._lock:
            self._failures.pop(client, None)
