"""BibTeX libraries (`.bib`, as Zotero, Mendeley, JabRef and most databases export
them), read with bibtexparser 2.x: one paper per entry."""

import logging
from typing import Any

import bibtexparser
from bibtexparser import middlewares

from litgap.pipeline.corpus import Paper, Skipped
from litgap.pipeline.ingest.base import Limits, Source, Unreadable
from litgap.pipeline.ingest.references import (
    attachment_names,
    clean,
    entry_id,
    library_result,
    make_paper,
    parse_year,
)

SUFFIX = ".bib"
_VENUE_FIELDS = ("journal", "journaltitle", "booktitle", "publisher", "school", "institution")


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Older exports (JabRef, EndNote) are often Latin-1; every byte decodes.
        return raw.decode("latin-1")


def read_bibtex(raw: bytes, source: str, sha256: str) -> list[Paper | Skipped]:
    """Every entry of a BibTeX file, as a paper or skipped with its reason. `source`
    names the file (paper ids start with it), `sha256` is its content hash (each entry's
    is `<sha256>#<key>`). Raises CorpusError when the file holds no entry at all."""
    # bibtexparser logs each unparseable block; those are reported by count below.
    logging.getLogger("bibtexparser").setLevel(logging.ERROR)
    library = bibtexparser.parse_string(
        _decode(raw),
        append_middleware=[middlewares.LatexDecodingMiddleware(), middlewares.SeparateCoAuthors()],
    )
    if not library.entries:
        failed = len(library.failed_blocks)
        detail = f" ({failed} unparseable blocks)" if failed else ""
        raise Unreadable(f"{source}: no BibTeX entries{detail}")
    taken: set[str] = set()
    found: list[Paper | Skipped] = []
    for number, entry in enumerate(library.entries, start=1):
        fields = {k.lower(): v for k, v in entry.fields_dict.items()}

        def value(name: str, fields: dict[str, Any] = fields) -> str:
            field = fields.get(name)
            return clean(field.value) if field is not None else ""

        authors = fields["author"].value if "author" in fields else []
        found.append(
            make_paper(
                paper_id=entry_id(source, entry.key, number, taken),
                kind="bibtex",
                sha256=f"{sha256}#{entry.key or number}",
                title=value("title"),
                abstract=str(fields["abstract"].value) if "abstract" in fields else "",
                authors=authors if isinstance(authors, list) else [str(authors)],
                year=parse_year(value("year") or value("date")),
                venue=next((v for v in map(value, _VENUE_FIELDS) if v), ""),
                doi=value("doi"),
                files=attachment_names([value("file"), value("pdf")]),
            )
        )
    return found


def read(source: Source, limits: Limits) -> tuple[list[Paper], list[Skipped]]:
    """The reader interface (see ingest/base.py)."""
    return library_result(read_bibtex(source.raw, source.paper_id, source.sha256), limits)
