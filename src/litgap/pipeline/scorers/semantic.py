"""The semantic scorer, in two stages: static word vectors pick, a transformer judges.

Stage one scores every passage cheaply: its lexical score blended with the cosine of
static word vectors (WordLlama, `static.py`: one sparse product over the lexical
counts, so it costs about what the lexical scorer costs). For each query it keeps the
CANDIDATES best passages. Stage two embeds only those candidates' chunks with
bge-small-en-v1.5 and gives each candidate the full score: the mean of its lexical
score and its dense score. Every other passage keeps its stage-one score, which is
below the candidates' by construction of the cut. So the transformer's work grows
with queries x CANDIDATES, not with the corpus: a thousand papers cost about what a
hundred do.

Dense cosines are put on the lexical scale by a straight line through two points of
each model's own behaviour (not fitted to any evaluation): what unrelated texts score
at their 90th percentile maps to NOISE_SCORE, what a paraphrase of the query scores
to STRONG_SCORE (bge: 0.55 and 0.75; the static vectors: 0.27 and 0.42). Passages
shorter than MIN_PASSAGE_WORDS lose dense score linearly, as lexical ones do.

That scale alone counts text about the framework's field as evidence for each of its
sub-requirements: bge gives passages about another sub-requirement of the same field
0.57-0.68, above the noise point, so a sub-requirement no paper addresses looked
covered. So the dense score is also bounded by how much more the passage is about its
query than about the framework's other sub-requirements (`field`, every
sub-requirement of the framework, whichever are analysed): its cosine minus its mean
cosine to the others, on a line through the same two kinds of point, measured the
same way: FIELD_NOISE is the 90th percentile of passages against other
sub-requirements of their own framework (0.051, 0.052 and 0.061 on the sample's
paragraphs, the bench paraphrases and the reference framework's reviewed claims),
FIELD_STRONG the paraphrases' median (0.127). A passage's order of sub-requirements
is kept (the margin grows with the cosine), and the two designed gaps of the sample
read 21 and 24 instead of 73 and 56 (`bench/reviewer.py` prints both). A framework
with fewer than FIELD_MIN other sub-requirements cannot say what its field looks
like (their mean cosine varies by about 0.05 / sqrt(n)): there the absolute scale
stands alone.

Stage one's blend leans on the lexical score (STATIC_SHARE of a quarter): the full
score is half lexical by construction, and the static vectors agree with bge less
than the lexical score does on jargon-heavy frameworks (on the reference framework
they alone keep 25-37% of bge's top 10, the lexical score 59-67%); the blend keeps
the most on both sets measured (`bench/candidates.py`).

Chunk vectors are cached per paper (`_chunks_key`: the model's files and every
chunk's text), as the chunks embedded so far and their vectors; what is embedded
depends only on stage one, never on what the cache holds, so a cold run and a cached
one score the same.
"""

import hashlib
from collections.abc import Callable, Sequence

import numpy as np
import scipy.sparse as sp

from litgap.pipeline.cache import Cache, FileCache, cache_key
from litgap.pipeline.scorers import chunk_vectors, spread
from litgap.pipeline.scorers.chunk_vectors import NAMESPACE
from litgap.pipeline.scorers.encoders import EMBEDDING_DIM, Embedder, Float32Array
from litgap.pipeline.scorers.lexical import (
    NOISE_SCORE,
    STRONG_SCORE,
    BlockScores,
    CorpusIndex,
    FloatArray,
    IntArray,
    Passages,
    lexical_rows,
    short_weight,
)
from litgap.pipeline.scorers.ranking import top_rows
from litgap.pipeline.scorers.static import StaticVectors, embed_counts

DENSE_NOISE, DENSE_STRONG = 0.55, 0.75
FIELD_NOISE, FIELD_STRONG = 0.05, 0.13
FIELD_MIN = 9  # other sub-requirements: the mean's error under a third of FIELD_NOISE
STATIC_NOISE, STATIC_STRONG = 0.27, 0.42
LEXICAL_SHARE = 0.5  # of the full score: equal weights, the unfitted default of fusion
STATIC_SHARE = 0.25  # of stage one's score
CANDIDATES = 30  # passages per query that the transformer judges (>= EVIDENCE_PER_SUB)
# Chunks embedded together, by position in their page. The model's int8 activations
# are quantised per call, so a vector depends on the texts embedded with it: a fixed
# group makes it depend on its text and its neighbours' only, never on what else a
# run needs or what the cache holds. Three, the first iteration's stride, so that its
# passages (six chunks every three) cover whole groups.
CHUNK_GROUP = 3
PROGRESS_GROUPS = 1024  # groups embedded between progress reports

