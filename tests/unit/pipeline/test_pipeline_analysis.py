"""Gap analysis: completeness, gaps, evidence, and the deep loop's search for the gaps."""

import itertools

import pytest

from litgap.pipeline import (
    GAP_THRESHOLD,
    Analyzer,
    Corpus,
    CorpusError,
    FrameworkError,
    IterationResult,
    PipelineError,
    SubResult,
    gap_changes,
    has_converged,
    parse_framework,
)
from litgap.pipeline.analysis import search_for
from tests.unit.pipeline.inputs import SOIL, WATER, farm_corpus, framework_data, paper

FRAMEWORK = parse_framework(framework_data())


def analyse(pillars: list[str] | None = None) -> Analyzer:
    return Analyzer(farm_corpus(), FRAMEWORK, pillars or [SOIL, WATER])


def first() -> IterationResult:
    return analyse().iterate(None)


def test_a_requirement_two_papers_write_about_is_covered() -> None:
    nitrogen = first().sub("Sub-S1.1")
    assert nitrogen.completeness >= GAP_THRESHOLD
    assert nitrogen.supporting_papers == 2
    assert not nitrogen.is_gap


def test_a_requirement_nobody_writes_about_is_a_gap() -> None:
    result = first()
    recharge = result.sub("Sub-W1.2")
    assert recharge.completeness < 20
    assert "Sub-W1.2" in result.gaps


def test_one_paper_alone_covers_less_than_two_papers_agreeing() -> None:
    result = first()
    assert result.sub("Sub-S2.1").completeness < result.sub("Sub-S1.1").completeness


def test_evidence_points_at_its_passage_in_its_paper() -> None:
    corpus = farm_corpus()
    evidence = Analyzer(corpus, FRAMEWORK, [SOIL]).iterate(None).sub("Sub-S1.1").evidence
    best = evidence[0]
    assert best.paper == "legumes.txt"
    page = next(p for p in corpus.papers if p.id == best.paper).pages[0]
    assert "nitrogen fixation by legume root nodules" in page.text[best.start : best.end]
    assert best.snippet == " ".join(page.text[best.start : best.end].split())


def test_evidence_keeps_the_page_number_of_a_pdf() -> None:
    evidence = first().sub("Sub-S1.1").evidence
    assert [(e.paper, e.page) for e in evidence[:2]] == [("legumes.txt", None), ("beans.pdf", 2)]


def test_evidence_is_ranked_best_first() -> None:
    evidence = first().sub("Sub-S1.1").evidence
    assert [e.score for e in evidence] == sorted((e.score for e in evidence), reverse=True)
    assert [e.rank for e in evidence] == list(range(1, len(evidence) + 1))


def long_nitrogen_paper() -> Corpus:
    """One long paper that says the same thing all through, and one that says it once."""
    said = "Nitrogen fixation by legume root nodules feeds the next crop of wheat."
    filler = "The trial plots were weeded by hand and sown in rows each spring."
    body = " ".join(said if i % 3 == 0 else filler for i in range(120))
    return Corpus((paper("long.txt", body), paper("once.txt", f"{filler} {said} {filler}")))


@pytest.mark.parametrize("iterations", [1, 3])
def test_no_two_listed_passages_overlap(iterations: int) -> None:
    analyzer = Analyzer(long_nitrogen_paper(), FRAMEWORK, [SOIL])
    result = analyzer.iterate(None)
    for _ in range(iterations - 1):
        result = analyzer.iterate(result)
    for sub in result.subs:
        for a, b in itertools.combinations(sub.evidence, 2):
            same_place = (a.paper, a.page) == (b.paper, b.page)
            assert not (same_place and a.start < b.end and b.start < a.end), (sub.id, a, b)
    evidence = result.sub("Sub-S1.1").evidence
    assert len(evidence) > 5 and {e.paper for e in evidence} == {"long.txt", "once.txt"}


def test_only_the_selected_pillars_are_analysed() -> None:
    result = analyse([WATER]).iterate(None)
    assert result.pillars == (WATER,)
    assert [s.id for s in result.subs] == ["Sub-W1.1", "Sub-W1.2"]


def test_an_unknown_pillar_cannot_be_selected() -> None:
    with pytest.raises(FrameworkError, match="unknown pillar 'Pillar 7'"):
        analyse(["Pillar 7"])


def test_a_corpus_of_only_numbers_and_stop_words_cannot_be_analysed() -> None:
    corpus = Corpus((paper("n.txt", "1 2 3 and the of 2024"),))
    with pytest.raises(CorpusError, match="the corpus has no words to analyse"):
        Analyzer(corpus, FRAMEWORK, [SOIL])


