"""Identifiers: generated here, validated here, before any of them touches a path."""

import re
import secrets

from litgap.exceptions import InvalidJobId

JOB_ID_RE = re.compile(r"^job_[a-z0-9]{6,32}$")
PROMPT_ID_RE = re.compile(r"^prompt_[a-z0-9]{6,32}$")
_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def _token(length: int) -> str:
    # One call to the OS for all the randomness; 36 symbols from bytes is close enough
    # to uniform (256 % 36 = 4) for ids that only need to be unique.
    return "".join(_ALPHABET[b % 36] for b in secrets.token_bytes(length))


def new_job_id() -> str:
    return f"job_{_token(12)}"


def new_prompt_id() -> str:
    return f"prompt_{_token(12)}"


def validate_job_id(job_id: str) -> str:
    """Return `job_id` unchanged, or raise InvalidJobId when it is not a job id."""
    if not isinstance(job_id, str) or not JOB_ID_RE.fullmatch(job_id):
        raise InvalidJobId(job_id)
    return job_id


def is_prompt_id(prompt_id: str) -> bool:
    return bool(PROMPT_ID_RE.fullmatch(prompt_id))
