"""The pillar framework: pillars → requirements → sub-requirements, read from JSON.

The file format is the original Literature-Review one, unchanged::

    {"Pillar 1: Name": {"description": "...", "keywords": ["..."],
                        "requirements": {"REQ-B1.1: Name": ["Sub-1.1.1: text", ...]},
                        ...any other keys...},
     "Framework_Overview": {...}, ...}

A top-level key is a pillar when its name starts with "Pillar" or when its value is
shaped like one (an object whose "requirements" is an object); every other key is a
non-pillar section (`Framework_Overview`, `Cross_Cutting_Requirements`,
`Success_Criteria`, ...), kept by name and never offered for analysis.
"""

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from litgap.pipeline.errors import FrameworkError
from litgap.pipeline.ingest.text import NotText, decode_text
from litgap.text import MAX_DEPTH, find_bad, shown

# Selection values of the pillar prompt: a pillar may not be spelled like one, or
# ticking it would mean something else.
RESERVED_NAMES = frozenset({"ALL", "DEEP", "NONE"})

# "REQ-B1.1: Sensory Transduction" / "Sub-1.1.1: Conclusive model ..." → (id, text).
_LABELLED = re.compile(
    r"^\s*([A-Za-z][A-Za-z0-9_]*-[A-Za-z0-9_.\-]*[A-Za-z0-9_])\s*:\s*(.*?)\s*$", re.S
)


class PillarSpec(BaseModel):
    """One pillar as the file spells it; unknown keys (metrics, criteria) are allowed."""

    model_config = ConfigDict(extra="allow", strict=True)

    description: str = ""
    keywords: list[str] = Field(default_factory=list)
    requirements: dict[str, list[str]]


@dataclass(frozen=True)
class SubRequirement:
    id: str
    text: str
    label: str  # as written in the file


@dataclass(frozen=True)
class Requirement:
    id: str
    name: str
    label: str
    subs: tuple[SubRequirement, ...]


@dataclass(frozen=True)
class Pillar:
    name: str
    description: str
    keywords: tuple[str, ...]
    requirements: tuple[Requirement, ...]

    def sub_requirements(self) -> list[tuple[Requirement, SubRequirement]]:
        return [(req, sub) for req in self.requirements for sub in req.subs]


@dataclass(frozen=True)
class Framework:
    pillars: tuple[Pillar, ...]
    sections: tuple[str, ...]  # non-pillar top-level keys, in file order
    source: str

    def pillar_names(self) -> list[str]:
        """The analysable pillars, in file order."""
        return [p.name for p in self.pillars]

    @property
    def requirement_count(self) -> int:
        return sum(len(p.requirements) for p in self.pillars)

    @property
    def sub_requirement_count(self) -> int:
        return sum(len(r.subs) for p in self.pillars for r in p.requirements)

    def select(self, names: Sequence[str]) -> tuple[Pillar, ...]:
        """The named pillars in file order (the order they were chosen in does not matter).

        Raises FrameworkError for an unknown name or an empty selection.
        """
        if isinstance(names, str):
            names = [names]
        known = set(self.pillar_names())
        for name in names:
            if name not in known:
                shown = ", ".join(repr(n) for n in self.pillar_names())
                raise FrameworkError(f"unknown pillar {name!r}; the framework has: {shown}")
        chosen = set(names)
        if not chosen:
            raise FrameworkError("no pillar selected: choose at least one pillar to analyse")
        return tuple(p for p in self.pillars if p.name in chosen)


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json.loads silently keeps the last of two equal keys; for a framework that would
    # drop a pillar or a requirement without a word, so it is an error instead.
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _DuplicateKey(key)
        seen[key] = value
    return seen


def load_framework(path: Path) -> Framework:
    """Read and validate a framework file (`read_framework` on its bytes).

    Raises FrameworkError when the file cannot be read or is not a framework.
    """
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise FrameworkError(
            f"{path.name}: cannot read the framework file ({err.strerror})"
        ) from err
    return read_framework(raw, path.name)


def read_framework(raw: bytes, source: str = "framework") -> Framework:
    """Decode, parse and validate a framework's bytes: the one check that both the
    upload and the run make, so that what one accepts the other accepts.

    Raises FrameworkError when the bytes are not text by the corpus readers' rules
    (`ingest.text.decode_text`: UTF-8, a UTF-8 or
    UTF-16 byte order mark allowed), not JSON (the message gives line and column),
    spell a key twice in one object, nest deeper than `MAX_DEPTH`, hold text that
    cannot be stored (a lone surrogate escape, NUL), or do not have the framework's
    shape (the message names the place, e.g. `"Pillar 3: X" -> requirements ->
    "REQ-B3.1": expected a list of strings, got a string`).
    """
    try:
        text = decode_text(raw)
    except NotText as err:
        raise FrameworkError(f"{source}: {err.reason}") from err
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as err:
        raise FrameworkError(
            f"{source}: invalid JSON at line {err.lineno}, column {err.colno}: {err.msg}"
        ) from err
    except _DuplicateKey as err:
        raise FrameworkError(f"{source}: duplicate key {_quote(shown(err.key))}") from err
    except RecursionError as err:
        raise FrameworkError(f"{source}: nested deeper than {MAX_DEPTH} levels") from err
    bad = find_bad(data, MAX_DEPTH)
    if bad is not None:
        place = " -> ".join(
            _quote(shown(p)) if isinstance(p, str) else f"item {p + 1}" for p in bad.place
        )
        raise FrameworkError(f"{source}: {place + ': ' if place else ''}{bad.reason}")
    return parse_framework(data, source)


