"""The lexical scorer: TF-IDF vectors, sparse products, no pair loops.

The corpus is cut once into chunks of CHUNK_WORDS words (within a page, so every
passage keeps its page) and counted once. A passage is a window of consecutive chunks;
its term counts are a sparse sum of chunk rows, so finer or coarser passages for a
deeper iteration cost a sparse product, not another pass over the text.

A passage's score for a query is the cosine of their TF-IDF vectors (sublinear term
frequency, IDF over chunks) times a length weight. Cosine favours short texts: over
real papers the best 25-word passage scores about 1.5 times the best 150-word one, for
no better evidence. So scores are scaled by (words / REFERENCE_WORDS) ** LENGTH_EXPONENT
below REFERENCE_WORDS (the exponent fitted to that ratio), and further, linearly, below
MIN_PASSAGE_WORDS, so that a bare heading cannot pass for evidence. Scores of passages
of any size are then comparable, and a finer cut only gains where evidence is dense.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer, TfidfTransformer
from sklearn.preprocessing import normalize

from litgap.pipeline.cache import Cache
from litgap.pipeline.corpus import Corpus, Page
from litgap.pipeline.errors import CorpusError
from litgap.pipeline.scorers.counts import chunk_spans, merge, paper_counts, word_spans
from litgap.pipeline.thresholds import CHUNK_WORDS, NOISE_SCORE, STRONG_SCORE

# Re-exported: scorers read the thresholds here, tests the cut.
__all__ = ["CHUNK_WORDS", "NOISE_SCORE", "STRONG_SCORE", "chunk_spans", "word_spans"]
MIN_PASSAGE_WORDS = 15
REFERENCE_WORDS = 150
LENGTH_EXPONENT = 0.23

TOKEN_PATTERN = r"(?u)\b[^\W\d_]\w+\b"  # words of 2+ characters that start with a letter
# scikit-learn's English stop words include words that carry meaning in a research
# framework ("system integration", "fire rate", "interest", "detail"...); those stay.
STOP_WORDS = sorted(
    ENGLISH_STOP_WORDS
    - {
        *("amount", "bill", "bottom", "call", "con", "describe", "detail", "empty", "fill"),
        *("find", "fire", "found", "front", "full", "interest", "mill", "move", "name"),
        *("part", "serious", "show", "side", "system", "thick", "thin", "top"),
    }
)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def light_stem(word: str) -> str:
    """Fold English plurals ("neurons" → "neuron", "processes" → "process"), nothing more.

    A full stemmer would merge words a reviewer keeps apart; plurals are the variation
    between a requirement's wording and a paper's that matters most.
    """
    if len(word) <= 3:
        return word
    if word.endswith("ies") and not word.endswith(("eies", "aies")) and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    if word.endswith("es") and not word.endswith(("aes", "ees", "oes")):
        return word[:-1]
    if word.endswith("s") and not word.endswith(("us", "ss", "is")):
        return word[:-1]
    return word


@dataclass(frozen=True)
class Passages:
    """A cut of the corpus into windows of chunks; row i of `vectors` is passage i."""

    vectors: sp.csr_matrix  # l2-normalised TF-IDF, passages x terms
    weight: FloatArray  # length factor per passage, in (0, 1]
    words: FloatArray  # word count per passage
    paper: IntArray  # paper index (passages are sorted by paper)
    page: IntArray  # index into CorpusIndex.pages
    start: IntArray  # char offsets in that page's text
    end: IntArray
    # passages x chunks 0/1 matrix: row i sums the chunks of passage i (the semantic
    # scorer pools chunk embeddings with it).
    aggregate: sp.csr_matrix

    @property
    def count(self) -> int:
        return int(self.paper.size)


class CorpusIndex:
    """The corpus cut into chunks and counted once; passages and queries on demand."""

    def __init__(self, corpus: Corpus, cache: Cache | None = None) -> None:
        self.corpus = corpus
        counted = [paper_counts(p, TOKEN_PATTERN, STOP_WORDS, cache) for p in corpus.papers]
        self.pages: list[Page] = []
        page_paper: list[int] = []
        chunk_page: list[IntArray] = []
        for p_index, (paper, counts) in enumerate(zip(corpus.papers, counted, strict=True)):
            # Pages without a word have no chunk and no index.
            used, local = np.unique(counts.page, return_inverse=True)
            chunk_page.append(local.astype(np.int64) + len(self.pages))
            self.pages.extend(paper.pages[i] for i in used.tolist())
            page_paper.extend([p_index] * used.size)
        if not self.pages:
            raise CorpusError("the corpus has no words to analyse")
        self.page_paper = np.array(page_paper, dtype=np.int64)
        self.chunk_page = np.concatenate(chunk_page)
        self.chunk_start = np.concatenate([c.start for c in counted])
        self.chunk_end = np.concatenate([c.end for c in counted])
        self.chunk_words = np.concatenate([c.words for c in counted])
        terms, raw = merge(counted)
        if not terms:
            raise CorpusError("the corpus has no words to analyse (only numbers or stop words)")
        # Fixed to the merged vocabulary: it turns queries into the same columns.
        self._counter = CountVectorizer(
            token_pattern=TOKEN_PATTERN, stop_words=STOP_WORDS, vocabulary=terms, dtype=np.float64
        )
        self._stems, vocabulary = _stem_matrix(terms)
        self.stems: list[str] = vocabulary  # the words chunk_counts' columns count
        self._known = set(vocabulary)
        self.chunk_counts: sp.csr_matrix = sp.csr_matrix(raw @ self._stems)
        self._tfidf = TfidfTransformer(norm=None, sublinear_tf=True).fit(self.chunk_counts)
        # The weight of a word no chunk contains (document frequency 0, smoothed).
        self._unseen_idf = float(np.log(1 + self.chunk_counts.shape[0]) + 1)

    @property
    def paper_count(self) -> int:
        return len(self.corpus.papers)

    def unseen_terms(self, texts: Sequence[str]) -> list[str]:
        """The (stemmed) words of `texts` that the corpus never uses, sorted."""
        analyse = self._counter.build_analyzer()
        words = {light_stem(word) for text in texts for word in analyse(text)}
        return sorted(words - self._known)

    def words_of(self, text: str) -> list[str]:
        """The (stemmed) words of `text` the index would count, seen in the corpus or not."""
        return [light_stem(word) for word in self._counter.build_analyzer()(text)]

    def counts(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Counts of the corpus's (stemmed) words in `texts`, as chunk_counts counts them."""
        return sp.csr_matrix(self._counter.transform(texts) @ self._stems)

    def vectorise(self, texts: Sequence[str], unseen: Sequence[str] = ()) -> sp.csr_matrix:
        """l2-normalised TF-IDF rows of `texts`: the corpus's terms, then the `unseen` ones.

        A query word the corpus never uses still counts in the query's length (with the
        highest IDF), so a requirement whose distinctive words appear nowhere scores low
        instead of being judged on its few common words. Scores only read the corpus's
        columns; the unseen ones only shorten the rest.
        """
        weights = sp.csr_matrix(self._tfidf.transform(self.counts(texts)))
        if unseen:
            weights = sp.hstack([weights, self._unseen_weights(texts, unseen)], format="csr")
        return sp.csr_matrix(normalize(weights))

    def _unseen_weights(self, texts: Sequence[str], unseen: Sequence[str]) -> sp.csr_matrix:
        analyse = self._counter.build_analyzer()
        column = {term: i for i, term in enumerate(unseen)}
        rows, cols = [], []
        for row, text in enumerate(texts):  # query texts only: a few words each
            for word in analyse(text):
                stem = light_stem(word)
                if stem in column:
                    rows.append(row)
                    cols.append(column[stem])
        counts = sp.csr_matrix(
            (np.ones(len(rows)), (rows, cols)), shape=(len(texts), len(unseen))
        )  # duplicates are summed
        counts.data = (1.0 + np.log(counts.data)) * self._unseen_idf
        return counts

    def passages(self, window: int, stride: int) -> Passages:
        """Windows of `window` chunks every `stride` chunks, never across a page break."""
        page_first = np.flatnonzero(np.r_[True, self.chunk_page[1:] != self.chunk_page[:-1]])
        page_count = np.diff(np.r_[page_first, self.chunk_page.size])
        per_page = np.maximum(1, -(-(page_count - window) // stride) + 1)
        owner = np.repeat(np.arange(page_first.size), per_page)
        step = np.arange(owner.size) - np.repeat(np.cumsum(per_page) - per_page, per_page)
        first = page_first[owner] + step * stride
        last = np.minimum(first + window, page_first[owner] + page_count[owner]) - 1
        # The aggregation matrix sums each window's chunk rows into a passage row.
        lengths = last - first + 1
        rows = np.repeat(np.arange(first.size), lengths)
        cols = np.repeat(first, lengths) + (
            np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        )
        aggregate = sp.csr_matrix(
            (np.ones(rows.size), (rows, cols)), shape=(first.size, self.chunk_page.size)
        )
        counts = aggregate @ self.chunk_counts
        words = aggregate @ self.chunk_words.astype(np.float64)
        page = self.chunk_page[first]
        return Passages(
            vectors=sp.csr_matrix(normalize(self._tfidf.transform(counts))),
            weight=length_weight(words),
            words=words,
            paper=self.page_paper[page],
            page=page,
            start=self.chunk_start[first],
            end=self.chunk_end[last],
            aggregate=aggregate,
        )


def short_weight(words: FloatArray) -> FloatArray:
    """The linear fall-off below MIN_PASSAGE_WORDS: a bare heading is no evidence."""
    return np.minimum(1.0, words / MIN_PASSAGE_WORDS)


def length_weight(words: FloatArray) -> FloatArray:
    """The factor a passage's cosine is scaled by, from its word count (see the module doc)."""
    return short_weight(words) * np.minimum(1.0, (words / REFERENCE_WORDS) ** LENGTH_EXPONENT)


def _stem_matrix(terms: list[str]) -> tuple[sp.csr_matrix, list[str]]:
    """terms x stems 0/1 matrix (multiplying counts by it merges plurals), and the stems."""
    stems = [light_stem(t) for t in terms]
    vocabulary = sorted(set(stems))
    position = {s: i for i, s in enumerate(vocabulary)}
    cols = np.array([position[s] for s in stems], dtype=np.int64)
    matrix = sp.csr_matrix(
        (np.ones(len(terms)), (np.arange(len(terms)), cols)), shape=(len(terms), len(vocabulary))
    )
    return matrix, vocabulary


def combine(parts: Sequence[tuple[float, sp.csr_matrix]]) -> sp.csr_matrix:
    """Weighted sum of row-aligned vectors, l2-normalised."""
    total = sum((weight * matrix for weight, matrix in parts), sp.csr_matrix(parts[0][1].shape))
    return sp.csr_matrix(normalize(sp.csr_matrix(total)))


def top_terms(vectors: sp.csr_matrix, count: int) -> sp.csr_matrix:
    """Each row cut to its `count` heaviest terms (ties to the lower term index), l2-normalised."""
    rows = []
    for i in range(vectors.shape[0]):  # one pass per query row, vectorised within it
        row = vectors.getrow(i).tocoo()
        order = np.lexsort((row.col, -row.data))[:count]
        rows.append(
            sp.csr_matrix(
                (row.data[order], (np.zeros(order.size, dtype=np.int64), row.col[order])),
                shape=(1, vectors.shape[1]),
            )
        )
    return sp.csr_matrix(normalize(sp.vstack(rows)))


BlockScores = Callable[[int, int], FloatArray]
Rows = slice | IntArray


def lexical_rows(passages: Passages, queries: sp.csr_matrix) -> Callable[[Rows], FloatArray]:
    """scores(rows): the passages `rows` (a slice or row numbers) x queries block of
    length-weighted cosines."""
    n_queries = queries.shape[0]
    queries = sp.csr_matrix(queries[:, : passages.vectors.shape[1]])  # unseen words score 0
    terms = np.unique(queries.indices)
    if terms.size == 0:
        return lambda rows: np.zeros((passages.weight[rows].size, n_queries))
    # Only the query terms can contribute to a dot product.
    matrix = sp.csr_matrix(passages.vectors[:, terms])
    dense_queries = queries[:, terms].toarray().T

    def score(rows: Rows) -> FloatArray:
        return np.asarray(matrix[rows] @ dense_queries) * passages.weight[rows, None]

    return score


def lexical_scores(passages: Passages, queries: sp.csr_matrix) -> BlockScores:
    """scores(r0, r1): the passages r0..r1 x queries block of length-weighted cosines."""
    score = lexical_rows(passages, queries)
    return lambda r0, r1: score(slice(r0, r1))


class LexicalScorer:
    """TF-IDF cosine of passage and query, scaled by the passage's length weight."""

    name = "lexical"

    def prepare(
        self, index: CorpusIndex, queries: Sequence[str], field: Sequence[str] = ()
    ) -> None:
        """Nothing to prepare: the index holds all the lexical scorer needs."""

    def scores(self, passages: Passages, sparse: sp.csr_matrix, rows: Sequence[int]) -> BlockScores:
        return lexical_scores(passages, sparse)
