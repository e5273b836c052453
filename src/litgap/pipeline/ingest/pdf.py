"""PDF files, read with pdfium (pypdfium2): pages kept with their 1-based numbers.

What a file yields depends only on its bytes and this extractor's version, so it is
kept in the cache under both: a second read of the same file never opens the PDF.
Reasons that come from the bytes (corrupt, encrypted) are kept too; a time limit is not.

Bounds: the page limit is checked before any page is read, time after every pdfium
call, and characters with the text page's count before any text is copied out. One
pdfium call is not interruptible: loading the text of one page costs ~0.6 s and
~110 MiB per MiB of text it holds (a 120 KB page inflating to 30 MiB of text: 20 s,
3.4 GiB), so the process that runs the pipeline needs its own timeout and memory limit.
"""

import contextlib
import json
import re
import threading
from dataclasses import dataclass

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from pypdfium2.version import PDFIUM_INFO, PYPDFIUM_INFO

from litgap.pipeline.cache import cache_key
from litgap.pipeline.corpus import Page, Paper, Skipped
from litgap.pipeline.ingest.base import Limits, Source, Unreadable, one_line, too_much_text

# Bump when what this module makes of a file changes: old cache entries then go unused.
EXTRACTOR = "litgap-pdf-1"
VERSION = f"{EXTRACTOR};pypdfium2 {PYPDFIUM_INFO};pdfium {PDFIUM_INFO}"
CACHE_NAMESPACE = "extract"
# pdfium is not thread-safe: one call at a time per process.
_PDFIUM = threading.Lock()
# XMP packets are stored uncompressed so that tools can find them; publishers put the
# date of publication there. The Info dictionary's CreationDate dates the file, not the
# paper (a paper printed to PDF today would get this year), so it is not used.
_XMP_DATE = re.compile(
    rb"prism:(?:publicationDate|coverDate|coverDisplayDate)\s*(?:=\s*[\"']|>)\s*(\d{4})"
)


@dataclass(frozen=True)
class Extracted:
    """What a PDF holds, independent of its file name."""

    page_count: int
    pages: tuple[tuple[int, str], ...]  # (number, text) of the pages with text
    title: str = ""
    authors: tuple[str, ...] = ()
    year: int | None = None

    @property
    def chars(self) -> int:
        return sum(len(text) for _, text in self.pages)


def cache_key_for(sha256: str) -> str:
    return cache_key("pdf", sha256, VERSION)


def read(source: Source, limits: Limits) -> tuple[list[Paper], list[Skipped]]:
    found = _cached(source)
    if found is None:
        try:
            found = extract(source, limits)
        except Unreadable as err:
            if err.lasting:
                _store(source, {"skip": err.reason})
            raise
        _store(source, _encode(found))
    elif isinstance(found, str):
        raise Unreadable(found)
    _check_bounds(found, limits)
    if not found.pages:
        raise Unreadable("PDF has no extractable text (scanned images?)")
    pages = tuple(Page(number, text) for number, text in found.pages)
    paper = Paper(
        source.paper_id,
        found.title or source.stem,
        "pdf",
        pages,
        sha256=source.sha256,
        year=found.year,
        authors=found.authors,
    )
    return [paper], []


def extract(source: Source, limits: Limits) -> Extracted:
    """Every page's text; raises Unreadable for a file pdfium cannot use or one over a
    bound (the reason names the bound)."""
    with _PDFIUM:
        try:
            document = pdfium.PdfDocument(source.raw)
        except pdfium.PdfiumError as err:
            if getattr(err, "err_code", None) == pdfium_c.FPDF_ERR_PASSWORD:
                raise Unreadable("encrypted PDF: it needs a password to be read") from err
            raise Unreadable(f"corrupt PDF: {str(err)[:200]}") from err
        try:
            return _extract(document, source, limits)
        except pdfium.PdfiumError as err:
            raise Unreadable(f"corrupt PDF: {str(err)[:200]}") from err
        finally:
            document.close()


def _extract(document: pdfium.PdfDocument, source: Source, limits: Limits) -> Extracted:
    count = len(document)
    _check_pages(count, limits)
    pages: list[tuple[int, str]] = []
    chars = 0
    for index in range(count):
        where = f"page {index + 1} of {count}"
        source.check_time(limits, where)
        page = document[index]
        try:
            source.check_time(limits, where)
            textpage = page.get_textpage()
            try:
                source.check_time(limits, where)
                # Counted before the text is copied out: an over-long page never
                # becomes a Python string.
                chars += textpage.count_chars()
                if chars > limits.max_file_chars:
                    raise too_much_text(limits, where)
                text = _clean(textpage.get_text_range())
            finally:
                textpage.close()
        finally:
            page.close()
        if text.strip():
            pages.append((index + 1, text))
    return Extracted(
        count,
        tuple(pages),
        title=one_line(document.get_metadata_value("Title")),
        authors=_authors(document.get_metadata_value("Author")),
        year=_xmp_year(source.raw),
    )


def _check_pages(count: int, limits: Limits) -> None:
    if count > limits.max_pages:
        raise Unreadable(
            f"PDF has {count} pages, more than the limit of {limits.max_pages} (max_pdf_pages)"
        )


def _check_bounds(found: Extracted, limits: Limits) -> None:
    # A cached extraction was made under other limits, perhaps: this run's apply.
    _check_pages(found.page_count, limits)
    if found.chars > limits.max_file_chars:
        raise too_much_text(limits)


def _clean(text: str) -> str:
    # pdfium ends lines with CRLF; other C0 controls (form feeds, NUL) carry no words.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.translate(_CONTROLS)


_CONTROLS = {c: None for c in range(32) if chr(c) not in "\n\t"}


def _authors(value: str) -> tuple[str, ...]:
    # Only ";" separates reliably: "Smith, J." holds a comma and "and" may be in a name.
    return tuple(name for part in value.split(";") if (name := one_line(part)))


def _xmp_year(raw: bytes) -> int | None:
    match = _XMP_DATE.search(raw)
    if match is None:
        return None
    year = int(match.group(1))
    return year if 1400 <= year <= 2999 else None


def _encode(found: Extracted) -> dict[str, object]:
    return {
        "page_count": found.page_count,
        "pages": [list(page) for page in found.pages],
        "title": found.title,
        "authors": list(found.authors),
        "year": found.year,
    }


def _store(source: Source, value: dict[str, object]) -> None:
    if source.cache is None:
        return
    data = json.dumps(value, ensure_ascii=False, sort_keys=True).encode("utf-8", "surrogatepass")
    # The cache only saves time: a full disk must not fail the read.
    with contextlib.suppress(OSError):
        source.cache.put(CACHE_NAMESPACE, cache_key_for(source.sha256), data)


def _cached(source: Source) -> Extracted | str | None:
    """The cached extraction, the cached reason the file cannot be read, or None."""
    if source.cache is None:
        return None
    try:
        data = source.cache.get(CACHE_NAMESPACE, cache_key_for(source.sha256))
    except OSError:
        return None
    if data is None:
        return None
    try:
        value = json.loads(data.decode("utf-8", "surrogatepass"))
        if "skip" in value:
            return str(value["skip"])
        return Extracted(
            int(value["page_count"]),
            tuple((int(number), str(text)) for number, text in value["pages"]),
            title=str(value["title"]),
            authors=tuple(str(a) for a in value["authors"]),
            year=None if value["year"] is None else int(value["year"]),
        )
    except (ValueError, KeyError, TypeError):
        return None  # an entry from a broken write: read the file again
