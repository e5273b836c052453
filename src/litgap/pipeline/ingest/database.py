"""Research-database CSV files (the Literature-Review format): one paper per row.

A row's prose columns become its one page, each column a section; the columns that say
where a paper came from are not evidence, but give its year, authors, DOI and venue.
"""

import csv
import io
import json
import re

from litgap.pipeline.corpus import Page, Paper, Skipped
from litgap.pipeline.ingest.base import TITLE_LIMIT, Limits, Source, Unreadable, too_much_text
from litgap.pipeline.ingest.text import decode

TITLE_COLUMN = "TITLE"
# Columns that describe where a paper came from rather than what it says; their words
# would only add noise to the evidence.
METADATA_COLUMNS = frozenset(
    {
        "APA_REFERENCE",
        "AUTHORS",
        "CROSS_REFERENCES_COUNT",
        "DOI",
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
        "VENUE",
    }
)
_NOT_PROSE = re.compile(r"^(?:[\d.,%\s+-]*|true|false|none|null|n/?a)$", re.I)
_YEAR = re.compile(r"^\s*(\d{4})\b")
_DOI = re.compile(r"\b(10\.\d{4,9}/\S+)")
# "Xu, Q., Fang, X., & Pan, G. (2024). Title..." -> "Xu, Q.", "Fang, X.", "Pan, G."
_APA_AUTHORS = re.compile(r"^(.*?)\s*\((?:\d{4}|n\.d\.)[^)]*\)")
_APA_NAME = re.compile(r"([^,&]+?,\s*(?:[A-Z][a-z]?\.[\s-]*)+)")


def read(source: Source, limits: Limits) -> tuple[list[Paper], list[Skipped]]:
    text = decode(source.raw)
    if len(text) > limits.max_file_chars:
        raise too_much_text(limits)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader, [])]
        columns = {h.upper(): i for i, h in enumerate(header)}
        if TITLE_COLUMN not in columns:
            raise Unreadable(f"CSV is not a research database: no {TITLE_COLUMN} column")
        papers: list[Paper] = []
        skipped: list[Skipped] = []
        for number, row in enumerate(reader, start=1):
            if not any(cell.strip() for cell in row):
                continue
            paper_id = f"{source.paper_id} row {number}"
            page = _row_text(header, row)
            if page is None:
                skipped.append(Skipped(paper_id, "no text in any column"))
                continue
            title = _cell(row, columns[TITLE_COLUMN]) or _cell(row, columns.get("FILENAME"))

            def cell(name: str, row: list[str] = row) -> str:
                return _cell(row, columns.get(name))

            papers.append(
                Paper(
                    paper_id,
                    title[:TITLE_LIMIT] or paper_id,
                    "database row",
                    (page,),
                    sha256=f"{source.sha256}#{number}",
                    year=_year(cell("PUBLICATION_YEAR")),
                    authors=_authors(cell("AUTHORS"), cell("APA_REFERENCE")),
                    doi=_doi(cell("DOI")) or _doi(cell("FULL_TEXT_LINK")),
                    venue=_value(cell("VENUE") or cell("SOURCE")),
                )
            )
    except csv.Error as err:
        raise Unreadable(f"unreadable CSV near line {reader.line_num}: {err}") from err
    if not papers:
        raise Unreadable("CSV research database has no rows with text")
    return papers, skipped


def _cell(row: list[str], index: int | None) -> str:
    if index is None or index >= len(row):
        return ""
    return " ".join(row[index].split())


def _value(cell: str) -> str | None:
    return None if _NOT_PROSE.match(cell) else cell[:TITLE_LIMIT]


def _year(cell: str) -> int | None:
    match = _YEAR.match(cell)
    return int(match.group(1)) if match else None


def _doi(cell: str) -> str | None:
    match = _DOI.search(cell)
    return match.group(1).rstrip(".,;") if match else None


def _authors(listed: str, reference: str) -> tuple[str, ...]:
    """From an AUTHORS column (a JSON list, or names split by ";"), else from the APA
    reference's author part."""
    if listed:
        try:
            names = json.loads(listed)
        except ValueError:
            names = listed.split(";")
        if isinstance(names, list):
            return tuple(n for n in (" ".join(str(x).split()) for x in names) if n)
    match = _APA_AUTHORS.match(reference)
    if match is None:
        return ()
    return tuple(" ".join(n.replace("&", " ").split()) for n in _APA_NAME.findall(match.group(1)))


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
