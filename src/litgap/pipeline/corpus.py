"""The corpus: papers read from PDF, text, Markdown and research-database CSV files.

Each format has its reader in `ingest/`. A file that cannot be read (corrupt or
encrypted PDF, empty file, text that is not UTF-8, a file over a bound of `Limits`...)
is skipped with its reason; the reasons travel with the corpus into the report. Papers
come out in a canonical order (by id), so the order the files were given in never
changes a result.
"""

import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from litgap.pipeline.cache import Cache
from litgap.pipeline.errors import CorpusError
from litgap.pipeline.ingest import DEFAULT_MAX_PAGES, Limits, Source, Unreadable, reader_for

Progress = Callable[[float, str], None]


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
    # PDFs a library entry (BibTeX, RIS) names, by lower-case base name: when one is in
    # the corpus, the entry takes its full text (ingest/references.link_attachments).
    attachments: tuple[str, ...] = ()
    # Other lines the paper may be titled by (a Markdown file's first line when its
    # title is a heading...: ingest/text.titles); duplicates are looked for under them.
    other_titles: tuple[str, ...] = ()


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


def load_corpus(
    paths: Sequence[Path],
    *,
    limits: Limits | None = None,
    cache: Cache | None = None,
    max_pages: int | None = None,
    progress: Progress | None = None,
    dedupe: bool = True,
) -> Corpus:
    """Read every file (directories are searched for files; hidden files are ignored).

    `limits` bounds each file (pages, seconds, characters); `max_pages`, when given,
    overrides `limits.max_pages`. `cache` keeps what costly readers extracted, by the
    file's sha256 and the reader's version. Raises CorpusError when no file yields a
    readable paper; the message lists the reasons files were skipped. With `dedupe`, a
    paper reached twice (a CSV row and its PDF, same DOI or title) counts once.
    """
    limits = limits or Limits()
    if max_pages is not None:
        limits = replace(limits, max_pages=max_pages)
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
            if not raw.strip():
                raise Unreadable("empty file")
            read = reader_for(Path(name).suffix)
            found, rows_skipped = read(Source(name, paper_id, raw, digest, cache), limits)
        except Unreadable as err:
            skipped.append(Skipped(paper_id, err.reason))
            continue
        papers.extend(found)
        skipped.extend(rows_skipped)
    if progress is not None:
        progress(1.0, "reading corpus")
    # Imported here: both modules build on this one's types.
    from litgap.pipeline.dedupe import dedupe_corpus
    from litgap.pipeline.ingest.references import link_attachments

    papers, unlinked = link_attachments(papers)
    skipped.extend(unlinked)
    if not papers:
        raise CorpusError(_nothing_readable(len(files), skipped))
    corpus = Corpus(tuple(papers), tuple(skipped))
    return dedupe_corpus(corpus) if dedupe else corpus


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


__all__ = ["DEFAULT_MAX_PAGES", "Corpus", "Limits", "Page", "Paper", "Skipped", "load_corpus"]
