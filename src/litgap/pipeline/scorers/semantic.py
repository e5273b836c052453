"""The semantic scorer: dense embeddings (bge-small-en-v1.5) fused with the lexical score.

Every chunk of CHUNK_WORDS words is embedded once; a passage's vector is the
normalised sum of its chunks' vectors. So every cut of the deep loop (150, 75, 50
words) costs a sparse product, never another pass through the network, and the cache
holds one blob per paper: its chunks' vectors, keyed by the model's files and the
chunks' texts (`cache_key`), so a re-run embeds nothing.

A passage's score is the mean of its lexical score and its dense score, the cosine
put on the lexical scale by a straight line through two points of the model's own
behaviour (not fitted to any evaluation): DENSE_NOISE, about what unrelated texts
score (0.34-0.52 in our check of unrelated pairs), maps to NOISE_SCORE, and
DENSE_STRONG, what a paraphrase of the query scores (0.66-0.80), to STRONG_SCORE.
Equal weights are the unfitted default of score fusion. Passages shorter than
MIN_PASSAGE_WORDS lose dense score linearly, as lexical ones do.
"""

import hashlib
from collections.abc import Callable, Sequence

import numpy as np
import scipy.sparse as sp

from litgap.pipeline.cache import Cache, cache_key
from litgap.pipeline.scorers.encoders import EMBEDDING_DIM, Embedder, Float32Array
from litgap.pipeline.scorers.lexical import (
    NOISE_SCORE,
    STRONG_SCORE,
    BlockScores,
    CorpusIndex,
    FloatArray,
    Passages,
    lexical_scores,
    short_weight,
)

NAMESPACE = "embeddings"
DENSE_NOISE = 0.55
DENSE_STRONG = 0.75
LEXICAL_SHARE = 0.5
GROUP_CHUNKS = 4096  # chunks embedded per call: papers are cached as each group ends

Progress = Callable[[float, str], None]


def dense_score(cosine: FloatArray) -> FloatArray:
    """Cosine of passage and query embeddings on the lexical score's scale (>= 0)."""
    slope = (STRONG_SCORE - NOISE_SCORE) / (DENSE_STRONG - DENSE_NOISE)
    return np.maximum(0.0, NOISE_SCORE + slope * (cosine - DENSE_NOISE))


class SemanticScorer:
    """Lexical and dense scores, fused. `prepare` embeds (or reads from `cache`)."""

    name = "semantic"

    def __init__(
        self,
        embedder: Embedder | None = None,
        cache: Cache | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.embedder = embedder or Embedder()
        self._cache = cache
        self._progress = progress
        self._chunks: Float32Array = np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
        self._queries: Float32Array = np.zeros((0, EMBEDDING_DIM), dtype=np.float32)

    def prepare(self, index: CorpusIndex, queries: Sequence[str]) -> None:
        """Embeds the corpus's chunks and the query texts, reading what the cache has."""
        self._chunks = self._embed_chunks(index)
        key = cache_key(self.embedder.files.digest, "queries", *queries)
        self._queries = self._cached(
            key, len(queries), lambda: self.embedder.embed(queries, query=True)
        )

    def scores(self, passages: Passages, sparse: sp.csr_matrix, rows: Sequence[int]) -> BlockScores:
        lexical = lexical_scores(passages, sparse)
        queries = self._queries[list(rows)].T
        short = short_weight(passages.words)

        def block(r0: int, r1: int) -> FloatArray:
            pooled = np.asarray(passages.aggregate[r0:r1] @ self._chunks, dtype=np.float64)
            pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
            dense = dense_score(pooled @ queries) * short[r0:r1, None]
            return LEXICAL_SHARE * lexical(r0, r1) + (1.0 - LEXICAL_SHARE) * dense

        return block

    def _embed_chunks(self, index: CorpusIndex) -> Float32Array:
        texts = [
            index.pages[page].text[start:end]
            for page, start, end in zip(
                index.chunk_page.tolist(),
                index.chunk_start.tolist(),
                index.chunk_end.tolist(),
                strict=True,
            )
        ]
        chunk_paper = index.page_paper[index.chunk_page]
        bounds = np.r_[0, np.cumsum(np.bincount(chunk_paper, minlength=index.paper_count))]
        out = np.zeros((len(texts), EMBEDDING_DIM), dtype=np.float32)
        missing: list[tuple[int, int, str]] = []
        for paper in range(index.paper_count):
            lo, hi = int(bounds[paper]), int(bounds[paper + 1])
            if lo == hi:
                continue
            key = _chunks_key(self.embedder.files.digest, texts[lo:hi])
            found = self._get(key, hi - lo)
            if found is None:
                missing.append((lo, hi, key))
            else:
                out[lo:hi] = found
        done = 0
        total = sum(hi - lo for lo, hi, _ in missing)
        group: list[tuple[int, int, str]] = []
        for item in missing:
            group.append(item)
            if sum(hi - lo for lo, hi, _ in group) >= GROUP_CHUNKS or item is missing[-1]:
                vectors = self.embedder.embed([t for lo, hi, _ in group for t in texts[lo:hi]])
                at = 0
                for lo, hi, key in group:
                    out[lo:hi] = vectors[at : at + hi - lo]
                    self._put(key, out[lo:hi])
                    at += hi - lo
                done += at
                group = []
                if self._progress is not None:
                    self._progress(done / total, f"embedding passages: {done} of {total} chunks")
        return out

    def _cached(self, key: str, rows: int, compute: Callable[[], Float32Array]) -> Float32Array:
        found = self._get(key, rows)
        if found is not None:
            return found
        vectors = compute()
        self._put(key, vectors)
        return vectors

    def _get(self, key: str, rows: int) -> Float32Array | None:
        data = self._cache.get(NAMESPACE, key) if self._cache is not None else None
        if data is None or len(data) != rows * EMBEDDING_DIM * 4:
            return None  # absent, or not what this key should hold: recompute
        return np.frombuffer(data, dtype="<f4").reshape(rows, EMBEDDING_DIM).astype(np.float32)

    def _put(self, key: str, vectors: Float32Array) -> None:
        if self._cache is not None:
            self._cache.put(NAMESPACE, key, np.ascontiguousarray(vectors, dtype="<f4").tobytes())


def _chunks_key(model_digest: str, texts: Sequence[str]) -> str:
    """One key for a paper's chunk vectors: the model's files and every chunk's text hash."""
    hashes = [hashlib.sha256(t.encode("utf-8", "surrogatepass")).hexdigest() for t in texts]
    return cache_key(model_digest, "chunks", *hashes)
