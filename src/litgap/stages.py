"""The out-of-process work of a job: the pipeline calls the flow runs in worker processes.

Every function here is top level, takes paths and plain data, and returns plain data, so
that it can run in any worker (`litgap.executor.pool`). Between stages an iteration's
result travels as opaque bytes (`IterationOutcome.state`): the serving process hands it
back without ever unpickling the analysis. What the flow needs to decide (gap counts,
the changes shown in a continue prompt, convergence) comes alongside as small values.

A worker memoises what it has read and indexed, keyed by the inputs' content, so the
next stage of the same job usually skips that work; a miss only costs time, the results
are the same either way. The pipeline stays pure: it never learns about jobs.
"""

from __future__ import annotations

import contextlib
import hashlib
import pickle
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from litgap import pipeline  # names load on first use: the server imports this module
from litgap.atomic import write_atomic
from litgap.pipeline.cache import FileCache
from litgap.pipeline.ingest import Limits, Source, Unreadable, reader_for

if TYPE_CHECKING:
    from litgap.pipeline import (
        Analyzer,
        Corpus,
        Framework,
        IterationResult,
        Paper,
        ReportContext,
        SubResult,
    )
    from litgap.settings import Settings

MEMO_ENTRIES = 2  # per worker: enough for a job and its neighbour, bounded in memory
# What reading a file may take beyond max_file_seconds before its worker is killed: the
# reader checks its own clock between library calls, so this only catches one call that
# runs away (a small PDF whose content inflates to gigabytes of text).
READ_GRACE_SECONDS = 5.0
# The one format read through the cache whose library call can run unbounded.
BOUNDED_SUFFIXES = (".pdf",)


@dataclass(frozen=True)
class JobInputs:
    """Where a job's inputs are, and the settings that shape how they are read."""

    inputs_dir: Path
    limits: Limits
    cache_dir: Path | None  # the workspace's cache (extracted text, embeddings), or none
    dedupe: bool = True  # drop papers the corpus holds twice (same file, DOI or title)
    # Files the flow found it cannot read within bounds (their reader was killed), by
    # file name, with the reason: left out of the corpus and reported as skipped.
    unreadable: tuple[tuple[str, str], ...] = ()
    # Papers a screening decision left out, as (paper id, reason, stage): read, listed
    # in the PRISMA flow, never analysed.
    excluded: tuple[tuple[str, str, str], ...] = ()
    # Who can embed shares of a large corpus beside this run (`scorers.spread.Helpers`:
    # a cluster's idle workers), or none.
    helpers: Any = None

    def cache(self) -> FileCache | None:
        return FileCache(self.cache_dir) if self.cache_dir is not None else None

    @property
    def framework_path(self) -> Path:
        return self.inputs_dir / "framework.json"

    def corpus_paths(self) -> list[Path]:
        folder = self.inputs_dir / "corpus"
        left_out = {name for name, _ in self.unreadable}
        return sorted(p for p in folder.iterdir() if p.is_file() and p.name not in left_out)


@dataclass(frozen=True)
class Scoring:
    """How passages are scored, and the reviewer's verdicts on them (by evidence_id)."""

    scorer: str = "lexical"
    rerank: bool = False
    verdicts: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class InputsRead:
    pillars: list[str]
    # The papers as a screening prompt shows them, when asked for (screening.paper_entry).
    papers: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class IterationOutcome:
    iteration: int
    gap_count: int
    details: list[dict[str, Any]]  # how the previous iteration's gaps moved
    converged: bool  # no gap of the previous iteration rose by more than the threshold
    state: bytes  # the pickled IterationResult: handed back, never opened by the flow
    # The sub-requirements as the report lists them (evidence included), when asked for:
    # what an evidence_review prompt shows. Empty otherwise: it can be large.
    subs: tuple[dict[str, Any], ...] = ()


class _Memo:
    """A small LRU map kept by each worker process."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()

    def get(self, key: Hashable) -> Any:
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        return None

    def put(self, key: Hashable, value: Any) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)


_loaded = _Memo(MEMO_ENTRIES)
_analyzers = _Memo(MEMO_ENTRIES)


def _content_key(inputs: JobInputs) -> str:
    """Names the inputs' bytes (and how they are read), not where they are."""
    digest = hashlib.sha256(
        f"{inputs.limits!r} dedupe={inputs.dedupe} {inputs.unreadable!r}\x00".encode()
    )
    for path in [inputs.framework_path, *inputs.corpus_paths()]:
        digest.update(path.name.encode("utf-8", "surrogateescape") + b"\x00")
        with path.open("rb") as handle:
            digest.update(hashlib.file_digest(handle, "sha256").digest())
    return digest.hexdigest()


