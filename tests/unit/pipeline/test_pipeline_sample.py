"""The bundled sample: small, marked as a sample, and tuned to show every part of a run."""

from litgap.pipeline import (
    Analyzer,
    IterationResult,
    has_converged,
    load_corpus,
    load_framework,
    sample_corpus_paths,
    sample_framework_path,
)

MAX_ITERATIONS = 5


def deep_loop() -> list[IterationResult]:
    """The flow's DEEP_LOOP with every "continue?" answered yes."""
    framework = load_framework(sample_framework_path())
    analyzer = Analyzer(load_corpus(sample_corpus_paths()), framework, framework.pillar_names())
    results = [analyzer.iterate(None)]
    while len(results) < MAX_ITERATIONS and results[-1].gap_count:
        results.append(analyzer.iterate(results[-1]))
        if has_converged(results[-2], results[-1]):
            break
    return results


def test_the_sample_framework_has_three_pillars_marked_as_samples() -> None:
    framework = load_framework(sample_framework_path())
    assert len(framework.pillars) == 3
    assert all("SAMPLE" in name for name in framework.pillar_names())
    assert framework.sections == ("Framework_Overview", "Success_Criteria")


def test_every_sample_paper_is_readable_and_says_it_is_a_sample() -> None:
    corpus = load_corpus(sample_corpus_paths())
    assert corpus.skipped == ()
    assert {p.kind for p in corpus.papers} == {"text", "markdown", "database row"}
    assert all("SAMPLE" in p.pages[0].text for p in corpus.papers)


def test_the_sample_database_has_multi_line_cells() -> None:
    database = next(p for p in sample_corpus_paths() if p.suffix == ".csv")
    assert '"This is a SAMPLE record written for litgap; the districts are invented.\n' in (
        database.read_text(encoding="utf-8")
    )


def test_the_sample_has_well_covered_requirements_and_gaps() -> None:
    result = deep_loop()[0]
    scores = [s.completeness for s in result.subs]
    assert max(scores) >= 75
    assert 2 <= result.gap_count <= len(scores) // 2


def test_on_the_sample_the_second_iteration_raises_a_gap_by_more_than_five_points() -> None:
    results = deep_loop()
    assert len(results) >= 3
    assert not has_converged(results[0], results[1])


def test_on_the_sample_the_deep_loop_converges_within_five_iterations() -> None:
    results = deep_loop()
    assert has_converged(results[-2], results[-1])
    assert len(results) <= MAX_ITERATIONS
