"""Runners that take a queued job and run its flow."""

from typing import Protocol


class Executor(Protocol):
    def submit(self, job_id: str) -> None: ...

    def cancel(self, job_id: str) -> bool: ...
