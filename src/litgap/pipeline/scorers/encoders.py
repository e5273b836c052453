"""ONNX inference for the bundled models: a sentence embedder and a cross-encoder.

Both run on the CPU in single-threaded sessions side by side (`sessions()`), each batch of
texts on whichever session is free (onnxruntime lets go of the GIL while it runs). A
batch's result does not depend on the session or on how many threads ran it (checked:
the same bytes with one thread or two), only on the texts in the batch, since the int8
models quantise each call's activations together; so texts are batched in a fixed
order by length, and callers that need a text's vector to depend on nothing else hand
over fixed groups (`embed_groups`). Sessions are created on first use: a run that
finds every embedding in the cache never loads a model.
"""

import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from litgap.pipeline.models import EMBEDDER, RERANKER, ModelFiles, model_files

Float32Array = npt.NDArray[np.float32]


def sessions() -> int:
    """One single-threaded session per core this process may run on: on two cores two
    sessions embed fixed groups 1.35x faster, at 20% less CPU, than one session with two
    threads (which synchronise at every operator)."""
    return max(1, len(os.sched_getaffinity(0)))


MAX_TOKENS = 512  # both models' position limit
BATCH_TOKENS = 512  # padded tokens per batch: measured fastest on 2 cores (~16 passages;
# 8,192 ran 3x slower: attention and cache misses grow with the batch)
# bge's instruction for short queries against passages (its model card's retrieval use).
QUERY_INSTRUCTION = "Represent this sentence for searching relevant passages: "
EMBEDDING_DIM = 384


class _Model:
    def __init__(self, files: ModelFiles) -> None:
        self.files = files
        self._sessions: list[Any] = []
        self._tokenizer: Any = None
        self._lock = threading.Lock()
        self._free: list[Any] = []
        self.texts_run = 0  # texts (or pairs) sent through the network, for tests and benches

    @property
    def loaded(self) -> bool:
        return bool(self._sessions)

    def _load(self) -> Any:
        """The tokenizer, with the sessions created (once per process and model files)."""
        if not self._sessions:
            sessions_of, self._tokenizer = _loaded(self.files)
            self._sessions = list(sessions_of)
            self._free = list(self._sessions)
        return self._tokenizer

    def _run_all(self, batches: Sequence[Sequence[Any]]) -> list[Any]:
        """The network's first output for each batch of encodings, in order."""
        self._load()
        if len(batches) <= 1:
            return [self._run(batch) for batch in batches]
        with ThreadPoolExecutor(len(self._sessions)) as pool:
            return list(pool.map(self._run, batches))

    def _run(self, encodings: Sequence[Any]) -> Any:
        """One batch, padded to its longest encoding, on a free session."""
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        types = np.zeros_like(ids)
        for row, e in enumerate(encodings):
            n = len(e.ids)
            ids[row, :n] = e.ids
            mask[row, :n] = e.attention_mask
            types[row, :n] = e.type_ids
        with self._lock:
            session = self._free.pop()
            self.texts_run += len(encodings)
        try:
            return session.run(
                None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
            )[0]
        finally:
            with self._lock:
                self._free.append(session)


@lru_cache(maxsize=4)
def _loaded(files: ModelFiles) -> tuple[tuple[Any, ...], Any]:
    """One model's sessions and tokenizer, shared by every model object of the process:
    a worker process analyses job after job, and creating them costs about half a
    second. Sessions are safe to share: onnxruntime runs them from any thread."""
    # Imported here: only a run that has something to embed pays for the import.
    import onnxruntime
    from tokenizers import Tokenizer

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    # A worker shares its cores with the server and other jobs: a spinning thread
    # that loses its core wastes the time slices it gets.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    created = tuple(
        onnxruntime.InferenceSession(
            str(files.path("model.onnx")), options, providers=["CPUExecutionProvider"]
        )
        for _ in range(sessions())
    )
    tokenizer = Tokenizer.from_file(str(files.path("tokenizer.json")))
    tokenizer.enable_truncation(MAX_TOKENS)
    tokenizer.no_padding()
    return created, tokenizer


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


def _unit_cls(hidden: Any) -> Float32Array:
    """The [CLS] vectors of a batch's last layer, l2-normalised."""
    cls = np.asarray(hidden[:, 0, :], dtype=np.float32)
    return cls / np.maximum(np.linalg.norm(cls, axis=1, keepdims=True), 1e-12)


class Embedder(_Model):
    """bge-small-en-v1.5: the [CLS] vector of the last layer, l2-normalised."""

    def __init__(self, files: ModelFiles | None = None) -> None:
        super().__init__(files or model_files(EMBEDDER))

    def embed(self, texts: Sequence[str], *, query: bool = False) -> Float32Array:
        """One unit-length float32 row per text (queries get bge's retrieval instruction),
        batched by length."""
        out = np.zeros((len(texts), EMBEDDING_DIM), dtype=np.float32)
        if not texts:
            return out
        prefix = QUERY_INSTRUCTION if query else ""
        encodings = self._load().encode_batch([prefix + t for t in texts])
        batches = _batches([len(e.ids) for e in encodings])
        hidden = self._run_all([[encodings[i] for i in batch] for batch in batches])
        for batch, states in zip(batches, hidden, strict=True):
            out[batch] = _unit_cls(states)
        return out

    def embed_groups(self, groups: Sequence[Sequence[str]]) -> list[Float32Array]:
        """Each group of texts embedded by a call of its own (a vector then depends only
        on its group), the groups spread over the sessions."""
        if not groups:
            return []
        tokenizer = self._load()
        encoded = [tokenizer.encode_batch(list(group)) for group in groups]
        return [_unit_cls(states) for states in self._run_all(encoded)]


class CrossEncoder(_Model):
    """ms-marco-MiniLM-L-12-v2: relevance of a (query, passage) pair as a probability."""

    def __init__(self, files: ModelFiles | None = None) -> None:
        super().__init__(files or model_files(RERANKER))

    def relevance(self, pairs: Sequence[tuple[str, str]]) -> npt.NDArray[np.float64]:
        """sigmoid(logit) per pair, in (0, 1)."""
        out = np.zeros(len(pairs), dtype=np.float64)
        if not pairs:
            return out
        encodings = self._load().encode_batch(list(pairs))
        batches = _batches([len(e.ids) for e in encodings])
        outputs = self._run_all([[encodings[i] for i in batch] for batch in batches])
        for batch, output in zip(batches, outputs, strict=True):
            logits = np.asarray(output, dtype=np.float64)
            out[batch] = 1.0 / (1.0 + np.exp(-logits[:, 0]))
        return out
