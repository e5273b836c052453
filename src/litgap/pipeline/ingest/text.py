"""Plain text and Markdown files: one page each, titled by the first line or heading.

`decode_text` holds the rules for turning uploaded bytes into text. The upload check and
every reader call it, so a file refused at run time is refused at upload, and the other
way round.
"""

from pathlib import PurePath

from litgap.pipeline.corpus import Page, Paper, Skipped
from litgap.pipeline.ingest.base import TITLE_LIMIT, Limits, Source, Unreadable, too_much_text

_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


class NotText(ValueError):
    """Bytes that are not text by `decode_text`'s rules; the message is the reason."""

    def __init__(self, reason: str, offset: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.offset = offset


def decode_text(raw: bytes) -> str:
    """Bytes as text: UTF-16 when they start with its byte order mark, else UTF-8 (a
    leading UTF-8 byte order mark is dropped: editors on Windows write one).

    Raises NotText for bytes that do not decode (the message gives the first bad byte
    and its offset; lone surrogates are refused by both codecs) and for text holding NUL,
    which is binary content under a text name.
    """
    encoding = "utf-16" if raw.startswith(_UTF16_BOMS) else "utf-8-sig"
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as err:
        bad = raw[err.start : err.start + 1].hex()
        name = "UTF-16" if encoding == "utf-16" else "UTF-8"
        raise NotText(f"not {name} text (byte 0x{bad} at offset {err.start})", err.start) from err
    nul = text.find("\x00")
    if nul >= 0:
        raise NotText("binary content (NUL bytes), not text", nul)
    return text


def decode(raw: bytes) -> str:
    """`decode_text` for a reader: a refusal is the file's skip reason."""
    try:
        return decode_text(raw)
    except NotText as err:
        raise Unreadable(err.reason) from err


def read(source: Source, limits: Limits) -> tuple[list[Paper], list[Skipped]]:
    text = decode(source.raw).replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise Unreadable("empty file (no text)")
    if len(text) > limits.max_file_chars:
        raise too_much_text(limits)
    markdown = PurePath(source.name).suffix.lower() != ".txt"
    title = _first_line(text, markdown=markdown) or source.stem
    kind = "markdown" if markdown else "text"
    page = Page(None, text)
    return [Paper(source.paper_id, title, kind, (page,), sha256=source.sha256)], []


def _first_line(text: str, *, markdown: bool) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if markdown:
        headings = [line.lstrip("#").strip() for line in lines if line.startswith("#")]
        lines = headings + lines
    return lines[0][:TITLE_LIMIT] if lines else ""
