"""Evidence ids and reviewer verdicts: a rejected passage stops counting, an accepted one
counts as strong evidence, and ids stay the same across runs."""

import hashlib

import pytest

from litgap.pipeline import (
    Analyzer,
    Corpus,
    Page,
    Paper,
    PipelineError,
    evidence_id,
    parse_framework,
)
from litgap.pipeline.analysis import STRONG_SCORE
from tests.unit.pipeline.inputs import (
    COVER_CROPS,
    LEGUMES,
    LEGUMES_AGAIN,
    SOIL,
    farm_corpus,
    framework_data,
)

FRAMEWORK = parse_framework(framework_data())


def corpus() -> Corpus:
    return Corpus(
        (
            Paper("legumes.txt", "Legumes", "text", (Page(None, LEGUMES),), sha256="a" * 64),
            Paper("beans.pdf", "Beans", "pdf", (Page(1, LEGUMES_AGAIN),), sha256="b" * 64),
            Paper("cover.txt", "Cover", "text", (Page(None, COVER_CROPS),), sha256="c" * 64),
        )
    )


def run(verdicts: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return Analyzer(corpus(), FRAMEWORK, [SOIL], verdicts=verdicts).iterate(None)


def test_evidence_id_is_the_hash_of_paper_page_and_offsets() -> None:
    best = run().sub("Sub-S1.1").evidence[0]
    sha = {"legumes.txt": "a" * 64, "beans.pdf": "b" * 64}[best.paper]
    text = f"{sha}:{best.page or 0}:{best.start}:{best.end}"
    assert best.evidence_id == hashlib.sha256(text.encode()).hexdigest()[:16]
    assert evidence_id(sha, best.page, best.start, best.end) == best.evidence_id


def test_evidence_ids_do_not_depend_on_the_paper_name() -> None:
    renamed = Corpus(
        tuple(
            Paper("z-" + p.id, p.title, p.kind, p.pages, sha256=p.sha256) for p in corpus().papers
        )
    )
    one = {e.evidence_id for e in run().sub("Sub-S1.1").evidence}
    two = {
        e.evidence_id
        for e in Analyzer(renamed, FRAMEWORK, [SOIL]).iterate(None).sub("Sub-S1.1").evidence
    }
    assert one == two


def test_a_rejected_passage_no_longer_counts() -> None:
    before = run().sub("Sub-S1.1")
    rejected = before.evidence[0]
    after = run({rejected.evidence_id: "reject"}).sub("Sub-S1.1")
    assert after.completeness < before.completeness
    assert all(e.evidence_id != rejected.evidence_id or e.score == 0 for e in after.evidence)
    assert rejected.paper not in {p.paper for p in after.papers}


def test_an_accepted_passage_counts_as_strong_evidence() -> None:
    before = run().sub("Sub-S1.1")
    weaker = before.evidence[1]
    assert weaker.score < STRONG_SCORE
    after = run({weaker.evidence_id: "accept"}).sub("Sub-S1.1")
    accepted = next(e for e in after.evidence if e.evidence_id == weaker.evidence_id)
    assert accepted.score == STRONG_SCORE and accepted.verdict == "accept"
    assert after.completeness > before.completeness


def test_a_rejection_also_covers_the_finer_passages_inside_it() -> None:
    analyzer = Analyzer(farm_corpus(), FRAMEWORK, [SOIL])
    first = analyzer.iterate(None)
    # Reject every passage of the one paper that covers erosion, then search deeper.
    cover = [e.evidence_id for e in first.sub("Sub-S2.1").evidence if e.paper == "cover.txt"]
    verdicts = dict.fromkeys(cover, "reject")
    again = Analyzer(farm_corpus(), FRAMEWORK, [SOIL], verdicts=verdicts)
    one = again.iterate(None)
    two = again.iterate(one)
    assert "cover.txt" not in {p.paper for p in two.sub("Sub-S2.1").papers}


def test_unknown_verdict_ids_change_nothing_and_are_recorded() -> None:
    result = run({"0123456789abcdef": "reject"})
    assert result.subs == run().subs
    assert result.verdicts == {"0123456789abcdef": "reject"}


def test_a_verdict_other_than_accept_or_reject_is_refused() -> None:
    with pytest.raises(PipelineError, match="'maybe'"):
        run({"0123456789abcdef": "maybe"})