def test_requirement_and_pillar_completeness_are_means() -> None:
    result = first()
    subs = {s.id: s.completeness for s in result.subs}
    fertility = round((subs["Sub-S1.1"] + subs["Sub-S1.2"]) / 2, 2)
    erosion = round((subs["Sub-S2.1"] + subs["Sub-S2.2"]) / 2, 2)
    assert result.requirement_completeness()["REQ-S1"] == fertility
    assert result.pillar_completeness()[SOIL] == round((fertility + erosion) / 2, 2)


def test_iterations_are_numbered_from_one() -> None:
    analyzer = analyse()
    one = analyzer.iterate(None)
    assert (one.iteration, analyzer.iterate(one).iteration) == (1, 2)


def test_later_iterations_search_only_the_gaps_on_finer_passages() -> None:
    analyzer = analyse()
    one = analyzer.iterate(None)
    two = analyzer.iterate(one)
    assert two.searched == tuple(one.gaps)
    assert two.search.window_words < one.search.window_words
    assert two.search.expand and not one.search.expand


def test_sub_requirements_that_are_not_gaps_keep_their_result() -> None:
    analyzer = analyse()
    one = analyzer.iterate(None)
    two = analyzer.iterate(one)
    covered = [s for s in one.subs if not s.is_gap]
    assert covered
    assert all(two.sub(s.id) == s for s in covered)


def test_completeness_never_decreases_from_one_iteration_to_the_next() -> None:
    analyzer = analyse()
    results = [analyzer.iterate(None)]
    for _ in range(3):
        results.append(analyzer.iterate(results[-1]))
    for before, after in itertools.pairwise(results):
        for sub in before.subs:
            assert after.sub(sub.id).completeness >= sub.completeness


def test_the_search_settles_on_its_finest_passages() -> None:
    assert search_for(3) == search_for(9)
    assert search_for(1).window_words == 150


def test_a_previous_iteration_of_other_pillars_is_refused() -> None:
    other = analyse([WATER]).iterate(None)
    with pytest.raises(PipelineError, match="the previous iteration analysed other pillars"):
        analyse([SOIL]).iterate(other)


def test_progress_goes_from_zero_to_one_with_named_stages() -> None:
    seen: list[tuple[float, str]] = []
    analyzer = Analyzer(farm_corpus(), FRAMEWORK, [SOIL], progress=lambda f, s: seen.append((f, s)))
    analyzer.iterate(None)
    fractions = [f for f, _ in seen]
    assert all(0.0 <= f <= 1.0 for f in fractions)
    assert seen[0] == (0.0, "indexing passages")
    assert seen[-1] == (1.0, "iteration 1: done")


def sub(sub_id: str, completeness: float, pillar: str = SOIL) -> SubResult:
    return SubResult(sub_id, "text", "REQ", pillar, completeness, 0, (), 1)


def iteration(number: int, *subs: SubResult) -> IterationResult:
    return IterationResult(number, (SOIL, WATER), subs, search_for(number), ())


BEFORE = iteration(1, sub("a", 10.0), sub("b", 20.0), sub("c", 30.0), sub("d", 80.0))


def test_gap_changes_list_the_gaps_that_moved_biggest_rise_first() -> None:
    after = iteration(2, sub("a", 12.0), sub("b", 20.0), sub("c", 55.5), sub("d", 80.0))
    assert gap_changes(BEFORE, after) == [
        {
            "sub_requirement": "c",
            "pillar": SOIL,
            "before": 30.0,
            "after": 55.5,
            "delta": 25.5,
            "closed": True,
        },
        {
            "sub_requirement": "a",
            "pillar": SOIL,
            "before": 10.0,
            "after": 12.0,
            "delta": 2.0,
            "closed": False,
        },
    ]


def test_equal_rises_keep_framework_order() -> None:
    after = iteration(2, sub("a", 15.0), sub("b", 25.0), sub("c", 35.0), sub("d", 80.0))
    assert [c["sub_requirement"] for c in gap_changes(BEFORE, after)] == ["a", "b", "c"]


def test_not_converged_while_a_gap_rises_by_more_than_the_threshold() -> None:
    after = iteration(2, sub("a", 15.01), sub("b", 20.0), sub("c", 30.0), sub("d", 80.0))
    assert not has_converged(BEFORE, after)
    assert has_converged(BEFORE, after, threshold=6.0)


def test_converged_when_every_gap_rose_by_the_threshold_or_less() -> None:
    after = iteration(2, sub("a", 15.0), sub("b", 24.0), sub("c", 30.0), sub("d", 80.0))
    assert has_converged(BEFORE, after)
