"""Every error litgap raises on purpose, named for its condition.

Each carries an HTTP status so that one handler can turn any of them into a
precise JSON answer; the CLI prints the same message.
"""

from typing import Any


class LitgapError(Exception):
    status_code = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidJobId(LitgapError):
    status_code = 404

    def __init__(self, job_id: object) -> None:
        shown = repr(job_id)[:80]
        super().__init__(f"invalid job id {shown}: expected job_ followed by 6-32 [a-z0-9]")


class UnknownJob(LitgapError):
    status_code = 404

    def __init__(self, job_id: str) -> None:
        super().__init__(f"unknown job {job_id!r}")


class UnknownPrompt(LitgapError):
    status_code = 404

    def __init__(self, prompt_id: str) -> None:
        super().__init__(f"unknown prompt {prompt_id[:80]!r}")


class PromptAlreadyResolved(LitgapError):
    status_code = 409

    def __init__(self, prompt_id: str, status: str) -> None:
        super().__init__(f"prompt {prompt_id!r} is already {status}; its answer cannot change")


class InvalidResponse(LitgapError):
    status_code = 422

    def __init__(self, prompt_id: str, reason: str, allowed: list[str] | None = None) -> None:
        message = f"invalid response to prompt {prompt_id!r}: {reason}"
        if allowed:
            message += "; allowed values: " + ", ".join(repr(a) for a in allowed)
        super().__init__(message)
        self.allowed = allowed or []


class InvalidTransition(LitgapError):
    status_code = 409

    def __init__(self, job_id: str, current: str, target: str) -> None:
        super().__init__(f"job {job_id!r} is {current}; it cannot become {target}")


class InvalidInput(LitgapError):
    status_code = 422


class PayloadTooLarge(LitgapError):
    status_code = 413


class NotReplayable(LitgapError):
    status_code = 409


class NotContinuable(LitgapError):
    status_code = 409


class NotRevisable(LitgapError):
    status_code = 409


class NoEvidence(LitgapError):
    """The job has no report with evidence (not finished, or made before schema 2)."""

    status_code = 409


class UnknownEvidence(LitgapError):
    status_code = 404


class AuthenticationRequired(LitgapError):
    status_code = 401


class PermissionDenied(LitgapError):
    status_code = 403


class DocumentWriteError(LitgapError):
    status_code = 507

    def __init__(self, path: Any, reason: str) -> None:
        super().__init__(f"could not write {path}: {reason}; the previous file is intact")


class UnknownResultFile(LitgapError):
    status_code = 404

    def __init__(self, job_id: str, name: str) -> None:
        super().__init__(f"job {job_id!r} has no result file {name[:100]!r}")
