"""The corpus: papers read from PDF, text, Markdown and research-database CSV files.

A file that cannot be read (corrupt or encrypted PDF, empty file, text that is not
UTF-8, a PDF above the page limit...) is skipped with its reason; the reasons travel
with the corpus into the report. Papers come out in a canonical order (by id), so the
order the files were given in never changes a result.
"""

import csv
import hashlib
import io
import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pypdf import PdfReader

from litgap.pipeline.errors import CorpusError

Progress = Callable[[float, str], None]

DEFAULT_MAX_PAGES = 2000
SUFFIXES = {".pdf": "pdf", ".txt": "text", ".md": "markdown", ".markdown": "markdown"}
DATABASE_SUFFIX = ".csv"
TITLE_COLUMN = "TITLE"
# Research-database columns that describe where a paper came from rather than what it
# says; their words would only add noise to the evidence.
METADATA_COLUMNS = frozenset(
    {
        "APA_REFERENCE",
        "CROSS_REFERENCES_COUNT",
        "EXTRACTION_METHOD",
        "EXTRACTION_QUALITY",
        "FILENAME",
        "FULL_TEXT_LINK",
        "MENTIONED_PAPERS",
        "PUBLICATION_YEAR",
        "REVIEW_TIMESTAMP",
        "SIMILAR_PAPERS",
        "SOURCE",
        "SUMMARIZED_FROM_CHUNKS",
    }
)
_NOT_PROSE = re.compile(r"^(?:[\d.,%\s+-]*|true|false|none|null|n/?a)$", re.I)
_TITLE_LIMIT = 200


@dataclass(frozen=True)
class Page:
    number: int | None  # 1-based PDF page; None for text files and database rows
    text: str
    # Where each database column starts in `text`: (offset, column), by offset.
    sections: tuple[tuple[int, str], ...] = ()

    def sections_between(self, start: int, end: int) -> str | None:
        """The columns a span of the text comes from, e.g. "MAJOR_FINDINGS, KEYWORDS"."""
        names = [
            name
            for i, (offset, name) in enumerate(self.sections)
            if offset < end and (i + 1 == len(self.sections) or self.sections[i + 1][0] > start)
        ]
        return ", ".join(names) if names else None


@dataclass(frozen=True)
class Paper:
    id: str  # unique in its corpus: the file name, or "<file>.csv row <n>"
    title: str
    kind: str  # pdf, text, markdown, database row
    pages: tuple[Page, ...]
    # The source file's sha256 (a database row: the file's, with "#<row>"); evidence
    # ids are built from it, so they survive a rename of the file.
    sha256: str = ""
    year: int | None = None
    authors: tuple[str, ...] = ()
    doi: str | None = None
    venue: str | None = None


@dataclass(frozen=True)
class Skipped:
    name: str
    reason: str


@dataclass(frozen=True)
class Corpus:
    """Readable papers (sorted by id) and the files skipped, each with its reason."""

    papers: tuple[Paper, ...]
    skipped: tuple[Skipped, ...] = field(default=())

    def __post_init__(self) -> None:
        papers = tuple(sorted(self.papers, key=lambda p: p.id))
        ids = [p.id for p in papers]
        if len(set(ids)) != len(ids):
            duplicate = next(i for i in ids if ids.count(i) > 1)
            raise CorpusError(f"two papers share the id {duplicate!r}")
        object.__setattr__(self, "papers", papers)
        skipped = tuple(sorted(self.skipped, key=lambda s: (s.name, s.reason)))
        object.__setattr__(self, "skipped", skipped)


class _Skip(Exception):
    """A file (or row) that cannot be used; the message is its reason."""


