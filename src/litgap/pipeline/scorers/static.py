"""Static word vectors (WordLlama): the semantic scorer's cheap first stage.

WordLlama embeds a text as the mean of its tokens' trained vectors, with no network
to run. Here a text is embedded through the words the lexical index already counted
(lower-cased, stop words out, plurals folded): each word's vector is the sum of its
tokens' vectors, and a chunk's vector is its word counts times those, one sparse
product for the whole corpus. So the first stage costs no second pass over the text,
and whatever the lexical counts' cache holds it holds too. Measured against
WordLlama's own tokenisation of the raw text, this keeps as many of the transformer's
top passages among its candidates or more (bench/candidates.py).
"""

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from litgap.pipeline.models import STATIC, ModelFiles, model_files

Float32Array = npt.NDArray[np.float32]
STATIC_DIM = 256


class StaticVectors:
    """Word vectors from WordLlama's token table, loaded on first use."""

    def __init__(self, files: ModelFiles | None = None) -> None:
        self.files = files or model_files(STATIC)
        self._table: Float32Array | None = None
        self._tokenizer: Any = None

    def _load(self) -> tuple[Float32Array, Any]:
        if self._table is None:
            self._table, self._tokenizer = _loaded(self.files)
        return self._table, self._tokenizer

    def words(self, words: Sequence[str]) -> Float32Array:
        """One row per word: the sum of its tokens' vectors (as a word inside a sentence)."""
        table, tokenizer = self._load()
        out = np.zeros((len(words), STATIC_DIM), dtype=np.float32)
        if not words:
            return out
        encodings = tokenizer.encode_batch([" " + w for w in words], add_special_tokens=False)
        lengths = np.fromiter((len(e.ids) for e in encodings), np.int64, len(encodings))
        ids = np.fromiter((i for e in encodings for i in e.ids), np.int64, int(lengths.sum()))
        rows = np.repeat(np.arange(len(words)), lengths)
        counts = sp.csr_matrix(
            (np.ones(ids.size, dtype=np.float32), (rows, ids)),
            shape=(len(words), table.shape[0]),
        )
        return np.asarray(counts @ table, dtype=np.float32)


@lru_cache(maxsize=2)
def _loaded(files: ModelFiles) -> tuple[Float32Array, Any]:
    """The token table and tokenizer, once per process: reading and widening the table
    costs about 90 ms, which a worker would otherwise pay for every job."""
    # Imported here: only the semantic scorer pays for them.
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer

    weights, tokenizer_file = files.sha256[0][0], files.sha256[1][0]
    table = load_file(str(files.path(weights)))["embedding.weight"]
    widened = np.ascontiguousarray(table[:, :STATIC_DIM], dtype=np.float32)
    widened.flags.writeable = False  # shared by every scorer of the process
    tokenizer = Tokenizer.from_file(str(files.path(tokenizer_file)))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return widened, tokenizer


def embed_counts(counts: sp.csr_matrix, word_vectors: Float32Array) -> Float32Array:
    """Unit rows: each row of word counts times the word vectors (zero rows stay zero)."""
    vectors = np.asarray(counts @ word_vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)
