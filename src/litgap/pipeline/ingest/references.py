"""Reference-library entries (BibTeX, RIS) as papers, and the PDFs they name.

An entry is a paper whose text is its abstract. When the entry names a PDF that came
in the same upload (a Zotero "export with files"), it takes the PDF's pages and sha256
instead, and the PDF is not counted again as a paper of its own: readers see one file
each, so that link is made over the whole corpus (`link_attachments`).
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import PurePosixPath

from litgap.pipeline.corpus import Page, Paper, Skipped
from litgap.pipeline.ingest.base import TITLE_LIMIT, Limits, Unreadable

_UNSAFE = re.compile(r"[^a-z0-9.\-]+")
_YEAR = re.compile(r"(?<!\d)(1[5-9]\d\d|2\d\d\d)(?!\d)")


def entry_id(source: str, key: str | None, number: int, taken: set[str]) -> str:
    """`<file> [<key>]` (BibTeX), `<file> entry <n>` (RIS, or a key seen twice)."""
    candidate = f"{source} [{key}]" if key else f"{source} entry {number}"
    if candidate in taken:
        candidate = f"{source} entry {number}"
    taken.add(candidate)
    return candidate


def name_key(name: str) -> str:
    """A file name as upload and attachment field both give it: the upload's safe name
    replaced what the field may still hold (accents, brackets, ...)."""
    return _UNSAFE.sub("_", name.lower())


def parse_year(value: object) -> int | None:
    """The first plausible four-digit year in a date field ("2020///", "2020-05-01")."""
    match = _YEAR.search(str(value)) if value else None
    return int(match.group(1)) if match else None


def clean(value: object) -> str:
    return " ".join(str(value).split()) if value else ""


def attachment_names(values: Iterable[str]) -> tuple[str, ...]:
    """PDF base names in attachment fields: Zotero `Desc:path:mime;…`, Mendeley
    `:path:pdf`, EndNote `internal-pdf://123/name.pdf`, plain paths or URLs."""
    names: list[str] = []
    for value in values:
        for part in str(value).split(";"):
            for piece in re.split(r"(?<!\\):", part):
                piece = piece.replace("\\:", ":").strip().strip("{}")
                if piece.lower().endswith(".pdf"):
                    base = PurePosixPath(piece.replace("\\", "/")).name.lower()
                    if base and base not in names:
                        names.append(base)
    return tuple(names)


def make_paper(
    *,
    paper_id: str,
    kind: str,
    sha256: str,
    title: str,
    abstract: str,
    authors: Sequence[str],
    year: int | None,
    venue: str,
    doi: str,
    files: tuple[str, ...],
) -> Paper | Skipped:
    """The entry as a paper whose text is its abstract; one with neither abstract nor
    attachment is skipped (it has nothing to read)."""
    text = abstract.strip()
    if not text and not files:
        return Skipped(paper_id, "library entry without an abstract or an attached PDF")
    return Paper(
        id=paper_id,
        title=(title or paper_id)[:TITLE_LIMIT],
        kind=kind,
        pages=(Page(None, text),) if text else (),
        sha256=sha256,
        year=year,
        authors=tuple(a for a in (clean(a) for a in authors) if a),
        doi=doi or None,
        venue=venue or None,
        attachments=files,
    )


def library_result(
    found: Iterable[Paper | Skipped], limits: Limits
) -> tuple[list[Paper], list[Skipped]]:
    """A library file's `make_paper` answers, in order, as its papers and its skipped
    entries. Raises Unreadable when the abstracts hold more than `max_file_chars`
    characters together."""
    papers: list[Paper] = []
    skipped: list[Skipped] = []
    for one in found:
        if isinstance(one, Paper):
            papers.append(one)
        else:
            skipped.append(one)
    text_chars = sum(len(page.text) for paper in papers for page in paper.pages)
    if text_chars > limits.max_file_chars:
        raise Unreadable(
            f"more than {limits.max_file_chars:,} characters of abstracts, the limit per "
            "file (max_file_chars)"
        )
    return papers, skipped


def link_attachments(papers: Sequence[Paper]) -> tuple[list[Paper], list[Skipped]]:
    """Give each library entry the pages (and sha256, so evidence ids match the PDF's)
    of the first PDF it names that the corpus holds, and leave that PDF out as a paper
    of its own. An entry left without text (no abstract, its PDF not given) is skipped
    with a reason naming the file it wanted."""
    pdfs = {name_key(p.id): p for p in papers if p.kind == "pdf"}
    used: set[str] = set()
    linked: list[Paper] = []
    skipped: list[Skipped] = []
    for paper in papers:
        if not paper.attachments:
            linked.append(paper)
            continue
        keys = [name_key(n) for n in paper.attachments]
        pdf = next((pdfs[k] for k in keys if k in pdfs and k not in used), None)
        if pdf is not None:
            used.add(name_key(pdf.id))
            linked.append(replace(paper, pages=pdf.pages, sha256=pdf.sha256))
        elif paper.pages:
            linked.append(paper)
        else:
            wanted = ", ".join(paper.attachments)
            skipped.append(Skipped(paper.id, f"no abstract, and its PDF ({wanted}) was not given"))
    return [p for p in linked if p.kind != "pdf" or name_key(p.id) not in used], skipped
