"""From block scores to what the analysis keeps: best passage per paper, top passages per query.

Scores are computed block by block of whole papers (about BLOCK_ROWS passages), so
memory stays bounded whatever the corpus size: no passages x queries matrix is ever
held whole. Each block's scores are rounded to SCORE_DECIMALS first, so that float
noise (another BLAS, another batch split of the embedder) cannot change an order;
ties go to the lower passage row, which is the same every run.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from litgap.pipeline.scorers.lexical import FloatArray, IntArray, Passages

BLOCK_ROWS = 8192  # passages scored at once: bounds the dense block at 8192 x queries
SCORE_DECIMALS = 4
BoolArray = npt.NDArray[np.bool_]


@dataclass
class Ranked:
    """papers x queries best scores and rows; per query its top passages, best first."""

    best: FloatArray
    where: IntArray
    top_rows: list[IntArray]  # per query: passage rows
    top_scores: list[FloatArray]


def collect(
    passages: Passages,
    scores: Callable[[int, int], FloatArray],
    n_queries: int,
    paper_count: int,
    keep: int,
    *,
    rejected: BoolArray | None = None,
) -> Ranked:
    """Runs `scores` over the blocks and keeps, per query, the `keep` best passages with
    a score above 0 that do not overlap a better one (`without_overlaps`), and for every
    (paper, query) the best score and its passage row.

    `rejected` marks passages that count for nothing (a reviewer's verdict).
    """
    best = np.zeros((paper_count, n_queries))
    where = np.zeros((paper_count, n_queries), dtype=np.int64)
    top_rows = [np.zeros(0, dtype=np.int64) for _ in range(n_queries)]
    top_scores = [np.zeros(0) for _ in range(n_queries)]
    if passages.count == 0 or n_queries == 0:
        return Ranked(best, where, top_rows, top_scores)
    paper_first = np.flatnonzero(np.r_[True, passages.paper[1:] != passages.paper[:-1]])
    bounds = np.r_[paper_first, passages.count]
    # Each kept passage hides at most span - 1 overlapping ones, so the `keep` best
    # without overlaps are among the keep * span best: an exact cut.
    wide = keep * overlap_span(passages)
    for lo, hi in blocks(bounds):
        r0, r1 = int(bounds[lo]), int(bounds[hi])
        block = np.round(scores(r0, r1), SCORE_DECIMALS)
        if rejected is not None:
            block[rejected[r0:r1]] = 0.0
        local = paper_first[lo:hi] - r0
        top = np.maximum.reduceat(block, local, axis=0)
        at_top = block == np.repeat(top, np.diff(np.r_[local, r1 - r0]), axis=0)
        rows = np.arange(r0, r1, dtype=np.int64)[:, None]
        # The first passage reaching the paper's best, so ties resolve the same every run.
        first = np.minimum.reduceat(np.where(at_top, rows, np.iinfo(np.int64).max), local, axis=0)
        papers = passages.paper[paper_first[lo:hi]]
        best[papers] = top
        where[papers] = first
        _merge_top(block, r0, wide, top_rows, top_scores)
    for query in range(n_queries):
        top_rows[query], top_scores[query] = without_overlaps(
            passages, top_rows[query], top_scores[query], keep
        )
    return Ranked(best, where, top_rows, top_scores)


def overlap_span(passages: Passages) -> int:
    """One more than the most passages a passage of this cut can overlap."""
    if passages.count < 2:
        return 1
    window = int(np.diff(passages.aggregate.indptr).max())
    first = passages.aggregate.indices[passages.aggregate.indptr[:-1]]
    steps = np.diff(first)[passages.page[1:] == passages.page[:-1]]
    stride = int(steps[steps > 0].min()) if (steps > 0).any() else window
    return 2 * -(-window // stride) - 1


def without_overlaps(
    passages: Passages, rows: IntArray, scores: FloatArray, keep: int
) -> tuple[IntArray, FloatArray]:
    """The best `keep` of rows (best first) that overlap no better one: one paper's text
    is listed once, in its best cut, and the other places fill the list."""
    kept: list[int] = []
    for at, row in enumerate(rows.tolist()):
        page, start, end = passages.page[row], passages.start[row], passages.end[row]
        if not any(
            passages.page[rows[k]] == page
            and passages.start[rows[k]] < end
            and start < passages.end[rows[k]]
            for k in kept
        ):
            kept.append(at)
            if len(kept) == keep:
                break
    picked = np.array(kept, dtype=np.int64)
    return rows[picked], scores[picked]


def top_rows(
    passages: Passages, scores: Callable[[int, int], FloatArray], n_queries: int, keep: int
) -> list[IntArray]:
    """Per query, the rows of its `keep` best passages by `scores`, whatever their sign
    (rounded and tie-broken as in `collect`)."""
    rows = [np.zeros(0, dtype=np.int64) for _ in range(n_queries)]
    values = [np.zeros(0) for _ in range(n_queries)]
    if passages.count == 0 or n_queries == 0:
        return rows
    paper_first = np.flatnonzero(np.r_[True, passages.paper[1:] != passages.paper[:-1]])
    bounds = np.r_[paper_first, passages.count]
    for lo, hi in blocks(bounds):
        r0, r1 = int(bounds[lo]), int(bounds[hi])
        block = np.round(scores(r0, r1), SCORE_DECIMALS)
        _merge_top(block, r0, keep, rows, values, floor=-np.inf)
    return rows


def _merge_top(
    block: FloatArray,
    r0: int,
    keep: int,
    top_rows: list[IntArray],
    top_scores: list[FloatArray],
    *,
    floor: float = np.nextafter(0.0, 1.0),
) -> None:
    """Merges a block's best passages per query scoring at least `floor` (by default:
    above 0) into the running lists (exact, tie-stable)."""
    k = min(keep, block.shape[0])
    # Every score reaching a query's k-th best is a candidate (ties included), so the
    # cut below is exact whatever the partition algorithm picks.
    kth = -np.partition(-block, k - 1, axis=0)[k - 1]
    candidates = (block >= np.maximum(kth, floor)[None, :]).T
    for query in np.flatnonzero(candidates.any(axis=1)).tolist():
        local = np.flatnonzero(candidates[query])
        rows = np.concatenate((top_rows[query], local + r0))
        values = np.concatenate((top_scores[query], block[local, query]))
        order = np.lexsort((rows, -values))[:keep]
        top_rows[query] = rows[order]
        top_scores[query] = values[order]


def blocks(bounds: IntArray) -> list[tuple[int, int]]:
    """Runs of whole papers [lo, hi) of about BLOCK_ROWS passages each (at least one paper)."""
    runs = []
    lo = 0
    papers = bounds.size - 1
    while lo < papers:
        hi = int(np.searchsorted(bounds, bounds[lo] + BLOCK_ROWS, side="right")) - 1
        hi = min(max(hi, lo + 1), papers)
        runs.append((lo, hi))
        lo = hi
    return runs
