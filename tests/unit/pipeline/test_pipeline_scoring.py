"""Passages and scores: offsets that point at the text, sparse scores equal to plain cosines."""

import numpy as np
import pytest
import scipy.sparse as sp

import litgap.pipeline.scorers.ranking as ranking
from litgap.pipeline import Corpus, Page, Paper
from litgap.pipeline.scorers.lexical import (
    CorpusIndex,
    FloatArray,
    IntArray,
    Passages,
    chunk_spans,
    length_weight,
    lexical_scores,
    light_stem,
    word_spans,
)
from litgap.pipeline.scorers.ranking import collect
from tests.unit.pipeline.inputs import COVER_CROPS, DRIP, LEGUMES, LEGUMES_AGAIN, OFF_TOPIC


def best_per_paper(
    passages: Passages, queries: sp.csr_matrix, papers: int
) -> tuple[FloatArray, IntArray]:
    ranked = collect(passages, lexical_scores(passages, queries), queries.shape[0], papers, 5)
    return ranked.best, ranked.where


def corpus_of(*texts: str) -> Corpus:
    return Corpus(
        tuple(Paper(f"p{i}", f"P{i}", "text", (Page(None, t),)) for i, t in enumerate(texts))
    )


def test_word_spans_point_at_the_words_whatever_the_whitespace() -> None:
    text = "  über\tdie\u00a0Brücke\n\nnaïve "
    starts, ends = word_spans(text)
    assert [text[s:e] for s, e in zip(starts, ends, strict=True)] == [
        "über",
        "die",
        "Brücke",
        "naïve",
    ]


def test_chunks_hold_the_given_number_of_words() -> None:
    text = " ".join(f"w{i}" for i in range(10))
    starts, ends, words = chunk_spans(text, size=4)
    assert [text[s:e] for s, e in zip(starts, ends, strict=True)] == [
        "w0 w1 w2 w3",
        "w4 w5 w6 w7",
        "w8 w9",
    ]
    assert words.tolist() == [4, 4, 2]


def test_a_short_last_chunk_joins_the_one_before() -> None:
    text = " ".join(f"w{i}" for i in range(9))
    _, _, words = chunk_spans(text, size=4)
    assert words.tolist() == [4, 5]


def test_light_stem_folds_plurals_only() -> None:
    pairs = {
        "neurons": "neuron",
        "processes": "process",
        "policies": "policy",
        "features": "feature",
        "boxes": "box",
        "analysis": "analysis",
        "glass": "glass",
        "focus": "focus",
        "spiking": "spiking",
    }
    assert {w: light_stem(w) for w in pairs} == pairs


def test_passages_never_cross_a_page_break() -> None:
    pages = (Page(1, " ".join(["alpha"] * 40)), Page(2, " ".join(["beta"] * 40)))
    index = CorpusIndex(Corpus((Paper("p", "P", "pdf", pages),)))
    passages = index.passages(window=6, stride=3)
    for page, start, end in zip(passages.page, passages.start, passages.end, strict=True):
        text = index.pages[page].text[start:end]
        assert set(text.split()) == {"alpha" if index.pages[page].number == 1 else "beta"}


def test_overlapping_windows_cover_a_page_to_its_last_word() -> None:
    words = [f"w{i}" for i in range(250)]  # 10 chunks of 25 words
    text = " ".join(words)
    passages = CorpusIndex(corpus_of(text)).passages(window=4, stride=3)
    spans = [text[s:e].split() for s, e in zip(passages.start, passages.end, strict=True)]
    # Chunks 0-3, 3-6 and 6-9: every window 4 chunks long, each starting 3 chunks on.
    assert [(span[0], span[-1]) for span in spans] == [
        ("w0", "w99"),
        ("w75", "w174"),
        ("w150", "w249"),
    ]


