"""Chunk counts per paper, cached by text: merged, they are what one fit over every
chunk gives; a paper counted before is read from the cache, a damaged entry recounted."""

from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer

from litgap.pipeline import Corpus, Page, Paper
from litgap.pipeline.cache import FileCache
from litgap.pipeline.scorers import counts
from litgap.pipeline.scorers.counts import chunk_spans, merge, paper_counts
from litgap.pipeline.scorers.lexical import STOP_WORDS, TOKEN_PATTERN, CorpusIndex
from tests.unit.pipeline.inputs import COVER_CROPS, DRIP, LEGUMES, OFF_TOPIC

PAPERS = (
    Paper("a", "A", "text", (Page(1, LEGUMES), Page(2, "   "), Page(3, DRIP))),
    Paper("b", "B", "text", (Page(None, "the and of 1999"),)),  # only stop words and numbers
    Paper("c", "C", "text", (Page(None, COVER_CROPS + " " + OFF_TOPIC),)),
)


def one_fit(papers: tuple[Paper, ...]) -> tuple[list[str], sp.csr_matrix]:
    texts = [
        page.text[s:e]
        for paper in papers
        for page in paper.pages
        for s, e in zip(*[a.tolist() for a in chunk_spans(page.text)[:2]], strict=True)
    ]
    counter = CountVectorizer(token_pattern=TOKEN_PATTERN, stop_words=STOP_WORDS)
    matrix = counter.fit_transform(texts)
    return counter.get_feature_names_out().tolist(), sp.csr_matrix(matrix, dtype=np.float64)


def test_merged_paper_counts_equal_one_fit_over_every_chunk() -> None:
    vocabulary, matrix = merge([paper_counts(p, TOKEN_PATTERN, STOP_WORDS, None) for p in PAPERS])
    expected_vocabulary, expected = one_fit(PAPERS)
    assert vocabulary == expected_vocabulary
    assert matrix.shape == expected.shape
    assert abs(matrix - expected).sum() == 0


def test_an_index_built_from_the_cache_equals_one_built_without(tmp_path: Path) -> None:
    cache = FileCache(tmp_path)
    corpus = Corpus(PAPERS)
    plain = CorpusIndex(corpus)
    CorpusIndex(corpus, cache)  # fills the cache
    cached = CorpusIndex(corpus, cache)
    assert abs(plain.chunk_counts - cached.chunk_counts).sum() == 0
    assert [p.number for p in cached.pages] == [p.number for p in plain.pages] == [1, 3, None, None]
    assert cached.page_paper.tolist() == plain.page_paper.tolist()
    assert cached.chunk_start.tolist() == plain.chunk_start.tolist()


def test_a_paper_counted_before_is_read_from_the_cache_not_counted_again(
    tmp_path: Path,
) -> None:
    cache = FileCache(tmp_path)
    paper_counts(PAPERS[0], TOKEN_PATTERN, STOP_WORDS, cache)
    (entry,) = [p for p in (tmp_path / counts.NAMESPACE).rglob("*") if p.is_file()]
    # Swap in another paper's counts: only a read from the cache can return them.
    entry.write_bytes(counts._dump(counts.count_paper(PAPERS[2], TOKEN_PATTERN, STOP_WORDS)))
    found = paper_counts(PAPERS[0], TOKEN_PATTERN, STOP_WORDS, cache)
    assert found.terms == counts.count_paper(PAPERS[2], TOKEN_PATTERN, STOP_WORDS).terms


def test_a_damaged_cache_entry_is_counted_again_and_replaced(tmp_path: Path) -> None:
    cache = FileCache(tmp_path)
    first = paper_counts(PAPERS[0], TOKEN_PATTERN, STOP_WORDS, cache)
    (entry,) = [p for p in (tmp_path / counts.NAMESPACE).rglob("*") if p.is_file()]
    entry.write_bytes(b'{"terms": ["x"], "lengths": [1]}\n' + b"\x00" * 3)
    again = paper_counts(PAPERS[0], TOKEN_PATTERN, STOP_WORDS, cache)
    assert again.terms == first.terms
    assert abs(again.counts - first.counts).sum() == 0
    assert counts._load(entry.read_bytes()) is not None  # rewritten as a proper entry
