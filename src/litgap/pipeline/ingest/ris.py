"""RIS libraries (`.ris`, as EndNote, Zotero, Mendeley and most databases export them),
read with rispy: one paper per record."""

from typing import Any

import rispy

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

SUFFIX = ".ris"
_TITLES = ("title", "primary_title")
_VENUES = ("secondary_title", "journal_name", "alternate_title3", "alternate_title2", "publisher")
_YEARS = ("year", "publication_year", "date")
_ABSTRACTS = ("abstract", "notes_abstract")
_FILES = ("file_attachments1", "file_attachments2", "urls")


def _first(record: dict[str, Any], keys: tuple[str, ...]) -> str:
    for key in keys:
        value = record.get(key)
        if isinstance(value, list):
            value = value[0] if value else ""
        if value:
            return clean(value)
    return ""


def _all(record: dict[str, Any], keys: tuple[str, ...]) -> list[str]:
    found: list[str] = []
    for key in keys:
        value = record.get(key)
        found.extend(value if isinstance(value, list) else [value] if value else [])
    return [str(v) for v in found]


def read_ris(raw: bytes, source: str, sha256: str) -> list[Paper | Skipped]:
    """Every record of a RIS file, as a paper or skipped with its reason (`sha256` is
    the file's; each record's is `<sha256>#<n>`). Raises CorpusError when the file is not
    RIS or holds no record."""
    text = raw.decode("utf-8-sig", errors="replace").replace("\r\n", "\n")
    try:
        records = rispy.loads(text, skip_unknown_tags=True)
    except Exception as err:  # rispy raises IOError/ValueError/KeyError on bad input
        raise Unreadable(f"{source}: not a RIS file ({str(err)[:200]})") from err
    if not records:
        raise Unreadable(f"{source}: no RIS records")
    taken: set[str] = set()
    found: list[Paper | Skipped] = []
    for number, record in enumerate(records, start=1):
        abstract = next((str(record[k]) for k in _ABSTRACTS if record.get(k)), "")
        authors = _all(record, ("authors", "first_authors"))
        found.append(
            make_paper(
                paper_id=entry_id(source, None, number, taken),
                kind="ris",
                sha256=f"{sha256}#{number}",
                title=_first(record, _TITLES),
                abstract=abstract,
                authors=authors,
                year=parse_year(_first(record, _YEARS)),
                venue=_first(record, _VENUES),
                doi=_first(record, ("doi",)),
                files=attachment_names(_all(record, _FILES)),
            )
        )
    return found


def read(source: Source, limits: Limits) -> tuple[list[Paper], list[Skipped]]:
    """The reader interface (see ingest/base.py)."""
    return library_result(read_ris(source.raw, source.paper_id, source.sha256), limits)