def test_best_per_paper_equals_the_best_plain_cosine() -> None:
    index = CorpusIndex(corpus_of(LEGUMES + " " + OFF_TOPIC, COVER_CROPS, DRIP + " " + LEGUMES))
    passages = index.passages(window=1, stride=1)
    queries = index.vectorise(["nitrogen fixation root nodules", "cover crops erosion"])
    best, where = best_per_paper(passages, queries, index.paper_count)
    dense = (passages.vectors @ queries.T).toarray() * passages.weight[:, None]
    for paper in range(index.paper_count):
        rows = np.flatnonzero(passages.paper == paper)
        np.testing.assert_allclose(best[paper], dense[rows].max(axis=0), atol=5e-5)
        np.testing.assert_allclose(dense[where[paper], [0, 1]], best[paper], atol=5e-5)


def test_scores_are_rounded_to_four_decimals_before_any_comparison() -> None:
    index = CorpusIndex(corpus_of(LEGUMES, COVER_CROPS, DRIP))
    passages = index.passages(window=1, stride=1)
    best, _ = best_per_paper(passages, index.vectorise(["nitrogen root nodules"]), 3)
    np.testing.assert_array_equal(best, np.round(best, 4))


def test_top_passages_are_the_best_of_all_passages_whatever_the_block_size(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    papers = [LEGUMES, LEGUMES_AGAIN, COVER_CROPS + " " + LEGUMES, DRIP, OFF_TOPIC]
    index = CorpusIndex(corpus_of(*papers))
    passages = index.passages(window=1, stride=1)
    queries = index.vectorise(["nitrogen fixation legume nodules", "drip irrigation water"])
    scores = lexical_scores(passages, queries)
    whole = np.round(scores(0, passages.count), 4)
    monkeypatch.setattr(ranking, "BLOCK_ROWS", 2)  # one or two papers per block
    ranked = collect(passages, scores, 2, len(papers), 3)
    for query in range(2):
        order = np.lexsort((np.arange(passages.count), -whole[:, query]))
        expected = [r for r in order.tolist() if whole[r, query] > 0][:3]
        assert ranked.top_rows[query].tolist() == expected
        assert ranked.top_scores[query].tolist() == whole[expected, query].tolist()


def test_several_top_passages_may_come_from_one_paper() -> None:
    index = CorpusIndex(corpus_of(LEGUMES + " " + LEGUMES_AGAIN, OFF_TOPIC))
    passages = index.passages(window=1, stride=1)
    queries = index.vectorise(["nitrogen fixation legume nodules"])
    ranked = collect(passages, lexical_scores(passages, queries), 1, 2, 10)
    assert ranked.top_rows[0].size >= 2
    assert set(passages.paper[ranked.top_rows[0]].tolist()) == {0}


def test_the_relevant_paper_scores_highest() -> None:
    index = CorpusIndex(corpus_of(LEGUMES, COVER_CROPS, OFF_TOPIC))
    passages = index.passages(window=6, stride=3)
    best, _ = best_per_paper(passages, index.vectorise(["legume nitrogen"]), index.paper_count)
    assert best[:, 0].argmax() == 0
    assert best[2, 0] == 0.0


def test_query_words_the_corpus_never_uses_lower_the_score() -> None:
    index = CorpusIndex(corpus_of(LEGUMES, OFF_TOPIC))
    passages = index.passages(window=6, stride=3)
    texts = ["legume nitrogen", "legume nitrogen quasar pulsar nebula"]
    plain = index.vectorise(texts)
    with_unseen = index.vectorise(texts, index.unseen_terms(texts))
    best_plain, _ = best_per_paper(passages, plain, index.paper_count)
    best_unseen, _ = best_per_paper(passages, with_unseen, index.paper_count)
    assert best_plain[0, 0] == best_plain[0, 1]
    assert best_unseen[0, 1] < best_unseen[0, 0] / 2


def test_short_passages_weigh_less_and_long_ones_fully() -> None:
    weights = length_weight(np.array([5.0, 15.0, 75.0, 150.0, 400.0]))
    assert weights[0] < weights[1] < weights[2] < weights[3] == weights[4] == 1.0