def _load(inputs: JobInputs) -> tuple[str, Framework, Corpus]:
    """The framework and the corpus the analysis sees: the papers read, less those
    excluded at screening. Raises CorpusError when screening excluded every paper."""
    key, framework, corpus = _read(inputs)
    if not inputs.excluded:
        return key, framework, corpus
    out = {paper for paper, _, _ in inputs.excluded}
    papers = tuple(p for p in corpus.papers if p.id not in out)
    if not papers:
        raise pipeline.CorpusError(
            f"every paper of the corpus ({len(corpus.papers)}) was excluded at screening"
        )
    digest = hashlib.sha256(f"{key} excluded={sorted(out)!r}".encode()).hexdigest()
    return digest, framework, pipeline.Corpus(papers, corpus.skipped)


def _read(inputs: JobInputs) -> tuple[str, Framework, Corpus]:
    """The framework and every paper read (memoised: screening does not read again)."""
    key = _content_key(inputs)
    hit = _loaded.get(key)
    if hit is None:
        framework = pipeline.load_framework(inputs.framework_path)
        corpus = _with_unreadable(
            pipeline.load_corpus(
                inputs.corpus_paths(),
                limits=inputs.limits,
                cache=inputs.cache(),
                dedupe=inputs.dedupe,
            )
            if inputs.corpus_paths()
            else None,
            inputs.unreadable,
        )
        hit = (framework, corpus)
        _loaded.put(key, hit)
    return key, hit[0], hit[1]


def _analyzer(inputs: JobInputs, pillars: list[str], scoring: Scoring) -> Analyzer:
    key, framework, corpus = _load(inputs)
    memo_key = (key, tuple(pillars), scoring)
    analyzer = _analyzers.get(memo_key)
    if analyzer is None:
        analyzer = pipeline.Analyzer(
            corpus,
            framework,
            pillars,
            scorer=scoring.scorer,
            rerank=scoring.rerank,
            cache=inputs.cache(),
            verdicts=dict(scoring.verdicts) or None,
            helpers=inputs.helpers,
        )
        _analyzers.put(memo_key, analyzer)
    return analyzer


def _with_unreadable(corpus: Corpus | None, unreadable: tuple[tuple[str, str], ...]) -> Corpus:
    skipped = tuple(pipeline.Skipped(name, reason) for name, reason in unreadable)
    if corpus is None:
        shown = "; ".join(f"{s.name}: {s.reason}" for s in skipped[:5])
        raise pipeline.CorpusError(f"no readable paper in the corpus (all skipped: {shown})")
    return pipeline.Corpus(corpus.papers, corpus.skipped + skipped) if skipped else corpus


def unread_files(inputs: JobInputs, suffixes: tuple[str, ...]) -> list[str]:
    """The corpus files with one of `suffixes` whose extraction is not cached yet: the
    ones a bounded read must look at (a continuation's or a replay's others are)."""
    from litgap.pipeline.ingest.pdf import CACHE_NAMESPACE, cache_key_for

    cache = inputs.cache()
    names = []
    for path in inputs.corpus_paths():
        if path.suffix.lower() not in suffixes:
            continue
        with path.open("rb") as handle:
            sha256 = hashlib.file_digest(handle, "sha256").hexdigest()
        if cache is None or cache.get(CACHE_NAMESPACE, cache_key_for(sha256)) is None:
            names.append(path.name)
    return names


def read_file(inputs: JobInputs, name: str) -> None:
    """Read one corpus file into the extraction cache (the flow bounds this call's time:
    one library call on a hostile PDF can run far past the reader's own checks)."""
    with contextlib.suppress(pipeline.CorpusError):  # its reason is found again when it is read
        pipeline.load_corpus(
            [inputs.inputs_dir / "corpus" / name], limits=inputs.limits, cache=inputs.cache()
        )


