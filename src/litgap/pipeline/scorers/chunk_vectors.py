"""A paper's chunk vectors in the embedding cache: the chunks embedded so far and their
vectors, one entry per paper (its key names the model and every chunk's text).

The entry is a 0/1 byte per chunk, then the float32 vectors of the 1s in order. Both
the run that scores and the helpers that embed for it (`spread.py`) read and write it.
"""

import numpy as np
import numpy.typing as npt

from litgap.pipeline.cache import Cache
from litgap.pipeline.scorers.encoders import EMBEDDING_DIM, Float32Array

NAMESPACE = "embeddings"
BoolArray = npt.NDArray[np.bool_]


def load(cache: Cache | None, key: str, chunks: int) -> tuple[BoolArray, Float32Array]:
    """(which chunks have a vector, a vector per chunk: zeros where not) of a paper with
    `chunks` chunks; nothing when the entry is missing or not what the key should hold."""
    mask = np.zeros(chunks, dtype=bool)
    vectors = np.zeros((chunks, EMBEDDING_DIM), dtype=np.float32)
    data = cache.get(NAMESPACE, key) if cache is not None else None
    if data is None or len(data) < chunks:
        return mask, vectors
    found = np.frombuffer(data[:chunks], dtype=np.uint8).astype(bool)
    if len(data) != chunks + int(found.sum()) * EMBEDDING_DIM * 4:
        return mask, vectors  # recomputed, never trusted
    vectors[found] = np.frombuffer(data[chunks:], dtype="<f4").reshape(-1, EMBEDDING_DIM)
    return found, vectors


def store(cache: Cache | None, key: str, mask: BoolArray, vectors: Float32Array) -> None:
    if cache is None:
        return
    kept = np.ascontiguousarray(vectors[mask], dtype="<f4")
    cache.put(NAMESPACE, key, mask.astype(np.uint8).tobytes() + kept.tobytes())
