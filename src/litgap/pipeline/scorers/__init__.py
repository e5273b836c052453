"""Scorers: one small protocol, one module per implementation, chosen by name.

A scorer prepares once per corpus (`prepare`: the semantic one embeds there; `field`
is every sub-requirement of the framework, analysed or not) and then,
for a cut of passages and a set of queries, returns a function scoring any block of
passage rows (`scores`). All scores are on the lexical scale (NOISE_SCORE,
STRONG_SCORE), so completeness reads them the same way whichever scorer made them.
"""

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

import scipy.sparse as sp

from litgap.pipeline.cache import Cache
from litgap.pipeline.models import SCORERS
from litgap.pipeline.scorers.lexical import BlockScores, CorpusIndex, LexicalScorer, Passages

if TYPE_CHECKING:  # the lexical path never loads the ONNX side
    from litgap.pipeline.scorers.spread import Helpers


class Scorer(Protocol):
    name: str

    def prepare(
        self, index: CorpusIndex, queries: Sequence[str], field: Sequence[str] = ()
    ) -> None: ...

    def scores(
        self, passages: Passages, sparse: sp.csr_matrix, rows: Sequence[int]
    ) -> BlockScores: ...


def make_scorer(
    name: str,
    *,
    cache: Cache | None = None,
    progress: Callable[[float, str], None] | None = None,
    helpers: "Helpers | None" = None,
) -> Scorer:
    """The scorer called `name` (`helpers`: a `spread.Helpers` that the semantic scorer
    shares its embedding with). Raises ValueError for an unknown name."""
    if name == "lexical":
        return LexicalScorer()
    if name == "semantic":
        # Imported here: the lexical path never loads the ONNX side.
        from litgap.pipeline.scorers.semantic import SemanticScorer

        return SemanticScorer(cache=cache, progress=progress, helpers=helpers)
    raise ValueError(f"unknown scorer {name!r}: choose one of {list(SCORERS)}")


__all__ = ["SCORERS", "Scorer", "make_scorer"]