Progress = Callable[[float, str], None]


def on_scale(cosine: FloatArray, noise: float, strong: float, *, clip: bool = True) -> FloatArray:
    """A cosine on the lexical score's scale, through (noise, NOISE_SCORE) and
    (strong, STRONG_SCORE); at least 0 when `clip`."""
    slope = (STRONG_SCORE - NOISE_SCORE) / (strong - noise)
    line = NOISE_SCORE + slope * (cosine - noise)
    return np.maximum(0.0, line) if clip else line


def dense_score(cosine: FloatArray, margin: FloatArray | None = None) -> FloatArray:
    """Cosine of bge passage and query embeddings on the lexical score's scale, bounded
    by the `margin` over the field's other sub-requirements where there is one (NaN:
    none)."""
    absolute = on_scale(cosine, DENSE_NOISE, DENSE_STRONG)
    if margin is None:
        return absolute
    bound = on_scale(np.nan_to_num(margin, nan=np.inf), FIELD_NOISE, FIELD_STRONG)
    return np.minimum(absolute, bound)


def _pooled(aggregate: sp.csr_matrix, chunks: Float32Array) -> FloatArray:
    vectors = np.asarray(aggregate @ chunks, dtype=np.float64)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    return vectors


class SemanticScorer:
    """Two-stage scores (see the module doc). `prepare` embeds the queries and the
    static chunk vectors; `scores` embeds the candidates' chunks it lacks."""

    name = "semantic"

    def __init__(
        self,
        embedder: Embedder | None = None,
        cache: Cache | None = None,
        progress: Progress | None = None,
        static: StaticVectors | None = None,
        helpers: spread.Helpers | None = None,
    ) -> None:
        self.embedder = embedder or Embedder()
        self._helpers = helpers
        self.static = static or StaticVectors()
        self._cache = cache
        self._progress = progress
        self._index: CorpusIndex | None = None
        self._queries: Float32Array = np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
        # The field's vectors summed, and per query how many of them are not its own.
        self._field_sum = np.zeros(EMBEDDING_DIM)
        self._field_self = np.zeros(0)
        self._field_others = np.zeros(0)
        self._static_chunks: Float32Array = np.zeros((0, 0), dtype=np.float32)
        self._static_queries: Float32Array = np.zeros((0, 0), dtype=np.float32)
        self._dense: Float32Array = np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
        self._have = np.zeros(0, dtype=bool)  # chunks whose bge vector is in _dense
        self._looked_up = np.zeros(0, dtype=bool)  # papers whose cache entry was read
        self._bounds: IntArray = np.zeros(1, dtype=np.int64)  # first chunk of each paper
        # Each chunk's group: [start, end) of the CHUNK_GROUP chunks it is embedded with.
        self._group_start: IntArray = np.zeros(0, dtype=np.int64)
        self._group_end: IntArray = np.zeros(0, dtype=np.int64)
        self._keys: dict[int, str] = {}

    def prepare(
        self, index: CorpusIndex, queries: Sequence[str], field: Sequence[str] = ()
    ) -> None:
        """Static vectors of every chunk and query; bge vectors of the field and the
        queries (cached), embedded as one set so that a query's vector does not depend
        on which others are analysed."""
        self._index = index
        words = self.static.words(index.stems)
        self._static_chunks = embed_counts(index.chunk_counts, words)
        self._static_queries = self._static_query_vectors(index, queries)
        field = list(dict.fromkeys(field))
        texts = list(dict.fromkeys([*field, *queries]))
        key = cache_key(self.embedder.files.digest, "queries", *texts)
        vectors = self._cached(key, len(texts), lambda: self.embedder.embed(texts, query=True))
        at = {text: i for i, text in enumerate(texts)}
        self._queries = vectors[[at[q] for q in queries]]
        self._field_sum = vectors[: len(field)].astype(np.float64).sum(axis=0)
        own = np.array([at[q] < len(field) for q in queries], dtype=np.float64)
        self._field_self = own
        self._field_others = len(field) - own
        chunks = index.chunk_page.size
        self._dense = np.zeros((chunks, EMBEDDING_DIM), dtype=np.float32)
        self._have = np.zeros(chunks, dtype=bool)
        self._looked_up = np.zeros(index.paper_count, dtype=bool)
        chunk_paper = index.page_paper[index.chunk_page]
        counts = np.bincount(chunk_paper, minlength=index.paper_count)
        self._bounds = np.r_[0, np.cumsum(counts)].astype(np.int64)
        self._keys = {}
        page_first = np.flatnonzero(np.r_[True, index.chunk_page[1:] != index.chunk_page[:-1]])
        page_end = np.r_[page_first[1:], chunks]
        page_of = np.repeat(np.arange(page_first.size), np.diff(np.r_[page_first, chunks]))
        offset = np.arange(chunks) - page_first[page_of]
        self._group_start = page_first[page_of] + offset // CHUNK_GROUP * CHUNK_GROUP
        self._group_end = np.minimum(self._group_start + CHUNK_GROUP, page_end[page_of])

    def scores(self, passages: Passages, sparse: sp.csr_matrix, rows: Sequence[int]) -> BlockScores:
        if self._index is None:
            raise RuntimeError("SemanticScorer.scores before prepare")
        lexical = lexical_rows(passages, sparse)
        short = short_weight(passages.words)
        static_queries = self._static_queries[list(rows)].T.astype(np.float64)
        dense_queries = self._queries[list(rows)].T.astype(np.float64)
        static_chunks = self._static_chunks
        # Stage one's scores of each block, as the ranking below will ask for it again.
        kept: dict[tuple[int, int], FloatArray] = {}

        def first(r0: int, r1: int) -> FloatArray:
            cosine = _pooled(passages.aggregate[r0:r1], static_chunks) @ static_queries
            line = on_scale(cosine, STATIC_NOISE, STATIC_STRONG, clip=False) * short[r0:r1, None]
            lex = (1.0 - STATIC_SHARE) * lexical(slice(r0, r1))
            kept[(r0, r1)] = lex + STATIC_SHARE * np.maximum(line, 0.0)
            # Chosen on the unclipped line: a paraphrase sharing no word with the query
            # and little with its static vector still ranks above texts that share less.
            return lex + STATIC_SHARE * line

        picked = top_rows(passages, first, len(rows), CANDIDATES)
        cand_rows = np.concatenate(picked) if picked else np.zeros(0, dtype=np.int64)
        cand_cols = np.repeat(np.arange(len(picked)), [r.size for r in picked])
        chosen = sp.csr_matrix(
            (np.ones(cand_rows.size, dtype=bool), (cand_rows, cand_cols)),
            shape=(passages.count, len(rows)),
        )
        self._ensure(np.unique(passages.aggregate[np.unique(cand_rows)].indices))
        dense_chunks = self._dense
        others = self._field_others[list(rows)]
        own = self._field_self[list(rows)]
        field_sum = self._field_sum

        def margin(pooled: FloatArray, cosine: FloatArray) -> FloatArray | None:
            """Cosine minus the mean cosine to the field's other sub-requirements (NaN
            where there are too few of them)."""
            if not (others >= FIELD_MIN).any():
                return None
            rest = (pooled @ field_sum)[:, None] - own * cosine
            with np.errstate(divide="ignore", invalid="ignore"):
                mean = rest / others
            return np.where(others >= FIELD_MIN, cosine - mean, np.nan)

        def block(r0: int, r1: int) -> FloatArray:
            if (r0, r1) not in kept:
                first(r0, r1)  # a block the ranking did not ask for: computed now
            out = kept.pop((r0, r1))
            local = chosen[r0:r1].tocoo()
            if local.nnz:
                judged, at = np.unique(local.row, return_inverse=True)
                pooled = _pooled(passages.aggregate[judged + r0], dense_chunks)
                cosine = pooled @ dense_queries
                dense = dense_score(cosine, margin(pooled, cosine)) * short[judged + r0, None]
                full = LEXICAL_SHARE * lexical(judged + r0) + (1.0 - LEXICAL_SHARE) * dense
                out[local.row, local.col] = full[at, local.col]
            return out

        return block

    def _static_query_vectors(self, index: CorpusIndex, queries: Sequence[str]) -> Float32Array:
        # A query's words the corpus never uses still carry meaning here (unlike in the
        # lexical score), so queries are counted over their own words.
        analysed = [index.words_of(q) for q in queries]
        vocabulary = sorted({w for words in analysed for w in words})
        column = {w: i for i, w in enumerate(vocabulary)}
        rows = [i for i, words in enumerate(analysed) for _ in words]
        cols = [column[w] for words in analysed for w in words]
        counts = sp.csr_matrix(
            (np.ones(len(rows), dtype=np.float32), (rows, cols)),
            shape=(len(queries), len(vocabulary)),
        )
        return embed_counts(counts, self.static.words(vocabulary))

    def _ensure(self, chunks: IntArray) -> None:
        """bge vectors for `chunks` and the rest of their groups: from the cache where it
        has them, else embedded, one group per call."""
        starts = np.unique(self._group_start[chunks])
        papers = np.unique(np.searchsorted(self._bounds, starts, side="right") - 1)
        for paper in papers.tolist():
            if not self._looked_up[paper]:
                self._looked_up[paper] = True
                self._load(paper)
        missing = starts[~self._have[starts]]
        if missing.size and self._spread(missing):
            missing = starts[~self._have[starts]]  # what the shares did not cover
        if missing.size == 0:
            return
        ends = self._group_end[missing]
        total = int((ends - missing).sum())
        done = 0
        for at in range(0, missing.size, PROGRESS_GROUPS):
            cut = slice(at, at + PROGRESS_GROUPS)
            spans = list(zip(missing[cut].tolist(), ends[cut].tolist(), strict=True))
            vectors = self.embedder.embed_groups([self._texts(lo, hi) for lo, hi in spans])
            for (lo, hi), group in zip(spans, vectors, strict=True):
                self._dense[lo:hi] = group
                self._have[lo:hi] = True
                done += hi - lo
            if self._progress is not None:
                self._progress(done / total, f"embedding passages: {done} of {total} chunks")
        for paper in np.unique(np.searchsorted(self._bounds, missing, side="right") - 1).tolist():
            self._store(paper)

    def _spread(self, missing: IntArray) -> bool:
        """Share the embedding of the `missing` groups out with the helpers (see
        spread.py), when there are helpers and enough work for them; True when it was
        shared (the vectors are then in the cache, and loaded here)."""
        cache = self._cache
        if self._helpers is None or not isinstance(cache, FileCache):
            return False
        if missing.size < spread.MIN_SHARES * spread.SHARE_GROUPS:
            return False
        paper_of = np.searchsorted(self._bounds, missing, side="right") - 1
        papers = np.unique(paper_of).tolist()
        works = []
        for paper in papers:
            first = int(self._bounds[paper])
            mine = missing[paper_of == paper]
            starts, ends = mine.tolist(), self._group_end[mine].tolist()
            works.append(
                spread.PaperWork(
                    self._key(paper),
                    int(self._bounds[paper + 1]) - first,
                    tuple((lo - first, hi - first) for lo, hi in zip(starts, ends, strict=True)),
                    tuple(tuple(self._texts(lo, hi)) for lo, hi in zip(starts, ends, strict=True)),
                )
            )
        plan = spread.split(self.embedder.files.digest, works)

        def progress(done: int, count: int) -> None:
            if self._progress is not None:
                self._progress(done / count, f"embedding passages: {done} of {count} shares")

        spread.run_plan(cache.root, plan, self.embedder, self._helpers, progress)
        for paper in papers:
            self._load(paper)
        return True

    def _key(self, paper: int) -> str:
        if paper not in self._keys:
            lo, hi = int(self._bounds[paper]), int(self._bounds[paper + 1])
            self._keys[paper] = _chunks_key(self.embedder.files.digest, self._texts(lo, hi))
        return self._keys[paper]

    def _texts(self, lo: int, hi: int) -> list[str]:
        """The texts of chunks lo..hi."""
        index = self._index
        assert index is not None
        return [
            index.pages[page].text[start:end]
            for page, start, end in zip(
                index.chunk_page[lo:hi].tolist(),
                index.chunk_start[lo:hi].tolist(),
                index.chunk_end[lo:hi].tolist(),
                strict=True,
            )
        ]

    def _load(self, paper: int) -> None:
        lo, hi = int(self._bounds[paper]), int(self._bounds[paper + 1])
        mask, vectors = chunk_vectors.load(self._cache, self._key(paper), hi - lo)
        self._dense[lo:hi][mask] = vectors[mask]
        self._have[lo:hi] |= mask

    def _store(self, paper: int) -> None:
        lo, hi = int(self._bounds[paper]), int(self._bounds[paper + 1])
        chunk_vectors.store(self._cache, self._key(paper), self._have[lo:hi], self._dense[lo:hi])

    def _cached(self, key: str, rows: int, compute: Callable[[], Float32Array]) -> Float32Array:
        data = self._cache.get(NAMESPACE, key) if self._cache is not None else None
        if data is not None and len(data) == rows * EMBEDDING_DIM * 4:
            return np.frombuffer(data, dtype="<f4").reshape(rows, EMBEDDING_DIM).astype(np.float32)
        vectors = compute()
        if self._cache is not None:
            self._cache.put(NAMESPACE, key, np.ascontiguousarray(vectors, dtype="<f4").tobytes())
        return vectors


def _chunks_key(model_digest: str, texts: Sequence[str]) -> str:
    """One key for a paper's chunk vectors: the model's files, how chunks are grouped,
    and every chunk's text hash."""
    hashes = [hashlib.sha256(t.encode("utf-8", "surrogatepass")).hexdigest() for t in texts]
    return cache_key(model_digest, f"chunks in groups of {CHUNK_GROUP}", *hashes)
