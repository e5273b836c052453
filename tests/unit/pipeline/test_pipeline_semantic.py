"""The semantic scorer: sane embeddings, meaning over wording, an embedding cache that
makes a re-run embed nothing, and the model recorded with its files' hashes."""

import subprocess
import sys
from pathlib import Path

import numpy as np

from litgap.pipeline import Analyzer, Corpus, parse_framework, scorer_info
from litgap.pipeline.cache import FileCache
from litgap.pipeline.scorers.encoders import Embedder
from litgap.pipeline.scorers.semantic import CANDIDATES
from litgap.pipeline.scorers.static import StaticVectors
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
    assert set(model["files"]) == {
        "wordllama_256/weights/l2_supercat_256.safetensors",
        "wordllama_256/tokenizers/l2_supercat_tokenizer_config.json",
        "bge_small_en/model.onnx",
        "bge_small_en/tokenizer.json",
    }
    assert all(len(sha) == 64 for sha in model["files"].values())


def test_the_lexical_scorer_records_no_model() -> None:
    assert scorer_info() == {"name": "lexical", "version": 1, "rerank": False, "model": None}


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


def big_corpus(papers: int) -> Corpus:
    """Many papers of farm sentences, more passages than any query's candidates."""
    sentences = [
        "Cover crops of clover fix nitrogen and hold the topsoil through winter storms.",
        "Drip lines deliver water to roots and cut evaporation from bare ground.",
        "Farmers rotated maize with beans to break the cycle of pests in the field.",
        "Soil organic carbon rose under reduced tillage over a decade of trials.",
        "The cooperative sold its grain to a mill in the next valley each autumn.",
        "Moisture probes told the pump when the field had dried below its threshold.",
    ]
    return Corpus(
        tuple(
            paper(
                f"farm-{i:03d}.txt",
                " ".join(sentences[(i + j) % len(sentences)] for j in range(40)),
            )
            for i in range(papers)
        )
    )


def test_the_transformer_embeds_only_each_querys_candidates() -> None:
    corpus = big_corpus(150)
    analyzer = semantic(corpus=corpus)
    analyzer.iterate(None)
    index = analyzer._index  # type: ignore[attr-defined]
    scorer = analyzer._scorer  # type: ignore[attr-defined]
    passages = index.passages(6, 3)
    queries = len(analyzer._targets)  # type: ignore[attr-defined]
    assert passages.count > queries * CANDIDATES
    # The queries, and every candidate's chunks (6-chunk passages), nothing else.
    assert 0 < scorer.embedder.texts_run <= queries + queries * CANDIDATES * 6
    assert scorer.embedder.texts_run < index.chunk_page.size / 2


def test_a_cache_filled_by_other_questions_changes_no_score(tmp_path: Path) -> None:
    corpus = big_corpus(40)
    cache = FileCache(tmp_path)
    other = parse_framework(framework_data())
    Analyzer(corpus, other, [WATER], scorer="semantic", cache=cache).iterate(None)
    warm = semantic(cache, corpus=corpus).iterate(None)
    cold = semantic(corpus=corpus).iterate(None)
    assert warm == cold


def test_a_passage_sharing_no_word_with_the_query_is_still_judged_by_the_transformer() -> None:
    unrelated = [
        "The village museum opened a room about medieval pottery and coins.",
        "Quarterly revenue rose by ten percent as the shops stayed open later.",
        "The choir rehearsed twice a week in the old church hall before the festival.",
    ]
    corpus = Corpus(
        (
            *(
                paper(f"other-{i:03d}.txt", " ".join(unrelated[(i + j) % 3] for j in range(30)))
                for i in range(60)
            ),
            paper(
                "drip.txt",
                "Thin hoses trickle water onto each plant whenever probes "
                "in the ground report that the earth has dried out.",
            ),
        )
    )
    assert len(corpus.papers) * 4 > CANDIDATES  # more passages than candidates
    sub = semantic(corpus=corpus).iterate(None).sub("Sub-W1.1")
    assert sub.evidence[0].paper == "drip.txt"


def test_the_models_of_one_process_are_loaded_once_and_shared() -> None:
    first, second = Embedder(), Embedder()
    first.embed(["Rain falls on the roof."])
    second.embed(["The tank fills."])
    assert first._sessions and first._sessions == second._sessions
    assert StaticVectors().words(["rain"]).tobytes() == StaticVectors().words(["rain"]).tobytes()
    assert StaticVectors()._load()[0] is StaticVectors()._load()[0]