def load_corpus(
    paths: Sequence[Path], *, max_pages: int = DEFAULT_MAX_PAGES, progress: Progress | None = None
) -> Corpus:
    """Read every file (directories are searched for files; hidden files are ignored).

    Raises CorpusError when no file yields a readable paper; the message lists the
    reasons files were skipped.
    """
    files = _catalogue(_expand(paths))
    papers: list[Paper] = []
    skipped: list[Skipped] = []
    taken: dict[str, int] = {}
    first_of: dict[str, str] = {}
    for done, (name, path, digest) in enumerate(files):
        if progress is not None:
            progress(done / max(1, len(files)), "reading corpus")
        try:
            raw = path.read_bytes()
        except OSError as err:
            skipped.append(Skipped(name, f"cannot read the file ({err.strerror})"))
            continue
        if digest in first_of:
            skipped.append(Skipped(name, f"same content as {first_of[digest]!r}"))
            continue
        first_of[digest] = name
        # Two different files with one name (from two folders) stay apart; the order is
        # by content, so it does not depend on the order they were given in.
        taken[name] = taken.get(name, 0) + 1
        paper_id = name if taken[name] == 1 else f"{name} ({taken[name]})"
        try:
            found, rows_skipped = _read_file(name, paper_id, raw, max_pages)
        except _Skip as reason:
            skipped.append(Skipped(paper_id, str(reason)))
            continue
        papers.extend(found)
        skipped.extend(rows_skipped)
    if progress is not None:
        progress(1.0, "reading corpus")
    if not papers:
        raise CorpusError(_nothing_readable(len(files), skipped))
    return Corpus(tuple(papers), tuple(skipped))


def _nothing_readable(count: int, skipped: list[Skipped]) -> str:
    if count == 0:
        return "the corpus is empty: no files were given"
    shown = "; ".join(f"{s.name}: {s.reason}" for s in sorted(skipped, key=lambda s: s.name)[:5])
    more = f"; and {len(skipped) - 5} more" if len(skipped) > 5 else ""
    return f"no readable paper in the corpus ({count} files, all skipped: {shown}{more})"


