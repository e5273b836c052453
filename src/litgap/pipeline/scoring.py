"""Kept for imports written before scorers/ existed: the lexical scorer's building blocks."""

from litgap.pipeline.scorers.lexical import (
    CHUNK_WORDS,
    CorpusIndex,
    FloatArray,
    IntArray,
    Passages,
    chunk_spans,
    combine,
    length_weight,
    light_stem,
    top_terms,
    word_spans,
)

__all__ = [
    "CHUNK_WORDS",
    "CorpusIndex",
    "FloatArray",
    "IntArray",
    "Passages",
    "chunk_spans",
    "combine",
    "length_weight",
    "light_stem",
    "top_terms",
    "word_spans",
]
