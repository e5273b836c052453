"""Settings, read once from the environment (LITGAP_*); unsafe or bad values fail at start."""

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROMPT_TYPES = ("pillar_selection", "run_mode", "continue", "evidence_review", "screening")
DEFAULT_TIMEOUTS = {
    "pillar_selection": 300,
    "run_mode": 120,
    "continue": 60,
    "evidence_review": 300,
    "screening": 300,
}
MIN_TIMEOUT, MAX_TIMEOUT = 1, 86400
# Settings that decide what a job does, read by whichever process runs it (a worker, in
# a cluster). A job keeps the values of the process that created it (`job_values`, in
# its stored config) and every run of it applies them (`for_job`), so a dashboard and
# its workers cannot disagree about a job's timeouts or reading limits.
JOB_SETTINGS = (
    "prompt_timeouts",
    "max_pdf_pages",
    "max_file_seconds",
    "max_file_chars",
    "screening_reasons",
)
MAX_REASON_CHARS, MAX_REASONS = 60, 30


def check_timeouts(timeouts: dict[str, int]) -> dict[str, int]:
    """Validate a mapping of prompt type -> seconds, naming the bad key on error."""
    for key, value in timeouts.items():
        if key not in PROMPT_TYPES:
            raise ValueError(
                f"prompt_timeouts.{key}: unknown prompt type; expected one of {list(PROMPT_TYPES)}"
            )
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"prompt_timeouts.{key}: expected whole seconds, got {value!r}")
        if not MIN_TIMEOUT <= value <= MAX_TIMEOUT:
            raise ValueError(
                f"prompt_timeouts.{key}: {value} is out of range {MIN_TIMEOUT}..{MAX_TIMEOUT} s"
            )
    return timeouts


def check_reasons(reasons: list[str]) -> list[str]:
    """Validate the team's screening reasons (1 to MAX_REASON_CHARS characters, one line,
    each once), naming the bad one on error."""
    seen: set[str] = set()
    for i, reason in enumerate(reasons):
        one_line = reason == " ".join(reason.split())
        if not reason or len(reason) > MAX_REASON_CHARS or not one_line:
            raise ValueError(
                f"screening_reasons.{i}: {reason[:80]!r} must be 1 to {MAX_REASON_CHARS} "
                "characters on one line, without leading, trailing or double spaces"
            )
        if reason.casefold() in seen:
            raise ValueError(f"screening_reasons.{i}: {reason!r} is listed twice")
        seen.add(reason.casefold())
    return reasons


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LITGAP_", extra="ignore")

    workspace: Path = Path("workspace")
    database_url: str | None = None
    prompt_timeouts: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_TIMEOUTS))
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    max_upload_bytes: int = Field(default=100 * 1024 * 1024, ge=1)
    # Every request body that is not an upload (answers, the sample job, sign-in).
    max_json_bytes: int = Field(default=1024 * 1024, ge=1024)
    max_note_chars: int = Field(default=2000, ge=1)
    max_text_response_chars: int = Field(default=2000, ge=1)
    max_pdf_pages: int = Field(default=2000, ge=1)
    # Bounds on reading one corpus file (pipeline.ingest.Limits): a file over one is
    # skipped with a reason naming it, and the job goes on.
    max_file_seconds: float = Field(default=30.0, gt=0)
    max_file_chars: int = Field(default=5_000_000, ge=1)
    # Seconds between store checks while a prompt waits: catches answers given by
    # another process (CLI, a second server) when no in-process signal arrives.
    prompt_poll_seconds: float = Field(default=1.0, gt=0)
    # The team's own reasons for excluding a paper at screening, offered after the
    # defaults (screening.DEFAULT_REASONS): a JSON list of short texts.
    screening_reasons: list[str] = Field(default_factory=list, max_length=MAX_REASONS)
    secure_cookies: bool = False
    # Who runs jobs: this process (inprocess), or `litgap worker` processes (queue,
    # which needs a PostgreSQL database_url).
    executor: Literal["inprocess", "queue"] = "inprocess"
    # Cluster mode: how often a worker says it is alive, and how long a silent worker
    # is given before its jobs are handed to another worker.
    worker_heartbeat_seconds: float = Field(default=10.0, gt=0)
    worker_stalled_seconds: float = Field(default=60.0, gt=0)
    # Worker processes that run job work (reading, scoring, rendering) outside the
    # serving process's event loop and GIL, shared by all jobs of a process.
    analysis_processes: int = Field(
        default_factory=lambda: min(2, os.cpu_count() or 1), ge=1, le=64
    )

    @field_validator("prompt_timeouts", mode="before")
    @classmethod
    def _merge_defaults(cls, value: object) -> object:
        if isinstance(value, dict):
            return {**DEFAULT_TIMEOUTS, **value}
        return value

    @field_validator("prompt_timeouts")
    @classmethod
    def _check_timeouts(cls, value: dict[str, int]) -> dict[str, int]:
        return check_timeouts(value)

    @field_validator("screening_reasons")
    @classmethod
    def _check_reasons(cls, value: list[str]) -> list[str]:
        return check_reasons(value)

    @model_validator(mode="after")
    def _check_cluster(self) -> "Settings":
        if self.executor == "queue" and not self.db_url.startswith("postgresql"):
            raise ValueError(
                "executor=queue needs a PostgreSQL database_url "
                f"(postgresql+psycopg://...), got {self.db_url.split('@')[-1]!r}"
            )
        if self.worker_stalled_seconds < 2 * self.worker_heartbeat_seconds:
            raise ValueError(
                f"worker_stalled_seconds ({self.worker_stalled_seconds}) must be at least twice "
                f"worker_heartbeat_seconds ({self.worker_heartbeat_seconds})"
            )
        return self

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.workspace / 'litgap.db').resolve()}"

    @property
    def jobs_dir(self) -> Path:
        return self.workspace / "jobs"

    def job_values(self) -> dict[str, Any]:
        """What a new job keeps of these settings (JOB_SETTINGS)."""
        return self.model_dump(mode="json", include=set(JOB_SETTINGS))

    def for_job(self, values: Mapping[str, Any]) -> "Settings":
        """These settings with a job's kept values in place of this process's own."""
        kept = {key: values[key] for key in JOB_SETTINGS if key in values}
        return self.model_copy(update=kept) if kept else self
