"""Job and prompt states, with the only transitions allowed between them."""

from enum import StrEnum


class JobStatus(StrEnum):
    DRAFT = "draft"
    QUEUED = "queued"
    RUNNING = "running"
    WAITING_INPUT = "waiting_input"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL

    @property
    def is_active(self) -> bool:
        return self in (JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.WAITING_INPUT)

    def can_become(self, target: "JobStatus") -> bool:
        return target in _JOB_TRANSITIONS[self]


_TERMINAL = frozenset(
    {JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.INTERRUPTED}
)
_ENDINGS = {JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.INTERRUPTED}
_JOB_TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.DRAFT: frozenset({JobStatus.QUEUED, JobStatus.CANCELLED}),
    JobStatus.QUEUED: frozenset({JobStatus.RUNNING, *_ENDINGS}),
    JobStatus.RUNNING: frozenset({JobStatus.WAITING_INPUT, JobStatus.COMPLETED, *_ENDINGS}),
    # A resumed job goes back to running from wherever it stopped.
    JobStatus.WAITING_INPUT: frozenset({JobStatus.RUNNING, *_ENDINGS}),
    JobStatus.COMPLETED: frozenset(),
    JobStatus.FAILED: frozenset(),
    JobStatus.CANCELLED: frozenset(),
    JobStatus.INTERRUPTED: frozenset({JobStatus.QUEUED}),
}


class PromptStatus(StrEnum):
    PENDING = "pending"
    ANSWERED = "answered"
    TIMED_OUT = "timed_out"
    CANCELLED = "cancelled"


class PromptSource(StrEnum):
    USER = "user"
    TIMEOUT_DEFAULT = "timeout_default"
    REPLAY = "replay"
    CLI = "cli"
    API = "api"
    # A model's verdict (llm/): answered_by names the model as its server reported it.
    LLM = "llm"