def parse_framework(data: object, source: str = "framework") -> Framework:
    """Validate already-decoded JSON as a framework. Raises FrameworkError naming the place."""
    if not isinstance(data, dict):
        raise FrameworkError(
            f"{source}: expected a JSON object with pillars as keys, got {_kind(data)}"
        )
    problems: list[str] = []
    pillars: list[Pillar] = []
    sections: list[str] = []
    for key, value in data.items():
        if not _is_pillar(key, value):
            sections.append(key)
            continue
        try:
            spec = PillarSpec.model_validate(value)
        except ValidationError as err:
            problems.extend(_describe(key, e) for e in err.errors())
            continue
        pillar = _build_pillar(key, spec, len(pillars) + 1, problems)
        if pillar is not None:
            pillars.append(pillar)
    if not problems:
        problems.extend(_duplicate_ids(pillars))
    if not problems and not pillars:
        problems.append(
            'no pillars found: expected top-level keys such as "Pillar 1: Name" with '
            '"description", "keywords" and "requirements"'
        )
    if problems:
        extra = len(problems) - 1
        more = f" (and {extra} more problem{'s' if extra > 1 else ''})" if extra else ""
        raise FrameworkError(f"{source}: {problems[0]}{more}", problems)
    return Framework(tuple(pillars), tuple(sections), source)


def _is_pillar(key: str, value: object) -> bool:
    if key.strip().lower().startswith("pillar"):
        return True
    return isinstance(value, dict) and isinstance(value.get("requirements"), dict)


def _build_pillar(key: str, spec: PillarSpec, position: int, problems: list[str]) -> Pillar | None:
    place = _quote(key)
    if not key.strip():
        problems.append(f"{place}: a pillar needs a name")
    elif key.strip().upper() in RESERVED_NAMES:
        problems.append(
            f"{place}: a pillar may not be named ALL, DEEP or NONE (they are selection values)"
        )
    if not spec.requirements:
        problems.append(f"{place} -> requirements: expected at least one requirement")
    requirements: list[Requirement] = []
    for r_pos, (label, items) in enumerate(spec.requirements.items(), start=1):
        r_place = f"{place} -> requirements -> {_quote(label)}"
        req_id, name = _split_label(label, f"REQ-{position}.{r_pos}")
        if not items:
            problems.append(f"{r_place}: expected at least one sub-requirement")
        subs: list[SubRequirement] = []
        for s_pos, item in enumerate(items, start=1):
            if not item.strip():
                problems.append(f"{r_place} -> item {s_pos}: empty sub-requirement")
                continue
            sub_id, text = _split_label(item, f"Sub-{position}.{r_pos}.{s_pos}")
            subs.append(SubRequirement(sub_id, text, item))
        requirements.append(Requirement(req_id, name, label, tuple(subs)))
    keywords = tuple(k.strip() for k in spec.keywords if k.strip())
    return Pillar(key, spec.description.strip(), keywords, tuple(requirements))


def _split_label(label: str, fallback_id: str) -> tuple[str, str]:
    match = _LABELLED.match(label)
    if match and match.group(2):
        return match.group(1), " ".join(match.group(2).split())
    return fallback_id, " ".join(label.split())


def _duplicate_ids(pillars: list[Pillar]) -> list[str]:
    # Results are keyed by id, so two sub-requirements (or requirements) with one id
    # would silently share a row.
    problems: list[str] = []
    seen: dict[str, str] = {}
    for pillar in pillars:
        for req in pillar.requirements:
            r_place = f"{_quote(pillar.name)} -> requirements -> {_quote(req.label)}"
            key = "requirement " + req.id
            if key in seen:
                problems.append(
                    f"{r_place}: duplicate requirement id {req.id!r} (first at {seen[key]})"
                )
            seen.setdefault(key, r_place)
            for pos, sub in enumerate(req.subs, start=1):
                key = "sub-requirement " + sub.id
                s_place = f"{r_place} -> item {pos}"
                if key in seen:
                    problems.append(
                        f"{s_place}: duplicate sub-requirement id {sub.id!r} (first at {seen[key]})"
                    )
                seen.setdefault(key, s_place)
    return problems


def _describe(pillar: str, error: Any) -> str:
    """One pydantic error as `place: problem`, in the words of the file format."""
    loc = tuple(error["loc"])
    kind = error["type"]
    given = error.get("input")
    parts = [_quote(pillar)]
    for i, part in enumerate(loc):
        if isinstance(part, int):
            parts.append(f"item {part + 1}")
        elif i == 0:
            parts.append(part)  # a field name: description, keywords, requirements
        else:
            parts.append(_quote(part))
    if kind == "missing":
        return f"{' -> '.join(parts[:-1])}: missing required key {_quote(str(loc[-1]))}"
    place = " -> ".join(parts)
    if kind == "model_type":
        return f'{place}: expected an object with a "requirements" key, got {_kind(given)}'
    if kind == "dict_type":
        return (
            f"{place}: expected an object mapping requirement names to lists of "
            f"sub-requirements, got {_kind(given)}"
        )
    if kind == "list_type":
        return f"{place}: expected a list of strings, got {_kind(given)}"
    if kind == "string_type":
        return f"{place}: expected a string, got {_kind(given)}"
    return f"{place}: {error['msg']}"


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
