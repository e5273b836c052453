"""Readers, one module per file format, chosen by the file's suffix.

To add a format, write `ingest/<format>.py` with
`read(source: Source, limits: Limits) -> tuple[list[Paper], list[Skipped]]` (see
`base.py`) and name its suffixes in `READERS`. A reader module is imported when a file
of its kind is first read: a corpus of text files never loads pdfium, and readers can
use the corpus types without an import cycle.
"""

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from litgap.pipeline.ingest.base import (
    DEFAULT_MAX_FILE_CHARS,
    DEFAULT_MAX_FILE_SECONDS,
    DEFAULT_MAX_PAGES,
    Limits,
    Source,
    Unreadable,
)

if TYPE_CHECKING:
    from litgap.pipeline.corpus import Paper, Skipped

Read = Callable[[Source, Limits], "tuple[list[Paper], list[Skipped]]"]

# suffix (lower case) -> reader module in this package
READERS: dict[str, str] = {
    ".pdf": "pdf",
    ".txt": "text",
    ".md": "text",
    ".markdown": "text",
    ".csv": "database",
    ".bib": "bibtex",
    ".ris": "ris",
}


def reader_for(suffix: str) -> Read:
    """The `read` function for a file suffix; raises Unreadable for an unknown one."""
    module = READERS.get(suffix.lower())
    if module is None:
        allowed = ", ".join(sorted(READERS))
        raise Unreadable(f"unsupported file type {suffix or '(none)'!r}; expected one of {allowed}")
    return cast(Read, importlib.import_module(f"{__name__}.{module}").read)


__all__ = [
    "DEFAULT_MAX_FILE_CHARS",
    "DEFAULT_MAX_FILE_SECONDS",
    "DEFAULT_MAX_PAGES",
    "READERS",
    "Limits",
    "Read",
    "Source",
    "Unreadable",
    "reader_for",
]
