"""What an analysis returns: evidence passages, per sub-requirement results, iterations."""

import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from litgap.pipeline.thresholds import CHUNK_WORDS, GAP_THRESHOLD

SNIPPET_CHARS = 300
LEXICAL = {"name": "lexical", "rerank": False, "model": None}


def evidence_id(paper_sha256: str, page: int | None, start: int, end: int) -> str:
    """The stable id of a passage: its paper's file hash, page and character offsets."""
    text = f"{paper_sha256}:{page or 0}:{start}:{end}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Evidence:
    evidence_id: str
    paper: str
    title: str
    page: int | None
    section: str | None
    start: int
    end: int
    text: str  # the page's text[start:end], exactly
    score: float  # rounded to 4 decimals
    rank: int  # 1-based, within its sub-requirement
    verdict: str | None = None  # a reviewer's "accept" or "reject"

    @property
    def snippet(self) -> str:
        """The text on one line, cut to SNIPPET_CHARS."""
        flat = " ".join(self.text.split())
        if len(flat) <= SNIPPET_CHARS:
            return flat
        return flat[: SNIPPET_CHARS - 1].rstrip() + "…"


@dataclass(frozen=True)
class PaperScore:
    """A paper's best passage for one sub-requirement."""

    paper: str
    score: float
    evidence_id: str


@dataclass(frozen=True)
class SubResult:
    id: str
    text: str
    requirement: str  # requirement id
    pillar: str
    completeness: float  # rounded to 2 decimals; every comparison uses this value
    supporting_papers: int
    evidence: tuple[Evidence, ...]
    found_in: int  # the iteration that produced this result
    # Every paper scoring above NOISE_SCORE, best first (ties by paper order).
    papers: tuple[PaperScore, ...] = ()

    @property
    def is_gap(self) -> bool:
        return self.completeness < GAP_THRESHOLD


@dataclass(frozen=True)
class Search:
    """How one iteration cuts passages (in chunks of CHUNK_WORDS words) and builds queries."""

    window: int
    stride: int
    expand: bool

    @property
    def window_words(self) -> int:
        return self.window * CHUNK_WORDS


@dataclass(frozen=True)
class IterationResult:
    iteration: int
    pillars: tuple[str, ...]
    subs: tuple[SubResult, ...]  # in framework order
    search: Search
    searched: tuple[str, ...]  # the sub-requirements scored in this iteration
    scorer: dict[str, Any] = field(default_factory=lambda: dict(LEXICAL))  # models.scorer_info
    verdicts: dict[str, str] = field(default_factory=dict)  # the verdicts the run was given

    @property
    def gaps(self) -> list[str]:
        return [s.id for s in self.subs if s.is_gap]

    @property
    def gap_count(self) -> int:
        return sum(1 for s in self.subs if s.is_gap)

    def sub(self, sub_id: str) -> SubResult:
        """The result for one sub-requirement id; KeyError if it was not analysed."""
        return self._by_id[sub_id]

    @cached_property
    def _by_id(self) -> dict[str, SubResult]:
        return {sub.id: sub for sub in self.subs}

    def requirement_completeness(self) -> dict[str, float]:
        grouped: dict[str, list[float]] = {}
        for sub in self.subs:
            grouped.setdefault(sub.requirement, []).append(sub.completeness)
        return {req: _mean(values) for req, values in grouped.items()}

    def pillar_completeness(self) -> dict[str, float]:
        by_requirement = self.requirement_completeness()
        grouped: dict[str, dict[str, float]] = {}
        for sub in self.subs:
            grouped.setdefault(sub.pillar, {})[sub.requirement] = by_requirement[sub.requirement]
        return {pillar: _mean(list(reqs.values())) for pillar, reqs in grouped.items()}

    @property
    def overall_completeness(self) -> float:
        return _mean(list(self.pillar_completeness().values()))


def _mean(values: list[float]) -> float:
    return round(sum(values) / len(values), 2) if values else 0.0
