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
from litgap.text import problem as text_problem

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


class _Options:
    """A prompt's options indexed once, so that checking an answer of any length costs
    one lookup per chosen value, not a pass over the options."""

    def __init__(self, options: list[str]) -> None:
        self.options = options
        self.exact = set(options)
        self.folded: dict[str, str | None] = {}
        for option in options:
            key = option.casefold()
            # Two options that differ only in case: only their exact spelling matches.
            self.folded[key] = None if key in self.folded else option

    def match(self, value: str) -> str | None:
        if value in self.exact:
            return value
        return self.folded.get(value.casefold())


def _match_option(value: str, options: list[str]) -> str | None:
    return _Options(options).match(value)


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
        if len(response) > max_text_chars:
            raise InvalidResponse(
                prompt_id, f"{len(response)} characters; the limit is {max_text_chars}"
            )
        if not response.strip():
            raise InvalidResponse(prompt_id, "the response is empty")
        reason = text_problem(response)
        if reason is not None:
            raise InvalidResponse(prompt_id, f"the text {reason}")
        return response
    if isinstance(response, str):
        chosen = _match_option(response, options)
        if chosen is None:
            raise InvalidResponse(prompt_id, f"{_shown(response)} is not an option", options)
        return chosen
    if isinstance(response, list) and multiple:
        if not response and prompt_data.get("min_choices") == 0:
            return []  # a prompt that allows choosing none (evidence_review: reject all)
        if len(response) > len(options):
            # No option may be chosen twice, so a longer list cannot be valid.
            raise InvalidResponse(
                prompt_id, f"{len(response)} values chosen; there are {len(options)} options"
            )
        return _validate_many(prompt_id, response, _Options(options))
    expected = "an option or a list of options" if multiple else "one option as a string"
    raise InvalidResponse(prompt_id, f"expected {expected}, got {type(response).__name__}", options)


def _validate_many(prompt_id: str, response: list[Any], index: _Options) -> list[str]:
    options = index.options
    if not response:
        raise InvalidResponse(prompt_id, "choose at least one option", options)
    chosen: list[str] = []
    seen: set[str] = set()
    for item in response:
        if not isinstance(item, str):
            raise InvalidResponse(prompt_id, f"{repr(item)[:100]} is not a string", options)
        match = index.match(item)
        if match is None:
            raise InvalidResponse(prompt_id, f"{_shown(item)} is not an option", options)
        if match in seen:
            raise InvalidResponse(prompt_id, f"{match!r} is chosen twice", options)
        seen.add(match)
        chosen.append(match)
    special = [c for c in chosen if c in SPECIAL_VALUES]
    if special and len(chosen) > 1:
        raise InvalidResponse(
            prompt_id, f"{special[0]!r} stands alone; it cannot be combined with other options"
        )
    return chosen


def _shown(value: str) -> str:
    return repr(value[:100])  # repr escapes what cannot be shown (surrogates, controls)


def as_text(value: object) -> str | None:
    """One string per applied value, for the cross-job decision index."""
    if value is None:
        return None
    if isinstance(value, list):
        return "|".join(str(v) for v in value)[:500]
    return str(value)[:500]
