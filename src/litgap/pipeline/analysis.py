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

Scores come from the chosen scorer (`scorers/`: "lexical" TF-IDF, or "semantic":
dense embeddings fused with it), all on the same scale. With `rerank`, a
cross-encoder re-orders each sub-requirement's RERANK_TOP best passages: it decides
their order, not their strength (the i-th passage after reranking gets the i-th best
score of the set), because its probabilities are calibrated for ranking, not as
evidence strength.

Each sub-requirement keeps its EVIDENCE_PER_SUB best passages (several per paper
allowed, but none overlapping a better one: the same text is listed once, in its best
cut), each with a stable evidence_id (`evidence_id`), and per paper its best score.

Reviewer verdicts (`verdicts`: evidence_id -> "accept" | "reject") apply as follows.
A rejected passage no longer counts: its score is 0 for every sub-requirement, so it
is neither evidence nor feedback for the deep loop's expanded queries; so is every
passage of a finer cut that lies inside it (same page, within its offsets), because
the deep loop would otherwise find the rejected text again in smaller pieces. An
accepted passage counts as strong evidence: under every sub-requirement whose best
passages include it, its score is at least STRONG_SCORE. A verdict whose id matches
no passage of the cuts made so far changes nothing (the service layer refuses
unknown ids before a job starts).

