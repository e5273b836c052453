"""What every reader shares: the file it is handed, the bounds it keeps, how it refuses.

A reader is a module of this package with one function,
`read(source: Source, limits: Limits) -> tuple[list[Paper], list[Skipped]]`: the papers
the file holds, and the parts of it (rows, entries) skipped with their reasons. A file
that cannot be used at all raises `Unreadable(reason)`; the corpus records the reason
and goes on with the next file.
"""

import time
from dataclasses import dataclass, field
from pathlib import PurePath

from litgap.pipeline.cache import Cache

DEFAULT_MAX_PAGES = 2000
DEFAULT_MAX_FILE_SECONDS = 30.0
DEFAULT_MAX_FILE_CHARS = 5_000_000
TITLE_LIMIT = 200


@dataclass(frozen=True)
class Limits:
    """Bounds on reading one file; a file over one is skipped with a reason naming it.

    The names are those of the settings (`LITGAP_MAX_PDF_PAGES`, ...), so that a reason
    tells an operator which one to raise.
    """

    max_pages: int = DEFAULT_MAX_PAGES
    max_file_seconds: float = DEFAULT_MAX_FILE_SECONDS
    max_file_chars: int = DEFAULT_MAX_FILE_CHARS


class Unreadable(Exception):
    """A file (or row) that cannot be used; the message is its reason.

    `lasting` is False when the reason depends on this run rather than on the file's
    bytes (a time limit): such a reason is never cached.
    """

    def __init__(self, reason: str, *, lasting: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.lasting = lasting


@dataclass(frozen=True)
class Source:
    """One file handed to a reader: its bytes and what names them."""

    name: str  # the file's name (no folder)
    paper_id: str  # the id its paper gets (a row's: f"{paper_id} row {n}")
    raw: bytes
    sha256: str  # of `raw`
    # Where a costly reader keeps what it extracted, keyed by sha256 and its version.
    cache: Cache | None = None
    started: float = field(default_factory=time.monotonic)

    @property
    def stem(self) -> str:
        return PurePath(self.name).stem

    def check_time(self, limits: Limits, where: str) -> None:
        """Raise Unreadable (not lasting) once the file has taken more than its time."""
        if time.monotonic() - self.started > limits.max_file_seconds:
            raise Unreadable(
                f"reading stopped at {where}: over the limit of {limits.max_file_seconds:g} s "
                "per file (max_file_seconds)",
                lasting=False,
            )


def too_much_text(limits: Limits, where: str | None = None) -> Unreadable:
    at = f", reached at {where}" if where else ""
    return Unreadable(
        f"more than {limits.max_file_chars:,} characters of text, the limit per file "
        f"(max_file_chars){at}"
    )


def one_line(value: str | None, limit: int = TITLE_LIMIT) -> str:
    """A metadata value on one line, cut to `limit` characters ("" for None)."""
    return " ".join(str(value).split())[:limit] if value else ""
