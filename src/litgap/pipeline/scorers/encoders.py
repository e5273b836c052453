"""ONNX inference for the bundled models: a sentence embedder and a cross-encoder.

Both run on the CPU with a fixed thread count (the results of a reduction depend on
how it is split between threads) and texts batched in a fixed order by length, so the
same texts give the same numbers every run. Sessions are created on first use: a run
that finds every embedding in the cache never loads a model.
"""

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from litgap.pipeline.models import EMBEDDER, RERANKER, ModelFiles, model_files

Float32Array = npt.NDArray[np.float32]
THREADS = 2  # fixed, whatever the machine: part of what makes a run reproducible
MAX_TOKENS = 512  # both models' position limit
BATCH_TOKENS = 512  # padded tokens per batch: measured fastest on 2 cores (~16 passages;
# 8,192 ran 3x slower: attention and cache misses grow with the batch)
# bge's instruction for short queries against passages (its model card's retrieval use).
QUERY_INSTRUCTION = "Represent this sentence for searching relevant passages: "
EMBEDDING_DIM = 384


class _Model:
    def __init__(self, files: ModelFiles) -> None:
        self.files = files
        self._session: Any = None
        self._tokenizer: Any = None
        self.texts_run = 0  # texts (or pairs) sent through the network, for tests and benches

    @property
    def loaded(self) -> bool:
        return self._session is not None

    def _load(self) -> tuple[Any, Any]:
        if self._session is None:
            # Imported here: only a run that has something to embed pays for the import.
            import onnxruntime
            from tokenizers import Tokenizer

            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = THREADS
            options.inter_op_num_threads = 1
            options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
            # Threads sleep between operators instead of spinning: a worker shares its
            # cores with the server and other jobs, and spinning threads that lose their
            # core stall each other (embedding ran 2.4x slower under load with spinning).
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            self._session = onnxruntime.InferenceSession(
                str(self.files.path("model.onnx")), options, providers=["CPUExecutionProvider"]
            )
            tokenizer = Tokenizer.from_file(str(self.files.path("tokenizer.json")))
            tokenizer.enable_truncation(MAX_TOKENS)
            tokenizer.no_padding()
            self._tokenizer = tokenizer
        return self._session, self._tokenizer

    def _run(self, encodings: Sequence[Any]) -> Any:
        """The network's first output for encodings of one batch, padded to the longest."""
        session, _ = self._load()
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        types = np.zeros_like(ids)
        for row, e in enumerate(encodings):
            n = len(e.ids)
            ids[row, :n] = e.ids
            mask[row, :n] = e.attention_mask
            types[row, :n] = e.type_ids
        self.texts_run += len(encodings)
        return session.run(
            None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        )[0]


def _batches(lengths: Sequence[int]) -> list[list[int]]:
    """Indices grouped by length (shortest first, ties by index), BATCH_TOKENS padded each."""
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], i))
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:
        if current and (len(current) + 1) * lengths[i] > BATCH_TOKENS:
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


class Embedder(_Model):
    """bge-small-en-v1.5: the [CLS] vector of the last layer, l2-normalised."""

    def __init__(self, files: ModelFiles | None = None) -> None:
        super().__init__(files or model_files(EMBEDDER))

    def embed(self, texts: Sequence[str], *, query: bool = False) -> Float32Array:
        """One unit-length float32 row per text (queries get bge's retrieval instruction)."""
        out = np.zeros((len(texts), EMBEDDING_DIM), dtype=np.float32)
        if not texts:
            return out
        _, tokenizer = self._load()
        prefix = QUERY_INSTRUCTION if query else ""
        encodings = tokenizer.encode_batch([prefix + t for t in texts])
        for batch in _batches([len(e.ids) for e in encodings]):
            hidden = self._run([encodings[i] for i in batch])
            cls = np.asarray(hidden[:, 0, :], dtype=np.float32)
            norms = np.linalg.norm(cls, axis=1, keepdims=True)
            out[batch] = cls / np.maximum(norms, 1e-12)
        return out


class CrossEncoder(_Model):
    """ms-marco-MiniLM-L-12-v2: relevance of a (query, passage) pair as a probability."""

    def __init__(self, files: ModelFiles | None = None) -> None:
        super().__init__(files or model_files(RERANKER))

    def relevance(self, pairs: Sequence[tuple[str, str]]) -> npt.NDArray[np.float64]:
        """sigmoid(logit) per pair, in (0, 1)."""
        out = np.zeros(len(pairs), dtype=np.float64)
        if not pairs:
            return out
        _, tokenizer = self._load()
        encodings = tokenizer.encode_batch(list(pairs))
        for batch in _batches([len(e.ids) for e in encodings]):
            logits = np.asarray(self._run([encodings[i] for i in batch]), dtype=np.float64)
            out[batch] = 1.0 / (1.0 + np.exp(-logits[:, 0]))
        return out
