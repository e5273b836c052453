"""Plain text and Markdown files: one page each, titled by the first line or heading.

A copy of a paper in the other format is often titled otherwise (a Markdown copy of a
text paper keeps the title as its first line and marks its sections as headings), so
a Markdown paper also carries the other lines it may be titled by: duplicates are
looked for under them (pipeline/dedupe.py).

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
    title, others = titles(text, markdown=markdown)
    kind = "markdown" if markdown else "text"
    page = Page(None, text)
    paper = Paper(
        source.paper_id,
        title or source.stem,
        kind,
        (page,),
        sha256=source.sha256,
        other_titles=others,
    )
    return [paper], []


def titles(text: str, *, markdown: bool) -> tuple[str, tuple[str, ...]]:
    """A file's title ("" when it has no line) and the other lines it may be titled by.

    A text file is titled by its first line. A Markdown file by its first heading, else
    the `title:` of its front matter, else its first line (the front matter left out);
    whichever of those are not its title are its other titles, in that order.
    """
    if not markdown:
        return _first_line(text)[:TITLE_LIMIT], ()
    body, declared = _front_matter(text)
    lines = [line.strip() for line in body.splitlines() if line.strip()]
    heading = next((line for line in lines if line.startswith("#")), None)
    first = lines[0] if lines else ""
    found = [
        _unmarked(line)[:TITLE_LIMIT] for line in (heading, declared, first) if line is not None
    ]
    title = found[0] if found else ""
    others = tuple(dict.fromkeys(t for t in found[1:] if t and t != title))
    return title, others


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def _unmarked(line: str) -> str:
    """A line without the `#` marks of a heading."""
    return line.lstrip("#").strip()


def _front_matter(text: str) -> tuple[str, str | None]:
    """The text after a YAML front matter block (`---` lines around it, at the very
    start), and the block's `title:` (None without one). Text without a closed block
    is returned whole."""
    if not text.startswith("---"):
        return text, None
    lines = text.split("\n")
    if lines[0].strip() != "---":
        return text, None
    end = next((i for i, line in enumerate(lines[1:], 1) if line.strip() in ("---", "...")), None)
    if end is None:
        return text, None
    declared = None
    for line in lines[1:end]:
        key, colon, value = line.partition(":")
        if colon and key.strip().lower() == "title":
            declared = value.strip().strip("\"'").strip() or None
            break
    return "\n".join(lines[end + 1 :]), declared
