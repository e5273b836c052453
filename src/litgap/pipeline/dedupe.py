"""Duplicate papers: the same paper reached twice (the same file twice, a research-
database row and the PDF of that paper, a library entry and its attachment).

A paper is a duplicate of another when their source files have the same sha256, when
their DOIs are the same, or when their DOIs do not contradict each other and the
normalised title of one is the title, or one of the other titles, of the other (a
Markdown paper titled by its first heading is also known by its first line,
ingest/text.titles: a Markdown copy of a text paper is caught whichever it is titled
by). Papers that share only other titles are two papers: a boilerplate first line would
make one paper of every file that has it. Of a group of duplicates the paper with the
most to read is kept (a PDF before a text file, before a library entry, before a
database row), then the first by id, so the choice never depends on the order files
were given in.
"""

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from litgap.pipeline.corpus import Corpus, Paper, Skipped

# Shorter titles ("Introduction", "Results") name sections, not papers.
MIN_TITLE_CHARS = 12
_KIND_RANK = {"pdf": 0, "text": 1, "markdown": 1, "bibtex": 2, "ris": 2, "database row": 3}
_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.I)
_NOT_WORD = re.compile(r"[^0-9a-z]+")


@dataclass(frozen=True)
class Identity:
    """What tells one paper from another, without its text."""

    id: str
    kind: str
    sha256: str = ""
    title: str = ""
    doi: str | None = None
    other_titles: tuple[str, ...] = ()  # see Paper.other_titles


@dataclass(frozen=True)
class Duplicate:
    paper: str  # the id of the paper left out
    duplicate_of: str  # the id of the paper kept
    reason: str  # "same content", "same DOI" or "same title"

    def to_dict(self) -> dict[str, str]:
        return {"paper": self.paper, "duplicate_of": self.duplicate_of, "reason": self.reason}


def normalise_title(title: str) -> str:
    """Lower case, accents and punctuation dropped, spaces collapsed; "" when too short
    to identify a paper."""
    decomposed = unicodedata.normalize("NFKD", title.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    words = _NOT_WORD.sub(" ", plain).split()
    joined = " ".join(words)
    return joined if len(joined) >= MIN_TITLE_CHARS else ""


def normalise_doi(doi: str | None) -> str | None:
    """A DOI without its resolver prefix, lower case (DOIs are case-insensitive)."""
    if not doi:
        return None
    bare = _DOI_PREFIX.sub("", doi.strip()).strip().rstrip(".").lower()
    return bare if bare.startswith("10.") else None


def identity(paper: Paper) -> Identity:
    return Identity(paper.id, paper.kind, paper.sha256, paper.title, paper.doi, paper.other_titles)


def _rank(item: Identity) -> tuple[int, str]:
    return (_KIND_RANK.get(item.kind, 1), item.id)


@dataclass(frozen=True)
class _Keys:
    sha256: str
    doi: str | None
    title: str
    others: frozenset[str]  # normalised other titles, the title left out

    def lookups(self) -> list[tuple[str, str]]:
        """The index entries (`_Kept.add`) a paper this one duplicates may be under: this
        content, this DOI, this title as a title or as an other title, and each other
        title of this one as a title."""
        found = [("sha", self.sha256), ("doi", self.doi or "")]
        found += [("title", self.title), ("other", self.title)]
        return found + [("title", other) for other in self.others]


def _keys(item: Identity) -> _Keys:
    title = normalise_title(item.title)
    others = frozenset(normalise_title(t) for t in item.other_titles) - {"", title}
    return _Keys(item.sha256, normalise_doi(item.doi), title, others)


def _titled_alike(a: _Keys, b: _Keys) -> bool:
    """The title of one is the title, or one of the other titles, of the other (other
    titles never hold "")."""
    return (bool(a.title) and a.title == b.title) or a.title in b.others or b.title in a.others


def _reason(a: _Keys, b: _Keys) -> str | None:
    if a.sha256 and a.sha256 == b.sha256:
        return "same content"
    if a.doi and a.doi == b.doi:
        return "same DOI"
    if a.doi and b.doi:
        return None  # two DOIs: two papers, whatever their titles say
    if _titled_alike(a, b):
        return "same title"
    return None


class _Kept:
    """The papers kept so far, indexed by each key: a lookup, not a pass over them all
    (a 1,000-paper corpus made 500,000 comparisons)."""

    def __init__(self) -> None:
        self.items: list[tuple[Identity, _Keys]] = []
        self._by: dict[tuple[str, str], list[int]] = {}

    def add(self, item: Identity, keys: _Keys) -> None:
        position = len(self.items)
        self.items.append((item, keys))
        indexed = [("sha", keys.sha256), ("doi", keys.doi or ""), ("title", keys.title)]
        indexed += [("other", other) for other in keys.others]
        for field, value in indexed:
            if value:
                self._by.setdefault((field, value), []).append(position)

    def first_match(self, keys: _Keys) -> tuple[Identity, str] | None:
        """The earliest kept paper this one duplicates, with the reason."""
        positions = sorted({p for key in keys.lookups() if key[1] for p in self._by.get(key, [])})
        for position in positions:
            kept, kept_keys = self.items[position]
            reason = _reason(keys, kept_keys)
            if reason is not None:
                return kept, reason
        return None


def find_duplicates(
    papers: Iterable[Identity], existing: Sequence[Identity] = ()
) -> list[Duplicate]:
    """The duplicates among `papers`, and of `papers` against `existing` (a corpus the
    papers are added to: its papers are always the ones kept). Sorted by paper id."""
    kept = _Kept()
    for item in existing:
        kept.add(item, _keys(item))
    found: list[Duplicate] = []
    for item in sorted(papers, key=_rank):
        keys = _keys(item)
        match = kept.first_match(keys)
        if match is None:
            kept.add(item, keys)
        else:
            found.append(Duplicate(item.id, match[0].id, match[1]))
    return sorted(found, key=lambda d: d.paper)


def dedupe_corpus(corpus: Corpus) -> Corpus:
    """The corpus with each duplicate moved to `skipped`, its reason naming the paper
    kept: the report counts papers, not files."""
    duplicates = {d.paper: d for d in find_duplicates(identity(p) for p in corpus.papers)}
    if not duplicates:
        return corpus
    papers = tuple(p for p in corpus.papers if p.id not in duplicates)
    skipped = tuple(
        Skipped(d.paper, f"duplicate of {d.duplicate_of!r} ({d.reason})")
        for d in duplicates.values()
    )
    return Corpus(papers, (*corpus.skipped, *skipped))
