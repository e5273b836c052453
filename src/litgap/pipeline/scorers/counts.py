"""Each paper cut into chunks and counted, once per text: the lexical index's raw input.

Cutting and counting are most of the cost of indexing a corpus, and they depend only
on a paper's own text, while the TF-IDF weights on top of them depend on the whole
corpus. So a paper's chunks and their term counts (over the paper's own vocabulary) are
kept in the cache by the hash of its text, and a corpus is indexed by merging them: a
continuation with 5 new papers counts 5 papers, not 205. Merged counts equal what one
CountVectorizer fitted on every chunk gives (its vocabulary is the sorted union).
"""

import contextlib
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer

from litgap.pipeline.cache import Cache, cache_key
from litgap.pipeline.corpus import Paper
from litgap.pipeline.thresholds import CHUNK_WORDS

IntArray = npt.NDArray[np.int64]
NAMESPACE = "chunk-counts"
# Bump when what is cached changes meaning (the cut, the tokens, the format).
VERSION = "2"

_WHITESPACE = np.array(
    [
        *(9, 10, 11, 12, 13, 32, 0x85, 0xA0, 0x1680),
        *range(0x2000, 0x200B),
        *(0x2028, 0x2029, 0x202F, 0x205F, 0x3000),
    ],
    dtype=np.uint32,
)


def word_spans(text: str) -> tuple[IntArray, IntArray]:
    """Start and end offsets of the whitespace-separated words of `text`, vectorised."""
    # One code point per UTF-32 unit, so array positions are str offsets.
    points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    if points.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    space = np.isin(points, _WHITESPACE)
    word = ~space
    before = np.concatenate(([False], word[:-1]))
    after = np.concatenate((word[1:], [False]))
    starts = np.flatnonzero(word & ~before).astype(np.int64)
    ends = np.flatnonzero(word & ~after).astype(np.int64) + 1
    return starts, ends


def chunk_spans(text: str, size: int = CHUNK_WORDS) -> tuple[IntArray, IntArray, IntArray]:
    """Chunks of `size` words: (start, end, word count); a short tail joins the chunk before."""
    starts, ends = word_spans(text)
    n = starts.size
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    first = np.arange(0, n, size, dtype=np.int64)
    if first.size > 1 and n - first[-1] < size // 2:
        first = first[:-1]
    last = np.concatenate((first[1:], [n])) - 1
    return starts[first], ends[last], last - first + 1


@dataclass(frozen=True)
class PaperCounts:
    """One paper's chunks (by page position) and their counts over its own terms."""

    page: IntArray  # per chunk: the index of its page in paper.pages
    start: IntArray  # per chunk: char offsets in that page's text
    end: IntArray
    words: IntArray  # per chunk: word count
    terms: list[str]  # the paper's vocabulary, sorted
    counts: sp.csr_matrix  # chunks x terms


def count_paper(paper: Paper, token_pattern: str, stop_words: Sequence[str]) -> PaperCounts:
    pages: list[IntArray] = []
    starts: list[IntArray] = []
    ends: list[IntArray] = []
    words: list[IntArray] = []
    texts: list[str] = []
    for number, page in enumerate(paper.pages):
        s, e, w = chunk_spans(page.text)
        pages.append(np.full(s.size, number, dtype=np.int64))
        starts.append(s)
        ends.append(e)
        words.append(w)
        texts.extend(page.text[a:b] for a, b in zip(s.tolist(), e.tolist(), strict=True))
    counter = CountVectorizer(token_pattern=token_pattern, stop_words=list(stop_words))
    try:
        counts = sp.csr_matrix(counter.fit_transform(texts), dtype=np.float64)
        terms = counter.get_feature_names_out().tolist()
    except ValueError:  # sklearn: "empty vocabulary" (no chunk, or only stop words)
        counts, terms = sp.csr_matrix((len(texts), 0), dtype=np.float64), []
    join = np.concatenate
    empty = np.zeros(0, dtype=np.int64)
    return PaperCounts(
        page=join(pages) if pages else empty,
        start=join(starts) if starts else empty,
        end=join(ends) if ends else empty,
        words=join(words) if words else empty,
        terms=terms,
        counts=counts,
    )


