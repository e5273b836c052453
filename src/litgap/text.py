"""Text that may be kept: checked where it enters, and made safe where it is read back.

Everything litgap stores is shown again as UTF-8 (JSON answers, the WebSocket,
job_data.json, the export, the terminal). Two things a Python `str` can hold do not
survive that: a lone surrogate (U+D800..U+DFFF, which a JSON escape such as
`"\\ud800"` produces) and NUL (PostgreSQL refuses it in text). `check_json` refuses
them with the place they were found; `scrub` replaces them in what was stored before
these checks existed, so that one bad record cannot break a read of the others.
"""

import json
import re
from typing import Any

from litgap.exceptions import InvalidInput

MAX_DEPTH = 64  # no request or framework of litgap nests anywhere near this
_BAD = re.compile("[\x00\ud800-\udfff]")
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")

Place = tuple[str | int, ...]


class BadText(ValueError):
    """Text that cannot be stored; `place` is where, `reason` what."""

    def __init__(self, place: Place, reason: str) -> None:
        super().__init__(reason)
        self.place = place
        self.reason = reason


def problem(text: str) -> str | None:
    """Why `text` cannot be stored, or None when it can."""
    found = _BAD.search(text)
    if found is None:
        return None
    char, at = found.group(), found.start()
    if char == "\x00":
        return f"contains a NUL character (U+0000) at character {at}"
    return (
        f"contains a lone surrogate U+{ord(char):04X} at character {at}, "
        "which is not Unicode text (UTF-8 cannot hold it)"
    )


def find_bad(value: object, max_depth: int = MAX_DEPTH) -> BadText | None:
    """The first string (or key) in decoded JSON that cannot be stored, or a value
    nested deeper than `max_depth`. Walks without recursion."""
    stack: list[tuple[object, Place]] = [(value, ())]
    while stack:
        item, place = stack.pop()
        if isinstance(item, str):
            reason = problem(item)
            if reason is not None:
                return BadText(place, reason)
        elif isinstance(item, dict | list):
            if len(place) >= max_depth:
                return BadText(place, f"nested deeper than {max_depth} levels")
            if isinstance(item, dict):
                children: list[tuple[object, Place]] = []
                for key, child in item.items():
                    if isinstance(key, str) and (reason := problem(key)) is not None:
                        return BadText(place, f"the key {shown(key)} {reason}")
                    children.append((child, (*place, key)))
            else:
                children = [(child, (*place, i)) for i, child in enumerate(item)]
            stack.extend(reversed(children))
    return None


def describe(place: Place, root: str = "") -> str:
    parts = [root] if root else []
    parts.extend(shown(p) if isinstance(p, str) else str(p) for p in place)
    return " -> ".join(parts) or "body"


def check_json(value: object, root: str, max_depth: int = MAX_DEPTH) -> None:
    """Raise InvalidInput naming the place (`config -> pillar_selections -> 0: ...`)
    when decoded JSON holds text that cannot be stored or nests too deep."""
    bad = find_bad(value, max_depth)
    if bad is not None:
        raise InvalidInput(f"{describe(bad.place, root)}: {bad.reason}")


def check_text(value: str, place: str) -> str:
    """Return `value`, or raise InvalidInput naming `place`."""
    reason = problem(value)
    if reason is not None:
        raise InvalidInput(f"{place}: {reason}")
    return value


def shown(text: str) -> str:
    """`text` safe to put in a message: bad characters as escapes."""
    return _BAD.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def scrub(value: Any) -> Any:
    """`value` with every lone surrogate and NUL replaced by U+FFFD."""
    if isinstance(value, str):
        return _BAD.sub("\ufffd", value)
    if isinstance(value, list):
        return [scrub(v) for v in value]
    if isinstance(value, dict):
        return {scrub(k): scrub(v) for k, v in value.items()}
    return value


def loads_stored(raw: str | bytes) -> Any:
    """json.loads for what the store kept. Only a document that spells a surrogate
    escape is walked, so a clean one costs a substring search."""
    if isinstance(raw, bytes | bytearray | memoryview):
        raw = bytes(raw).decode("utf-8")  # psycopg hands JSON columns over as bytes
    value = json.loads(raw)
    if _ESCAPED_SURROGATE.search(raw) or "\\u0000" in raw:
        return scrub(value)
    return value
