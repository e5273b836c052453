"""Suggested literature searches for every gap, from the report alone.

For a gap, the terms are:
- distinctive: the sub-requirement's own words that set it apart from the rest of the
  framework (tf-idf, idf over every sub-requirement text of the report);
- requirement: the most distinctive words of its requirement's name (idf over the names);
- pillar: its pillar's keywords as the framework states them;
- evidence: the words the weak passages found for it share most (what the corpus
  already says near the gap), other than the ones above.

From them come a plain query, a Boolean query `("a" OR "b") AND ("c" OR "d")` (the
sub-requirement's concept AND its context), and the same query field-tagged for PubMed
(`[tiab]`) and Scopus (`TITLE-ABS-KEY(...)`). Everything is sorted with explicit ties:
the same report gives the same searches.
"""

import csv
import io
import math
import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

from litgap.pipeline.scorers.lexical import STOP_WORDS

Report = dict[str, Any]

SEARCHES_CSV = "suggested_searches.csv"
DISTINCTIVE_TERMS = 3
REQUIREMENT_TERMS = 2
PILLAR_KEYWORDS = 3
EVIDENCE_TERMS = 2
EVIDENCE_PASSAGES = 5  # the best passages of a gap whose words count
# Words every research framework uses: they would match any paper.
GENERIC_WORDS = frozenset(
    {
        *("sample", "paper", "study", "studies", "fictional", "litgap", "written", "using"),
        *("based", "use", "used", "method", "methods", "approach", "result", "results"),
        *("data", "analysis", "research", "pillar", "requirement", "requirements"),
    }
)
_STOP = frozenset(STOP_WORDS) | GENERIC_WORDS
_WORD = re.compile(r"[^\W\d_][\w-]*[^\W_]|[^\W\d_]{2,}")
_UNSAFE = re.compile(r"[^\w\s-]")

CSV_COLUMNS = [
    "sub_requirement_id",
    "sub_requirement",
    "pillar",
    "requirement",
    "completeness",
    "plain",
    "boolean",
    "pubmed",
    "scopus",
]


def words(text: str) -> list[str]:
    """Lower-case content words of `text`, in order (no stop words, no generic words)."""
    found = (w.strip("-") for w in _WORD.findall(text.lower()))
    return [w for w in found if len(w) > 2 and w not in _STOP]


def _idf(documents: Iterable[str]) -> dict[str, float]:
    docs = [set(words(d)) for d in documents]
    counts = Counter(w for d in docs for w in d)
    return {w: math.log((1 + len(docs)) / (1 + n)) + 1 for w, n in counts.items()}


def _top(text: str, idf: dict[str, float], limit: int, taken: set[str]) -> list[str]:
    """The `limit` words of `text` with the highest tf-idf; ties by first appearance."""
    tokens = words(text)
    tf = Counter(tokens)
    first = {w: tokens.index(w) for w in tf}
    ranked = sorted((w for w in tf if w not in taken), key=lambda w: (-tf[w] * idf[w], first[w]))
    return ranked[:limit]


def _phrase(text: str) -> str:
    # A framework's keyword may hold anything; a search string may not hold quotes,
    # brackets or operators of its own, so only letters, digits, spaces and hyphens stay.
    return " ".join(_UNSAFE.sub(" ", text).split()).lower()


def _group(terms: list[str], tag: str = "") -> str:
    return "(" + " OR ".join(f'"{t}"{tag}' for t in terms) + ")"


def gap_searches(report: Report) -> list[dict[str, Any]]:
    """For each entry of report["gaps"], in order: its terms and its four queries."""
    subs = {
        s["id"]: (pillar, req, s)
        for pillar in report["pillars"]
        for req in pillar["requirements"]
        for s in req["sub_requirements"]
    }
    sub_idf = _idf(s["text"] for _, _, s in subs.values())
    req_idf = _idf(r["name"] for p in report["pillars"] for r in p["requirements"])
    return [_searches(subs[g["id"]], sub_idf, req_idf) for g in report["gaps"]]


def _searches(
    found: tuple[dict[str, Any], dict[str, Any], dict[str, Any]],
    sub_idf: dict[str, float],
    req_idf: dict[str, float],
) -> dict[str, Any]:
    pillar, req, sub = found
    distinctive = _top(sub["text"], sub_idf, DISTINCTIVE_TERMS, set())
    taken = set(distinctive)
    requirement = _top(req["name"], req_idf, REQUIREMENT_TERMS, taken)
    taken |= set(requirement)
    keywords: list[str] = []
    for keyword in pillar["keywords"]:
        phrase = _phrase(keyword)
        if phrase and phrase not in keywords and phrase not in taken:
            keywords.append(phrase)
    keywords = keywords[:PILLAR_KEYWORDS]
    taken |= {w for k in keywords for w in k.split()}
    counts: Counter[str] = Counter()
    for passage in sub["evidence"][:EVIDENCE_PASSAGES]:
        counts.update(set(words(passage["text"])))
    evidence = sorted(
        (w for w, n in counts.items() if n > 1 and w not in taken), key=lambda w: (-counts[w], w)
    )[:EVIDENCE_TERMS]
    concept = distinctive or requirement or keywords[:1]
    context = [*requirement, *keywords, *evidence] if distinctive else [*keywords, *evidence]
    context = [t for t in context if t not in concept]
    boolean = _group(concept) + (f" AND {_group(context)}" if context else "")
    pubmed = _group(concept, "[tiab]") + (f" AND {_group(context, '[tiab]')}" if context else "")
    return {
        "terms": {
            "distinctive": distinctive,
            "requirement": requirement,
            "pillar": keywords,
            "evidence": evidence,
        },
        "plain": " ".join([*distinctive, *requirement, *evidence]),
        "boolean": boolean,
        "pubmed": pubmed,
        "scopus": f"TITLE-ABS-KEY({boolean})",
    }


def attach_searches(report: Report) -> None:
    """Add `searches` to every entry of report["gaps"] (the report is being built)."""
    for gap, searches in zip(report["gaps"], gap_searches(report), strict=True):
        gap["searches"] = searches


def render_searches_csv(report: Report) -> bytes:
    """One row per gap with its four queries; text cells safe to open in a spreadsheet."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for gap in report["gaps"]:
        s = gap["searches"]
        writer.writerow(
            [
                _cell(gap["id"]),
                _cell(gap["text"]),
                _cell(gap["pillar"]),
                _cell(gap["requirement"]),
                f"{gap['completeness']:.2f}",
                *(_cell(s[k]) for k in ("plain", "boolean", "pubmed", "scopus")),
            ]
        )
    return out.getvalue().encode("utf-8")


def _cell(text: str) -> str:
    # A spreadsheet runs a cell starting with = + - @ as a formula; these are data.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