def reading_limits(settings: Settings) -> Limits:
    """The bounds every read of a corpus file applies: the run's and an upload's screening."""
    return Limits(
        max_pages=settings.max_pdf_pages,
        max_file_seconds=settings.max_file_seconds,
        max_file_chars=settings.max_file_chars,
    )


def read_papers(
    path: Path, name: str, sha256: str, limits: Limits, cache: FileCache | None = None
) -> list[Paper]:
    """The papers of one file, for screening an upload; none when it cannot be read (the
    run reports why). What is extracted lands in `cache`: the run does not read it again.
    Here, not in the services, so that a worker unpickling it imports no server code."""
    try:
        source = Source(name, name, path.read_bytes(), sha256, cache)
        papers, _ = reader_for(path.suffix)(source, limits)
    except (Unreadable, OSError):
        return []
    return papers


def read_inputs(inputs: JobInputs, with_papers: bool = False) -> InputsRead:
    """Read the framework and the corpus; the pillars are what the first prompt offers,
    and with `with_papers` the papers what a screening prompt shows. Raises
    FrameworkError or CorpusError for unusable inputs."""
    _, framework, corpus = _read(inputs)
    papers = tuple(_screening_entry(p) for p in corpus.papers) if with_papers else ()
    return InputsRead(pillars=framework.pillar_names(), papers=papers)


def _screening_entry(paper: Paper) -> dict[str, Any]:
    from litgap.screening import ABSTRACT_CHARS, paper_entry

    opening = " ".join(" ".join(page.text.split()[:400]) for page in paper.pages[:1])
    return paper_entry(
        {
            "paper": paper.id,
            "title": paper.title,
            "kind": paper.kind,
            "year": paper.year,
            "authors": paper.authors,
            "doi": paper.doi,
            "abstract": opening[:ABSTRACT_CHARS],
        }
    )


def run_iteration(
    inputs: JobInputs,
    pillars: list[str],
    scoring: Scoring,
    previous: bytes | None,
    threshold: float,
    with_subs: bool = False,
) -> IterationOutcome:
    """One pass of the analysis: the first on every sub-requirement, the next ones on the
    gaps of `previous` (the state of the iteration before). `with_subs` also returns the
    sub-requirements with their evidence, for an evidence review."""
    analyzer = _analyzer(inputs, pillars, scoring)
    before: IterationResult | None = pickle.loads(previous) if previous is not None else None
    result = analyzer.iterate(before)
    details = pipeline.gap_changes(before, result) if before is not None else []
    converged = before is not None and pipeline.has_converged(before, result, threshold)
    return IterationOutcome(
        iteration=result.iteration,
        gap_count=result.gap_count,
        details=details,
        converged=converged,
        state=pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL),
        subs=tuple(_review_entry(sub) for sub in result.subs) if with_subs else (),
    )


def _review_entry(sub: SubResult) -> dict[str, Any]:
    from litgap.pipeline.report import sub_entry

    return {**sub_entry(sub, []), "requirement": sub.requirement, "pillar": sub.pillar}


def write_results(
    inputs: JobInputs,
    pillars: list[str],
    mode: str,
    states: list[bytes],
    results_dir: Path,
    context: ReportContext | None = None,
) -> dict[str, Any]:
    """Build the report, render every output and write each atomically; returns the
    results summary the job's row keeps. `context` (decisions, lineage) feeds report.html;
    its uploads left out and added files, with the screening, the PRISMA flow."""
    _, framework, corpus = _load(inputs)
    iterations = [pickle.loads(state) for state in states]
    report = pipeline.build_report(framework, corpus, pillars, mode, iterations)
    report["prisma"] = _prisma_flow(inputs, context)
    for name, data in sorted(pipeline.render_outputs(report, context).items()):
        write_atomic(results_dir / name, data)
    return pipeline.summarize(report)


def _prisma_flow(inputs: JobInputs, context: ReportContext | None) -> dict[str, Any]:
    from litgap.pipeline.prisma import Exclusion, build_flow

    _, _, read = _read(inputs)
    files = [p.name for p in inputs.corpus_paths()] + [name for name, _ in inputs.unreadable]
    return build_flow(
        files,
        [(p.id, p.title) for p in read.papers],
        [(s.name, s.reason) for s in read.skipped],
        [Exclusion(paper, reason, stage) for paper, reason, stage in inputs.excluded],
        context.left_out if context is not None else (),
        context.added_files if context is not None else None,
    )
