"""How a model's verdict is told apart in any record (no import of the client: the
serving process's readers use these)."""

from collections.abc import Mapping
from typing import Any

RATER_PREFIX = "llm:"  # no user name has a colon, so a model never passes for a person


def is_model_record(record: Mapping[str, Any]) -> bool:
    """A record holding a model's verdict (also a replay's copy of one)."""
    data = record.get("prompt_data")
    return isinstance(data, dict) and isinstance(data.get("llm"), dict)


def model_label(record: Mapping[str, Any]) -> str | None:
    """supports / does_not_support / unclear / malformed / refused, or None."""
    return str(record["prompt_data"]["llm"].get("label")) if is_model_record(record) else None


def rater_name(model: str) -> str:
    """How the model is named as a rater (`answered_by`, agreement)."""
    return f"{RATER_PREFIX}{model}"[:100]


def is_model_rater(name: str | None) -> bool:
    return bool(name) and str(name).startswith(RATER_PREFIX)