def _key(paper: Paper, token_pattern: str, stop_words: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for page in paper.pages:
        digest.update(page.text.encode("utf-8", "surrogatepass") + b"\x00\x01")
    analysis = f"{token_pattern}\x00{' '.join(stop_words)}\x00{CHUNK_WORDS}"
    return cache_key(NAMESPACE, VERSION, analysis, digest.hexdigest())


# An entry: a JSON header (the terms and the array lengths), a newline, then the arrays'
# raw little-endian bytes in _ARRAYS order. Read back with np.frombuffer, no parsing:
# .npz took 1.6 ms an entry, a third of a 205-paper continuation's indexing.
_ARRAYS = (
    ("page", "<i8"),
    ("start", "<i8"),
    ("end", "<i8"),
    ("words", "<i8"),
    ("indptr", "<i8"),
    ("indices", "<i8"),
    ("data", "<f8"),
)


def _dump(counts: PaperCounts) -> bytes:
    matrix = counts.counts
    arrays = {
        "page": counts.page,
        "start": counts.start,
        "end": counts.end,
        "words": counts.words,
        "indptr": matrix.indptr,
        "indices": matrix.indices,
        "data": matrix.data,
    }
    header = {
        "terms": counts.terms,
        "lengths": [int(arrays[name].size) for name, _ in _ARRAYS],
    }
    parts = [json.dumps(header, ensure_ascii=True).encode("ascii"), b"\n"]
    parts += [np.ascontiguousarray(arrays[name], dtype=dtype).tobytes() for name, dtype in _ARRAYS]
    return b"".join(parts)


def _load(data: bytes) -> PaperCounts | None:
    try:
        line = data.index(b"\n")
        header = json.loads(data[:line])
        terms, lengths = header["terms"], header["lengths"]
        arrays, offset = {}, line + 1
        for (name, dtype), length in zip(_ARRAYS, lengths, strict=True):
            arrays[name] = np.frombuffer(data, dtype=dtype, count=length, offset=offset)
            offset += 8 * length
        if offset != len(data) or not all(isinstance(t, str) for t in terms):
            return None
        matrix = sp.csr_matrix(
            (arrays["data"], arrays["indices"], arrays["indptr"]),
            shape=(arrays["indptr"].size - 1, len(terms)),
        )
        matrix.check_format(full_check=True)
    except (ValueError, TypeError, KeyError):  # a damaged entry is recounted, never trusted
        return None
    return PaperCounts(
        page=arrays["page"],
        start=arrays["start"],
        end=arrays["end"],
        words=arrays["words"],
        terms=terms,
        counts=matrix,
    )


def paper_counts(
    paper: Paper, token_pattern: str, stop_words: Sequence[str], cache: Cache | None
) -> PaperCounts:
    """The paper's chunks and counts, from the cache when its text was counted before."""
    if cache is None:
        return count_paper(paper, token_pattern, stop_words)
    key = _key(paper, token_pattern, stop_words)
    found = cache.get(NAMESPACE, key)
    counts = _load(found) if found is not None else None
    if counts is None:
        counts = count_paper(paper, token_pattern, stop_words)
        with contextlib.suppress(OSError):  # the cache only saves time: a full disk is no error
            cache.put(NAMESPACE, key, _dump(counts))
    return counts


def merge(papers: Sequence[PaperCounts]) -> tuple[list[str], sp.csr_matrix]:
    """The corpus vocabulary (sorted) and every chunk's counts over it, in paper order."""
    vocabulary = sorted(set().union(*(p.terms for p in papers)))
    column = {term: i for i, term in enumerate(vocabulary)}
    blocks = []
    for p in papers:
        mapping = np.array([column[t] for t in p.terms], dtype=np.int64)
        matrix = p.counts
        indices = mapping[matrix.indices] if matrix.nnz else matrix.indices.astype(np.int64)
        block = sp.csr_matrix(
            (matrix.data, indices, matrix.indptr), shape=(matrix.shape[0], len(vocabulary))
        )
        blocks.append(block)
    merged = sp.csr_matrix(sp.vstack(blocks, format="csr"), dtype=np.float64)
    merged.sort_indices()
    return vocabulary, merged
