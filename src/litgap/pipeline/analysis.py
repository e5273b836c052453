"""Gap analysis: completeness per sub-requirement, and the deep loop that searches harder.

Completeness of a sub-requirement (0-100) combines evidence strength with the number of
independent papers. Each paper contributes its best passage score s, turned into a
share of the answer::

    share(s) = MAX_PAPER_SHARE * clip((s - NOISE_SCORE) / (STRONG_SCORE - NOISE_SCORE), 0, 1)
    completeness = 100 * (1 - prod(1 - share) over the TOP_PAPERS best papers)

so one paper alone reaches at most 70, two strong papers 91, three 97: coverage needs
corroboration. A sub-requirement under GAP_THRESHOLD is a gap. Requirement completeness
is the mean of its sub-requirements, a pillar's the mean of its requirements, the
overall figure the mean of the analysed pillars.

Iteration 1 scores every sub-requirement on passages of 150 words. Each further
iteration re-scores only the current gaps, on finer, overlapping passages (75 words,
then 50 from iteration 3 on: evidence buried in a long paragraph stands out), with
queries expanded by the pillar's keywords and the best evidence found so far. A
sub-requirement keeps the best result it ever had, so completeness never decreases
from one iteration to the next; non-gaps keep theirs untouched. Once the passages are
at their finest, an iteration can only gain through new evidence feeding the
expansion, so the loop settles and converges.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import scipy.sparse as sp

from litgap.pipeline.corpus import Corpus
from litgap.pipeline.errors import PipelineError
from litgap.pipeline.pillars import Framework
from litgap.pipeline.scoring import (
    CHUNK_WORDS,
    CorpusIndex,
    FloatArray,
    IntArray,
    Passages,
    best_per_paper,
    combine,
    top_terms,
)

Progress = Callable[[float, str], None]

GAP_THRESHOLD = 50.0
"""A sub-requirement with completeness below this (out of 100) is a gap: less than one
strong paper plus some corroboration, or only weak mentions."""
NOISE_SCORE = 0.12  # cosine at or below which a passage is taken as chance overlap
STRONG_SCORE = 0.40  # cosine from which a passage counts as full evidence
MAX_PAPER_SHARE = 0.7  # the most one paper can contribute: coverage needs corroboration
TOP_PAPERS = 5  # papers counted per sub-requirement; more do not add
SUPPORT_SCORE = (NOISE_SCORE + STRONG_SCORE) / 2  # a paper at or above "supports" a sub
EVIDENCE_PER_SUB = 3  # best passages reported per sub-requirement, one per paper
SNIPPET_CHARS = 300
# Query make-up: the sub-requirement's own words weigh most, its context less.
SUB_WEIGHT, REQUIREMENT_WEIGHT, PILLAR_WEIGHT = 1.0, 0.5, 0.3
KEYWORD_BOOST, FEEDBACK_WEIGHT = 0.2, 0.3  # deep iterations' query expansion
FEEDBACK_TERMS = 10  # terms taken from the evidence found so far


@dataclass(frozen=True)
class Search:
    """How one iteration cuts passages (in chunks of CHUNK_WORDS words) and builds queries."""

    window: int
    stride: int
    expand: bool

    @property
    def window_words(self) -> int:
        return self.window * CHUNK_WORDS


SCHEDULE = (Search(6, 3, False), Search(3, 1, True), Search(2, 1, True))


def search_for(iteration: int) -> Search:
    """The search of an iteration (1-based); from the last of SCHEDULE on it stays the same."""
    return SCHEDULE[min(iteration, len(SCHEDULE)) - 1]


@dataclass(frozen=True)
class Evidence:
    paper: str
    title: str
    page: int | None
    section: str | None
    start: int
    end: int
    snippet: str
    score: float


@dataclass(frozen=True)
class SubResult:
    id: str
    text: str
    requirement: str  # requirement id
    pillar: str
    completeness: float  # rounded to 2 decimals; every comparison uses this value
    supporting_papers: int
    evidence: tuple[Evidence, ...]
    found_in: int  # the iteration that produced this result

    @property
    def is_gap(self) -> bool:
        return self.completeness < GAP_THRESHOLD


@dataclass(frozen=True)
class IterationResult:
    iteration: int
    pillars: tuple[str, ...]
    subs: tuple[SubResult, ...]  # in framework order
    search: Search
    searched: tuple[str, ...]  # the sub-requirements scored in this iteration

    @property
    def gaps(self) -> list[str]:
        return [s.id for s in self.subs if s.is_gap]

    @property
    def gap_count(self) -> int:
        return sum(1 for s in self.subs if s.is_gap)

    def sub(self, sub_id: str) -> SubResult:
        """The result for one sub-requirement id; KeyError if it was not analysed."""
        return self._by_id[sub_id]

    @cached_property
    def _by_id(self) -> dict[str, SubResult]:
        return {sub.id: sub for sub in self.subs}

    def requirement_completeness(self) -> dict[str, float]:
        grouped: dict[str, list[float]] = {}
        for sub in self.subs:
            grouped.setdefault(sub.requirement, []).append(sub.completeness)
        return {req: _mean(values) for req, values in grouped.items()}

    def pillar_completeness(self) -> dict[str, float]:
        by_requirement = self.requirement_completeness()
        grouped: dict[str, dict[str, float]] = {}
        for sub in self.subs:
            grouped.setdefault(sub.pillar, {})[sub.requirement] = by_requirement[sub.requirement]
        return {pillar: _mean(list(reqs.values())) for pillar, reqs in grouped.items()}

    @property
    def overall_completeness(self) -> float:
        return _mean(list(self.pillar_completeness().values()))


class Analyzer:
    """Scores the selected pillars' sub-requirements against one corpus.

    Construction indexes the corpus (the expensive part); each `iterate` call is one
    pass. Raises FrameworkError for an unknown or empty pillar selection and
    CorpusError when the corpus has no words to analyse.
    """

    def __init__(
        self,
        corpus: Corpus,
        framework: Framework,
        pillars: Sequence[str],
        *,
        progress: Progress | None = None,
    ) -> None:
        self._progress = progress
        self._pillars = framework.select(pillars)
        self._report(0.0, "indexing passages")
        self._index = CorpusIndex(corpus)
        self._targets = [
            (pillar, req, sub) for pillar in self._pillars for req, sub in pillar.sub_requirements()
        ]
        self._papers = self._index.paper_count
        self._paper_index = {paper.id: i for i, paper in enumerate(corpus.papers)}
        self._page_text = {
            (paper.id, page.number): page.text for paper in corpus.papers for page in paper.pages
        }
        self._report(0.8, "building queries")
        self._queries, self._keywords = self._base_queries()
        self._report(1.0, "indexed")

    @property
    def pillar_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self._pillars)

    def iterate(self, previous: IterationResult | None = None) -> IterationResult:
        """One pass: all sub-requirements first, then only the gaps of `previous`.

        Raises PipelineError when `previous` comes from another pillar selection.
        """
        if previous is not None and previous.pillars != self.pillar_names:
            raise PipelineError(
                "the previous iteration analysed other pillars: "
                f"{list(previous.pillars)} instead of {list(self.pillar_names)}"
            )
        iteration = 1 if previous is None else previous.iteration + 1
        search = search_for(iteration)
        wanted = set(previous.gaps) if previous is not None else None
        rows = [i for i, t in enumerate(self._targets) if wanted is None or t[2].id in wanted]
        self._report(0.0, f"iteration {iteration}: cutting passages")
        fresh: dict[str, SubResult] = {}
        if rows:
            passages = self._index.passages(search.window, search.stride)
            self._report(0.3, f"iteration {iteration}: scoring")
            if search.expand and previous is not None:
                best, where = self._score_expanded(passages, rows, previous)
            else:
                best, where = best_per_paper(passages, self._queries[rows], self._papers)
            self._report(0.8, f"iteration {iteration}: collecting evidence")
            fresh = self._results(rows, best, where, passages, iteration)
        subs = []
        for _, _, sub in self._targets:
            kept = previous.sub(sub.id) if previous is not None else None
            new = fresh.get(sub.id)
            if kept is not None and (new is None or new.completeness <= kept.completeness):
                subs.append(kept)
            elif new is not None:
                subs.append(new)
        self._report(1.0, f"iteration {iteration}: done")
        searched = tuple(self._targets[i][2].id for i in rows)
        return IterationResult(iteration, self.pillar_names, tuple(subs), search, searched)

    def _base_queries(self) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """Each sub-requirement's query, and its pillar's keywords (for expansion)."""
        subs = [sub.text for _, _, sub in self._targets]
        reqs = [req.name for _, req, _ in self._targets]
        context = [f"{p.description} {' '.join(p.keywords)}" for p, _, _ in self._targets]
        keywords = [" ".join(p.keywords) for p, _, _ in self._targets]
        unseen = self._index.unseen_terms(subs + reqs + context)
        vectors = [self._index.vectorise(texts, unseen) for texts in (subs, reqs, context)]
        weights = (SUB_WEIGHT, REQUIREMENT_WEIGHT, PILLAR_WEIGHT)
        queries = combine(list(zip(weights, vectors, strict=True)))
        return queries, _widen(self._index.vectorise(keywords, unseen), queries.shape[1])

    def _score_expanded(
        self, passages: Passages, rows: list[int], previous: IterationResult
    ) -> tuple[FloatArray, IntArray]:
        """Best scores under the plain and the expanded queries, whichever is higher.

        The expansion adds the pillar's keywords and the leading terms of the evidence
        found so far (pseudo-relevance feedback), which leads to papers that say the
        same thing in other words. A paper whose own evidence went into the expansion
        keeps its plain score for that sub-requirement: it cannot vouch for itself.
        """
        base = self._queries[rows]
        texts: list[str] = []
        owners: list[int] = []
        sources = np.zeros((self._papers, len(rows)), dtype=bool)
        for position, row in enumerate(rows):
            for found in previous.sub(self._targets[row][2].id).evidence:
                if found.score > NOISE_SCORE and found.paper in self._paper_index:
                    page_text = self._page_text[(found.paper, found.page)]
                    texts.append(page_text[found.start : found.end])
                    owners.append(position)
                    sources[self._paper_index[found.paper], position] = True
        parts = [(1.0, base), (KEYWORD_BOOST, self._keywords[rows])]
        if texts:
            # Mean of each query's evidence vectors, as one sparse product.
            counts = np.bincount(owners, minlength=len(rows)).astype(np.float64)
            mean = sp.csr_matrix(
                (1.0 / counts[owners], (owners, np.arange(len(texts)))),
                shape=(len(rows), len(texts)),
            )
            feedback = top_terms(sp.csr_matrix(mean @ self._index.vectorise(texts)), FEEDBACK_TERMS)
            parts.append((FEEDBACK_WEIGHT, _widen(feedback, base.shape[1])))
        both, at = best_per_paper(passages, sp.vstack([base, combine(parts)]), self._papers)
        plain, expanded = both[:, : len(rows)], both[:, len(rows) :]
        better = (expanded > plain) & ~sources
        k = len(rows)
        return np.where(better, expanded, plain), np.where(better, at[:, k:], at[:, :k])

    def _results(
        self,
        rows: list[int],
        best: FloatArray,
        where: IntArray,
        passages: Passages,
        iteration: int,
    ) -> dict[str, SubResult]:
        scores = completeness(best)
        supporting = (best >= SUPPORT_SCORE).sum(axis=0)
        papers = self._index.corpus.papers
        # Papers by descending score, ties by paper order: the same every run.
        paper_order = np.broadcast_to(np.arange(best.shape[0])[:, None], best.shape)
        order = np.lexsort((paper_order, -best), axis=0)
        results = {}
        for column, row in enumerate(rows):
            pillar, req, sub = self._targets[row]
            evidence = []
            for paper_index in order[:EVIDENCE_PER_SUB, column].tolist():
                score = float(best[paper_index, column])
                if score <= 0.0:
                    break
                p_row = int(where[paper_index, column])
                page = self._index.pages[int(passages.page[p_row])]
                start, end = int(passages.start[p_row]), int(passages.end[p_row])
                evidence.append(
                    Evidence(
                        paper=papers[paper_index].id,
                        title=papers[paper_index].title,
                        page=page.number,
                        section=page.sections_between(start, end),
                        start=start,
                        end=end,
                        snippet=_snippet(page.text[start:end]),
                        score=round(score, 4),
                    )
                )
            results[sub.id] = SubResult(
                id=sub.id,
                text=sub.text,
                requirement=req.id,
                pillar=pillar.name,
                completeness=round(float(scores[column]), 2),
                supporting_papers=int(supporting[column]),
                evidence=tuple(evidence),
                found_in=iteration,
            )
        return results

    def _report(self, fraction: float, stage: str) -> None:
        if self._progress is not None:
            self._progress(fraction, stage)


def completeness(best: FloatArray) -> FloatArray:
    """Completeness (0-100) per column of a papers x sub-requirements array of best scores."""
    if best.shape[0] == 0:
        return np.zeros(best.shape[1])
    share = MAX_PAPER_SHARE * np.clip((best - NOISE_SCORE) / (STRONG_SCORE - NOISE_SCORE), 0, 1)
    k = min(TOP_PAPERS, best.shape[0])
    top = -np.partition(-share, k - 1, axis=0)[:k]
    return np.asarray(100.0 * (1.0 - np.prod(1.0 - top, axis=0)))


def gap_changes(previous: IterationResult, current: IterationResult) -> list[dict[str, Any]]:
    """How the gaps of `previous` moved in `current`: the ones that changed, biggest rise first.

    Each item: sub_requirement, pillar, before, after, delta (all rounded to 2
    decimals) and closed (no longer a gap). Ties keep framework order.
    """
    changes = []
    for position, sub_id in enumerate(previous.gaps):
        before = previous.sub(sub_id)
        after = current.sub(sub_id)
        delta = round(after.completeness - before.completeness, 2)
        if delta != 0:
            changes.append(
                (
                    -delta,
                    position,
                    {
                        "sub_requirement": sub_id,
                        "pillar": before.pillar,
                        "before": before.completeness,
                        "after": after.completeness,
                        "delta": delta,
                        "closed": not after.is_gap,
                    },
                )
            )
    changes.sort(key=lambda c: (c[0], c[1]))
    return [change for _, _, change in changes]


def has_converged(
    previous: IterationResult, current: IterationResult, threshold: float = 5.0
) -> bool:
    """True when no gap of `previous` rose by more than `threshold` points in `current`."""
    return all(change["delta"] <= threshold for change in gap_changes(previous, current))


def _widen(vectors: sp.csr_matrix, width: int) -> sp.csr_matrix:
    """The same rows with trailing empty columns (for the query words the corpus lacks)."""
    return sp.csr_matrix(
        (vectors.data, vectors.indices, vectors.indptr), shape=(vectors.shape[0], width)
    )


def _snippet(text: str) -> str:
    flat = " ".join(text.split())
    if len(flat) <= SNIPPET_CHARS:
        return flat
    return flat[: SNIPPET_CHARS - 1].rstrip() + "…"


def _mean(values: list[float]) -> float:
    return round(sum(values) / len(values), 2) if values else 0.0