def _expand(paths: Sequence[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            for found in sorted(path.rglob("*")):
                hidden = any(part.startswith(".") for part in found.relative_to(path).parts)
                if found.is_file() and not hidden:
                    yield found
        else:
            yield path


def _catalogue(paths: Iterator[Path]) -> list[tuple[str, Path, str]]:
    """(name, path, content hash) sorted by name and hash: the order papers are read in.

    Files are hashed here and read again one at a time later, so that a large corpus is
    never held in memory whole.
    """
    files: list[tuple[str, Path, str]] = []
    for path in paths:
        digest = hashlib.sha256()
        try:
            with path.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
        except OSError:
            files.append((path.name, path, ""))  # reported when it is read
            continue
        files.append((path.name, path, digest.hexdigest()))
    files.sort(key=lambda f: (f[0], f[2], str(f[1])))
    return files


def _read_file(
    name: str, paper_id: str, raw: bytes, max_pages: int
) -> tuple[list[Paper], list[Skipped]]:
    if not raw.strip():
        raise _Skip("empty file")
    suffix = Path(name).suffix.lower()
    if suffix == DATABASE_SUFFIX:
        return _read_database(paper_id, _decode(raw))
    kind = SUFFIXES.get(suffix)
    if kind is None:
        allowed = ", ".join(sorted([*SUFFIXES, DATABASE_SUFFIX]))
        raise _Skip(f"unsupported file type {suffix or '(none)'!r}; expected one of {allowed}")
    if kind == "pdf":
        return [_read_pdf(paper_id, Path(name).stem, raw, max_pages)], []
    text = _decode(raw).replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise _Skip("empty file (no text)")
    title = _first_line(text, markdown=kind == "markdown") or Path(name).stem
    return [Paper(paper_id, title, kind, (Page(None, text),))], []


def _decode(raw: bytes) -> str:
    encoding = "utf-16" if raw.startswith((b"\xff\xfe", b"\xfe\xff")) else "utf-8-sig"
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as err:
        bad = raw[err.start : err.start + 1].hex()
        raise _Skip(f"not UTF-8 text (byte 0x{bad} at offset {err.start})") from err
    if "\x00" in text:
        raise _Skip("binary content (NUL bytes), not text")
    return text


def _first_line(text: str, *, markdown: bool) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if markdown:
        headings = [line.lstrip("#").strip() for line in lines if line.startswith("#")]
        lines = headings + lines
    return lines[0][:_TITLE_LIMIT] if lines else ""


def _read_pdf(paper_id: str, stem: str, raw: bytes, max_pages: int) -> Paper:
    # pypdf raises many kinds of exception on a damaged file (its own errors, but also
    # KeyError, ValueError, RecursionError ...); any of them means "corrupt" here.
    try:
        reader = PdfReader(io.BytesIO(raw))
        if reader.is_encrypted and not _decrypts_without_password(reader):
            raise _Skip("encrypted PDF: it needs a password to be read")
        count = len(reader.pages)
        if count > max_pages:
            raise _Skip(f"PDF has {count} pages, more than the limit of {max_pages}")
        texts = [page.extract_text() or "" for page in reader.pages]
        title = _pdf_title(reader)
    except _Skip:
        raise
    except Exception as err:
        detail = str(err).strip() or type(err).__name__
        raise _Skip(f"corrupt PDF: {detail[:200]}") from err
    pages = tuple(Page(n, t) for n, t in enumerate(texts, start=1) if t.strip())
    if not pages:
        raise _Skip("PDF has no extractable text (scanned images?)")
    return Paper(paper_id, title or stem, "pdf", pages)


def _decrypts_without_password(reader: PdfReader) -> bool:
    # A PDF with only an owner password (print/copy restrictions) opens with an empty
    # user password and is readable; one with a user password is not.
    try:
        return bool(reader.decrypt(""))
    except Exception:
        return False


def _pdf_title(reader: PdfReader) -> str:
    try:
        title = reader.metadata.title if reader.metadata else None
    except Exception:
        return ""
    return " ".join(str(title).split())[:_TITLE_LIMIT] if title else ""


def _read_database(name: str, text: str) -> tuple[list[Paper], list[Skipped]]:
    """One paper per row of a research-database CSV (the Literature-Review format)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader, [])]
        columns = {h.upper(): i for i, h in enumerate(header)}
        if TITLE_COLUMN not in columns:
            raise _Skip(f"CSV is not a research database: no {TITLE_COLUMN} column")
        papers: list[Paper] = []
        skipped: list[Skipped] = []
        for number, row in enumerate(reader, start=1):
            if not any(cell.strip() for cell in row):
                continue
            paper_id = f"{name} row {number}"
            page = _row_text(header, row)
            if page is None:
                skipped.append(Skipped(paper_id, "no text in any column"))
                continue
            title = _cell(row, columns[TITLE_COLUMN]) or _cell(row, columns.get("FILENAME"))
            papers.append(
                Paper(paper_id, title[:_TITLE_LIMIT] or paper_id, "database row", (page,))
            )
    except csv.Error as err:
        raise _Skip(f"unreadable CSV near line {reader.line_num}: {err}") from err
    if not papers:
        raise _Skip("CSV research database has no rows with text")
    return papers, skipped


def _cell(row: list[str], index: int | None) -> str:
    if index is None or index >= len(row):
        return ""
    return " ".join(row[index].split())


def _row_text(header: list[str], row: list[str]) -> Page | None:
    """A row's prose columns as one text, one paragraph per column.

    One text rather than one per column: cells are short, and scored alone a cell would
    count as a fragment (see scoring.length_weight) though it is a reviewer's summary.
    """
    parts: list[str] = []
    sections: list[tuple[int, str]] = []
    offset = 0
    for column, cell in zip(header, row, strict=False):
        if column.upper() in METADATA_COLUMNS or _NOT_PROSE.match(cell.strip()):
            continue
        text = _flatten(cell.strip()).strip()
        if text:
            sections.append((offset, column))
            parts.append(text)
            offset += len(text) + 2
    if not parts:
        return None
    return Page(None, "\n\n".join(parts), tuple(sections))


def _flatten(cell: str) -> str:
    """A JSON-list cell as plain text: its strings, or the evidence quoted in its claims."""
    if not cell.startswith("["):
        return cell
    try:
        items = json.loads(cell)
    except ValueError:
        return cell
    if not isinstance(items, list):
        return cell
    parts = []
    for item in items:
        if isinstance(item, str):
            parts.append(item)
        elif isinstance(item, dict) and isinstance(item.get("evidence_chunk"), str):
            # Claims from an earlier review quote the paper in "evidence_chunk"; their
            # summaries restate the framework's words, which would score as evidence.
            parts.append(item["evidence_chunk"])
    return "\n".join(parts)
