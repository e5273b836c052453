"""Reviewer verdicts on passages, by evidence_id: which passages of a cut they name.

The rule they follow is in analysis.py's docstring. A verdict names a passage of one
cut; a rejection also covers the passages of finer cuts inside it, so the spans of
the rejected passages found so far are remembered from cut to cut.
"""

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from litgap.pipeline.errors import PipelineError
from litgap.pipeline.results import evidence_id
from litgap.pipeline.scorers.lexical import CorpusIndex, Passages

VERDICTS = ("accept", "reject")


class VerdictIndex:
    """Verdicts keyed by evidence_id. Raises PipelineError for a verdict other than
    "accept" or "reject"."""

    def __init__(self, verdicts: Mapping[str, str]) -> None:
        for eid, verdict in verdicts.items():
            if verdict not in VERDICTS:
                raise PipelineError(
                    f"verdict {verdict!r} for evidence {eid!r}: choose one of {list(VERDICTS)}"
                )
        self.given = {eid: verdicts[eid] for eid in sorted(verdicts)}
        self._rejected: set[tuple[int, int, int]] = set()  # (page index, start, end)

    def __bool__(self) -> bool:
        return bool(self.given)

    def verdict(self, eid: str) -> str | None:
        return self.given.get(eid)

    def learn(self, passages: Passages, index: CorpusIndex) -> list[str]:
        """The evidence_id of every passage of the cut; remembers the rejected ones' spans."""
        papers = index.corpus.papers
        ids = []
        for page, start, end in zip(
            passages.page.tolist(), passages.start.tolist(), passages.end.tolist(), strict=True
        ):
            sha = papers[int(index.page_paper[page])].sha256
            eid = evidence_id(sha, index.pages[page].number, start, end)
            ids.append(eid)
            if self.given.get(eid) == "reject":
                self._rejected.add((page, start, end))
        return ids

    def rejected(self, passages: Passages) -> npt.NDArray[np.bool_]:
        """Passages lying inside a rejected passage's span (the rejected ones included)."""
        mask = np.zeros(passages.count, dtype=bool)
        for page, start, end in sorted(self._rejected):
            mask |= (passages.page == page) & (passages.start >= start) & (passages.end <= end)
        return mask
