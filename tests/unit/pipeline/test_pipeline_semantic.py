"""The semantic scorer: sane embeddings, meaning over wording, an embedding cache that
makes a re-run embed nothing, and the model recorded with its files' hashes."""

import subprocess
import sys
from pathlib import Path

import numpy as np

from litgap.pipeline import Analyzer, Corpus, parse_framework, scorer_info
from litgap.pipeline.cache import FileCache
from litgap.pipeline.scorers.encoders import Embedder
from tests.unit.pipeline.inputs import SOIL, WATER, farm_corpus, framework_data, paper

FRAMEWORK = parse_framework(framework_data())


class RecordingCache(FileCache):
    """A real file cache that also records what was asked of it."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.hits = 0
        self.misses = 0
        self.puts = 0

    def get(self, namespace: str, key: str) -> bytes | None:
        data = super().get(namespace, key)
        self.hits += data is not None
        self.misses += data is None
        return data

    def put(self, namespace: str, key: str, data: bytes) -> None:
        self.puts += 1
        super().put(namespace, key, data)


def semantic(cache: FileCache | None = None, corpus: Corpus | None = None) -> Analyzer:
    return Analyzer(
        corpus or farm_corpus(), FRAMEWORK, [SOIL, WATER], scorer="semantic", cache=cache
    )


def test_similar_sentences_embed_closer_than_unrelated_ones() -> None:
    vectors = Embedder().embed(
        [
            "Rainwater harvesting from roofs supplies household water.",
            "Collecting rain from rooftops provides water for homes.",
            "Quarterly revenue rose by ten percent.",
        ]
    )
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2


def test_the_semantic_scorer_finds_a_passage_that_shares_no_words_with_the_query() -> None:
    corpus = Corpus(
        (
            paper(
                "drip.txt",
                "Thin hoses trickle water onto each plant whenever probes "
                "in the ground report that the earth has dried out.",
            ),
            paper("museum.txt", "The village museum opened a room about medieval pottery."),
        )
    )
    sub = semantic(corpus=corpus).iterate(None).sub("Sub-W1.1")
    assert sub.evidence[0].paper == "drip.txt"
    lexical = Analyzer(corpus, FRAMEWORK, [SOIL, WATER]).iterate(None).sub("Sub-W1.1")
    assert sub.evidence[0].score > (lexical.evidence[0].score if lexical.evidence else 0.0)


def test_a_rerun_from_the_cache_embeds_nothing_and_never_loads_the_model(tmp_path: Path) -> None:
    cache = RecordingCache(tmp_path)
    first = semantic(cache).iterate(None)
    assert cache.puts > 0
    cache.hits = cache.misses = cache.puts = 0
    analyzer = semantic(cache)
    again = analyzer.iterate(None)
    assert cache.misses == 0 and cache.puts == 0 and cache.hits > 0
    embedder = analyzer._scorer.embedder  # type: ignore[attr-defined]
    assert not embedder.loaded and embedder.texts_run == 0
    assert again == first


def test_the_result_names_the_model_and_its_files_hashes() -> None:
    result = semantic().iterate(None)
    assert result.scorer == scorer_info("semantic", False)
    model = result.scorer["model"]
    assert set(model["files"]) == {"bge_small_en/model.onnx", "bge_small_en/tokenizer.json"}
    assert all(len(sha) == 64 for sha in model["files"].values())


def test_the_lexical_scorer_records_no_model() -> None:
    assert scorer_info() == {"name": "lexical", "rerank": False, "model": None}


def test_reranking_keeps_the_set_of_scores_and_changes_only_their_order() -> None:
    plain = semantic().iterate(None)
    reranked = Analyzer(
        farm_corpus(), FRAMEWORK, [SOIL, WATER], scorer="semantic", rerank=True
    ).iterate(None)
    for before, after in zip(plain.subs, reranked.subs, strict=True):
        assert [e.score for e in after.evidence] == [e.score for e in before.evidence]
        assert {e.evidence_id for e in after.evidence} == {e.evidence_id for e in before.evidence}


REPORT_SCRIPT = """
import hashlib, sys
from litgap.pipeline import Analyzer, build_report, load_corpus, load_framework
from litgap.pipeline.report import render_json
from litgap.pipeline.sample import sample_corpus_paths, sample_framework_path
fw = load_framework(sample_framework_path())
corpus = load_corpus(sample_corpus_paths())
analyzer = Analyzer(corpus, fw, fw.pillar_names(), scorer="semantic")
one = analyzer.iterate(None)
report = build_report(fw, corpus, fw.pillar_names(), "DEEP_LOOP", [one, analyzer.iterate(one)])
sys.stdout.write(hashlib.sha256(render_json(report)).hexdigest())
"""


def test_two_processes_give_byte_identical_semantic_reports() -> None:
    digests = [
        subprocess.run(
            [sys.executable, "-c", REPORT_SCRIPT], capture_output=True, text=True, check=True
        ).stdout
        for _ in range(2)
    ]
    assert len(digests[0]) == 64 and digests[0] == digests[1]
