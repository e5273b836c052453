"""What a prompt shows and which answers it accepts.

A prompt's `prompt_data` is its own schema: `message`, `options`, `default`,
`multiple`, plus context (`iteration`, `gap_count`, `details`). A response is checked
against it before anything is written.
"""

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from litgap.exceptions import InvalidResponse

# Values of a multi-select that mean "this and nothing else".
SPECIAL_VALUES = frozenset({"ALL", "DEEP", "NONE"})

Response = str | list[str]


@dataclass(frozen=True)
class PromptSpec:
    type: str
    message: str
    options: list[str]
    default: Response | None = None
    multiple: bool = False
    context: dict[str, Any] = field(default_factory=dict)

    def prompt_data(self) -> dict[str, Any]:
        return {
            "message": self.message,
            "options": list(self.options),
            "default": self.default,
            "multiple": self.multiple,
            **self.context,
        }


def fingerprint(prompt_type: str, message: str, options: list[str]) -> str:
    """Identifies what the user was shown: replay answers only a prompt that matches."""
    shown = json.dumps([prompt_type, message, list(options)], ensure_ascii=False)
    return hashlib.sha256(shown.encode()).hexdigest()


def _match_option(value: str, options: list[str]) -> str | None:
    if value in options:
        return value
    folded = [o for o in options if o.casefold() == value.casefold()]
    return folded[0] if len(folded) == 1 else None


def validate_response(
    prompt_id: str, prompt_data: dict[str, Any], response: object, *, max_text_chars: int
) -> Response:
    """Return the response in its canonical spelling, or raise InvalidResponse naming
    the allowed values."""
    options: list[str] = list(prompt_data.get("options") or [])
    multiple = bool(prompt_data.get("multiple"))
    if not options:
        if not isinstance(response, str):
            raise InvalidResponse(prompt_id, f"expected text, got {type(response).__name__}")
        if not response.strip():
            raise InvalidResponse(prompt_id, "the response is empty")
        if len(response) > max_text_chars:
            raise InvalidResponse(
                prompt_id, f"{len(response)} characters; the limit is {max_text_chars}"
            )
        return response
    if isinstance(response, str):
        chosen = _match_option(response, options)
        if chosen is None:
            raise InvalidResponse(prompt_id, f"{response[:100]!r} is not an option", options)
        return chosen
    if isinstance(response, list) and multiple:
        return _validate_many(prompt_id, response, options)
    expected = "an option or a list of options" if multiple else "one option as a string"
    raise InvalidResponse(prompt_id, f"expected {expected}, got {type(response).__name__}", options)


def _validate_many(prompt_id: str, response: list[Any], options: list[str]) -> list[str]:
    if not response:
        raise InvalidResponse(prompt_id, "choose at least one option", options)
    chosen: list[str] = []
    for item in response:
        if not isinstance(item, str):
            raise InvalidResponse(prompt_id, f"{item!r} is not a string", options)
        match = _match_option(item, options)
        if match is None:
            raise InvalidResponse(prompt_id, f"{item[:100]!r} is not an option", options)
        if match in chosen:
            raise InvalidResponse(prompt_id, f"{match!r} is chosen twice", options)
        chosen.append(match)
    special = [c for c in chosen if c in SPECIAL_VALUES]
    if special and len(chosen) > 1:
        raise InvalidResponse(
            prompt_id, f"{special[0]!r} stands alone; it cannot be combined with other options"
        )
    return chosen


def as_text(value: object) -> str | None:
    """One string per applied value, for the cross-job decision index."""
    if value is None:
        return None
    if isinstance(value, list):
        return "|".join(str(v) for v in value)[:500]
    return str(value)[:500]