Iteration 1 scores every sub-requirement on passages of 150 words. Each further
iteration re-scores only the current gaps, on finer, overlapping passages (75 words,
then 50 from iteration 3 on: evidence buried in a long paragraph stands out), with
queries expanded by the pillar's keywords and the best evidence found so far. A
sub-requirement keeps the best result it ever had, so completeness never decreases
from one iteration to the next; non-gaps keep theirs untouched. Once the passages are
at their finest, an iteration can only gain through new evidence feeding the
expansion, so the loop settles and converges.
"""

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from litgap.pipeline.cache import Cache
from litgap.pipeline.corpus import Corpus
from litgap.pipeline.errors import PipelineError
from litgap.pipeline.models import SCORERS, scorer_info
from litgap.pipeline.pillars import Framework
from litgap.pipeline.results import (
    GAP_THRESHOLD,
    Evidence,
    IterationResult,
    PaperScore,
    Search,
    SubResult,
    evidence_id,
)
from litgap.pipeline.scorers import Scorer, make_scorer
from litgap.pipeline.scorers.lexical import (
    NOISE_SCORE,
    STRONG_SCORE,
    CorpusIndex,
    FloatArray,
    Passages,
    combine,
    top_terms,
)
from litgap.pipeline.scorers.ranking import Ranked, collect, without_overlaps

if TYPE_CHECKING:
    from litgap.pipeline.scorers.spread import Helpers
from litgap.pipeline.thresholds import SUPPORT_SCORE
from litgap.pipeline.verdicts import VerdictIndex

Progress = Callable[[float, str], None]

__all__ = [
    "EVIDENCE_PER_SUB",
    "GAP_THRESHOLD",
    "MAX_PAPER_SHARE",
    "NOISE_SCORE",
    "STRONG_SCORE",
    "SUPPORT_SCORE",
    "TOP_PAPERS",
    "Analyzer",
    "Evidence",
    "IterationResult",
    "PaperScore",
    "Search",
    "SubResult",
    "completeness",
    "gap_changes",
    "has_converged",
    "search_for",
]

MAX_PAPER_SHARE = 0.7  # the most one paper can contribute: coverage needs corroboration
TOP_PAPERS = 5  # papers counted per sub-requirement; more do not add
EVIDENCE_PER_SUB = 20  # best passages kept per sub-requirement, several per paper allowed
RERANK_TOP = 20  # passages per sub-requirement the cross-encoder re-orders
FEEDBACK_PAPERS = 3  # papers whose best passage feeds a deep iteration's expansion
# Query make-up: the sub-requirement's own words weigh most, its context less.
SUB_WEIGHT, REQUIREMENT_WEIGHT, PILLAR_WEIGHT = 1.0, 0.5, 0.3
KEYWORD_BOOST, FEEDBACK_WEIGHT = 0.2, 0.3  # deep iterations' query expansion
FEEDBACK_TERMS = 10  # terms taken from the evidence found so far

SCHEDULE = (Search(6, 3, False), Search(3, 1, True), Search(2, 1, True))


def search_for(iteration: int) -> Search:
    """The search of an iteration (1-based); from the last of SCHEDULE on it stays the same."""
    return SCHEDULE[min(iteration, len(SCHEDULE)) - 1]


class Analyzer:
    """Scores the selected pillars' sub-requirements against one corpus.

    Construction indexes the corpus (and, for the semantic scorer, embeds it or reads
    its embeddings from `cache`, sharing the embedding with `helpers`, a
    `scorers.spread.Helpers`, when there are); each `iterate` call is one pass. Raises
    FrameworkError for an unknown or empty pillar selection, CorpusError when the
    corpus has no words to analyse, and PipelineError for an unknown scorer or verdict.
    """

    def __init__(
        self,
        corpus: Corpus,
        framework: Framework,
        pillars: Sequence[str],
        *,
        progress: Progress | None = None,
        scorer: str = "lexical",
        rerank: bool = False,
        cache: Cache | None = None,
        verdicts: Mapping[str, str] | None = None,
        helpers: "Helpers | None" = None,
    ) -> None:
        if scorer not in SCORERS:
            raise PipelineError(f"unknown scorer {scorer!r}: choose one of {list(SCORERS)}")
        self._progress = progress
        self._pillars = framework.select(pillars)
        self._verdicts = VerdictIndex(verdicts or {})
        self._info = scorer_info(scorer, rerank)
        self._report(0.0, "indexing passages")
        self._index = CorpusIndex(corpus, cache)
        self._targets = [
            (pillar, req, sub) for pillar in self._pillars for req, sub in pillar.sub_requirements()
        ]
        self._papers = self._index.paper_count
        self._paper_index = {paper.id: i for i, paper in enumerate(corpus.papers)}
        self._page_text = {
            (paper.id, page.number): page.text for paper in corpus.papers for page in paper.pages
        }
        self._report(0.3, "building queries")
        self._queries, self._keywords = self._base_queries()
        self._scorer: Scorer = make_scorer(
            scorer,
            cache=cache,
            progress=lambda f, stage: self._report(0.3 + 0.7 * f, stage),
            helpers=helpers,
        )
        field = [sub.text for pillar in framework.pillars for _, sub in pillar.sub_requirements()]
        self._scorer.prepare(self._index, [sub.text for _, _, sub in self._targets], field)
        self._reranker: Any = None
        if rerank:
            from litgap.pipeline.scorers.encoders import CrossEncoder

            self._reranker = CrossEncoder()
        self._report(1.0, "indexed")

    @property
    def pillar_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self._pillars)

    @property
    def scorer_info(self) -> dict[str, Any]:
        """How this analysis scores (models.scorer_info): recorded in every result."""
        return dict(self._info)

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
            ids = self._verdicts.learn(passages, self._index) if self._verdicts else None
            rejected = self._verdicts.rejected(passages) if self._verdicts else None
            self._report(0.3, f"iteration {iteration}: scoring")
            if search.expand and previous is not None:
                ranked = self._score_expanded(passages, rows, previous, rejected)
            else:
                scores = self._scorer.scores(passages, self._queries[rows], rows)
                ranked = collect(
                    passages, scores, len(rows), self._papers, EVIDENCE_PER_SUB, rejected=rejected
                )
            if self._reranker is not None:
                self._report(0.6, f"iteration {iteration}: reranking")
                self._rerank(ranked, rows, passages)
            if ids is not None:
                self._accept(ranked, ids, passages)
            self._report(0.8, f"iteration {iteration}: collecting evidence")
            fresh = self._results(rows, ranked, passages, iteration, ids)
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
        return IterationResult(
            iteration,
            self.pillar_names,
            tuple(subs),
            search,
            searched,
            scorer=self.scorer_info,
            verdicts=self._verdicts.given,
        )

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
        self,
        passages: Passages,
        rows: list[int],
        previous: IterationResult,
        rejected: Any,
    ) -> Ranked:
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
            for found in _feedback(previous.sub(self._targets[row][2].id).evidence):
                if found.paper in self._paper_index:
                    texts.append(
                        self._page_text[(found.paper, found.page)][found.start : found.end]
                    )
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
        k = len(rows)
        scores = self._scorer.scores(passages, sp.vstack([base, combine(parts)]), rows + rows)
        both = collect(passages, scores, 2 * k, self._papers, EVIDENCE_PER_SUB, rejected=rejected)
        plain, expanded = both.best[:, :k], both.best[:, k:]
        better = (expanded > plain) & ~sources
        best = np.where(better, expanded, plain)
        where = np.where(better, both.where[:, k:], both.where[:, :k])
        top_rows, top_scores = [], []
        for column in range(k):
            rows_e, scores_e = both.top_rows[k + column], both.top_scores[k + column]
            own = sources[passages.paper[rows_e], column]
            merged_rows = np.concatenate((both.top_rows[column], rows_e[~own]))
            merged = np.concatenate((both.top_scores[column], scores_e[~own]))
            # A passage found by both queries keeps its higher score, once.
            order = np.lexsort((merged_rows, -merged))
            _, first = np.unique(merged_rows[order], return_index=True)
            keep = order[np.sort(first)]
            rows_kept, scores_kept = without_overlaps(
                passages, merged_rows[keep], merged[keep], EVIDENCE_PER_SUB
            )
            top_rows.append(rows_kept)
            top_scores.append(scores_kept)
        return Ranked(best, where, top_rows, top_scores)

    def _rerank(self, ranked: Ranked, rows: list[int], passages: Passages) -> None:
        """Re-orders each query's RERANK_TOP best passages by the cross-encoder."""
        for column, row in enumerate(rows):
            top = ranked.top_rows[column][:RERANK_TOP]
            if top.size < 2:
                continue
            query = self._targets[row][2].text
            relevance = np.round(
                self._reranker.relevance([(query, self._text(passages, r)) for r in top.tolist()]),
                4,
            )
            order = np.lexsort((np.arange(top.size), -relevance))
            scores = ranked.top_scores[column][: top.size]  # already best first
            ranked.top_rows[column][: top.size] = top[order]
            papers = passages.paper[top[order]]
            for paper in np.unique(papers).tolist():
                at = int(np.flatnonzero(papers == paper)[0])  # its best reranked passage
                ranked.best[paper, column] = scores[at]
                ranked.where[paper, column] = top[order][at]

    def _accept(self, ranked: Ranked, ids: list[str], passages: Passages) -> None:
        """Accepted passages among a query's best count at least STRONG_SCORE there."""
        for column in range(len(ranked.top_rows)):
            top, scores = ranked.top_rows[column], ranked.top_scores[column]
            raised = False
            for at, row in enumerate(top.tolist()):
                if self._verdicts.verdict(ids[row]) == "accept" and scores[at] < STRONG_SCORE:
                    scores[at] = STRONG_SCORE
                    raised = True
                    paper = int(passages.paper[row])
                    if ranked.best[paper, column] <= STRONG_SCORE:
                        ranked.best[paper, column] = STRONG_SCORE
                        ranked.where[paper, column] = row
            if raised:
                order = np.lexsort((np.arange(top.size), -scores))
                ranked.top_rows[column], ranked.top_scores[column] = top[order], scores[order]

    def _text(self, passages: Passages, row: int) -> str:
        page = self._index.pages[int(passages.page[row])]
        return page.text[int(passages.start[row]) : int(passages.end[row])]

    def _evidence(
        self, passages: Passages, row: int, score: float, rank: int, ids: list[str] | None
    ) -> Evidence:
        paper = self._index.corpus.papers[int(passages.paper[row])]
        page = self._index.pages[int(passages.page[row])]
        start, end = int(passages.start[row]), int(passages.end[row])
        eid = ids[row] if ids is not None else evidence_id(paper.sha256, page.number, start, end)
        return Evidence(
            evidence_id=eid,
            paper=paper.id,
            title=paper.title,
            page=page.number,
            section=page.sections_between(start, end),
            start=start,
            end=end,
            text=page.text[start:end],
            score=round(score, 4),
            rank=rank,
            verdict=self._verdicts.verdict(eid),
        )

    def _results(
        self,
        rows: list[int],
        ranked: Ranked,
        passages: Passages,
        iteration: int,
        ids: list[str] | None,
    ) -> dict[str, SubResult]:
        best = ranked.best
        scores = completeness(best)
        supporting = (best >= SUPPORT_SCORE).sum(axis=0)
        papers = self._index.corpus.papers
        results = {}
        for column, row in enumerate(rows):
            pillar, req, sub = self._targets[row]
            evidence = tuple(
                self._evidence(passages, int(r), float(s), rank, ids)
                for rank, (r, s) in enumerate(
                    zip(ranked.top_rows[column], ranked.top_scores[column], strict=True), start=1
                )
            )
            above = np.flatnonzero(best[:, column] > NOISE_SCORE)
            # Papers by descending score, ties by paper order: the same every run.
            above = above[np.lexsort((above, -best[above, column]))]
            paper_scores = []
            for p in above.tolist():
                e = self._evidence(passages, int(ranked.where[p, column]), 0.0, 0, ids)
                paper_scores.append(
                    PaperScore(papers[p].id, round(float(best[p, column]), 4), e.evidence_id)
                )
            results[sub.id] = SubResult(
                id=sub.id,
                text=sub.text,
                requirement=req.id,
                pillar=pillar.name,
                completeness=round(float(scores[column]), 2),
                supporting_papers=int(supporting[column]),
                evidence=evidence,
                found_in=iteration,
                papers=tuple(paper_scores),
            )
        return results

    def _report(self, fraction: float, stage: str) -> None:
        if self._progress is not None:
            self._progress(fraction, stage)


def _feedback(evidence: Sequence[Evidence]) -> list[Evidence]:
    """The best passage of each of the FEEDBACK_PAPERS best papers, rejected ones left out."""
    chosen: dict[str, Evidence] = {}
    for found in evidence:
        if found.score > NOISE_SCORE and found.verdict != "reject" and found.paper not in chosen:
            chosen[found.paper] = found
            if len(chosen) == FEEDBACK_PAPERS:
                break
    return list(chosen.values())


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
