"""JSON laid out for people, written mostly by the C encoder.

`json.dumps(indent=2)` runs Python's own encoder (the C one serves only `indent=None`):
2.6 s for a 400-pillar report. Here the outer structure is indented as `indent=2`
would, and each object or array that holds no object (a passage, a paper's support, a
list of authors or of scores) is written on one line by the C encoder, its items
separated by ", ". Keys are sorted, non-ASCII is kept, NaN and infinities are refused,
so the text depends on the value alone: the same report gives the same bytes in any
process.
"""

import json
import math
from typing import Any

_INLINE = json.JSONEncoder(ensure_ascii=False, allow_nan=False, sort_keys=True)
_string = json.encoder.encode_basestring  # the C version where there is one
# One C encoder for every one-line value (a report has ~100,000): JSONEncoder.encode
# makes a new one per call. Its arguments are those JSONEncoder.iterencode gives it.
_C_ENCODER = getattr(json.encoder, "c_make_encoder", None)
_ONE_LINE = (
    _C_ENCODER(None, _INLINE.default, _string, None, ": ", ", ", True, False, False)
    if _C_ENCODER is not None
    else None
)


def _inline(value: Any) -> str:
    return "".join(_ONE_LINE(value, 0)) if _ONE_LINE is not None else _INLINE.encode(value)


def dumps(value: Any) -> str:
    """`value` as JSON text (no final newline). Raises ValueError for NaN or an infinity,
    TypeError for what JSON cannot hold or for a key of an indented object that is not a
    string."""
    # Into one list, joined once: each level joining its own children copied a 100 MB
    # report once per level.
    parts: list[str] = []
    _layout(value, "\n", parts)
    return "".join(parts)


def _holds_no_object(items: Any) -> bool:
    for item in items:
        if isinstance(item, dict) or (isinstance(item, list) and not _holds_no_object(item)):
            return False
    return True


def _scalar(value: Any) -> str:
    # The cheap cases by hand (one call per value of an indented object adds up); the
    # encoder for the rest, so that each is written exactly as it would write it.
    if isinstance(value, str):
        return _string(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if type(value) is int:
        return int.__repr__(value)
    if type(value) is float and math.isfinite(value):
        return float.__repr__(value)
    return _inline(value)


def _layout(value: Any, newline: str, out: list[str]) -> None:
    """Append `value`'s text to `out`; `newline` is a line break and the current indent."""
    if isinstance(value, dict):
        if _holds_no_object(value.values()):
            out.append(_inline(value))
            return
        for key in value:
            if not isinstance(key, str):
                raise TypeError(f"keys must be strings, not {type(key).__name__}: {key!r}")
        inner = newline + "  "
        separator = "{" + inner
        for key in sorted(value):
            out.append(separator + _string(key) + ": ")
            _layout(value[key], inner, out)
            separator = "," + inner
        out.append(newline + "}")
    elif isinstance(value, list):
        if _holds_no_object(value):
            out.append(_inline(value))
            return
        inner = newline + "  "
        separator = "[" + inner
        for item in value:
            out.append(separator)
            _layout(item, inner, out)
            separator = "," + inner
        out.append(newline + "]")
    else:
        out.append(_scalar(value))
