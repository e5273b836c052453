"""Properties that hold for any input: bounds, monotonicity, order independence."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from litgap.pipeline import Analyzer, Corpus, parse_framework
from litgap.pipeline.analysis import completeness
from tests.unit.pipeline.inputs import SOIL, WATER, framework_data, paper

FRAMEWORK = parse_framework(framework_data())
WORDS = [
    *("nitrogen", "legume", "root", "nodules", "compost", "soil", "carbon", "cover", "crops"),
    *("erosion", "winter", "terracing", "slopes", "runoff", "drip", "irrigation", "moisture"),
    *("sensors", "groundwater", "recharge", "basins", "aquifer", "museum", "pottery", "kiln"),
    *("the", "of", "and"),
]

scores = st.integers(0, 8).flatmap(
    lambda papers: st.lists(
        st.lists(st.floats(0.0, 1.0), min_size=3, max_size=3), min_size=papers, max_size=papers
    )
)
# Every text has at least one word that is not a stop word (or there is nothing to score).
texts = st.tuples(st.sampled_from(WORDS[:-3]), st.lists(st.sampled_from(WORDS), max_size=80)).map(
    lambda parts: " ".join([parts[0], *parts[1]])
)


def as_array(rows: list[list[float]]) -> np.ndarray:
    return np.array(rows, dtype=np.float64).reshape(len(rows), 3)


@given(scores)
def test_completeness_stays_between_0_and_100(rows: list[list[float]]) -> None:
    values = completeness(as_array(rows))
    assert values.shape == (3,)
    assert ((values >= 0) & (values <= 100)).all()


@given(scores, st.data())
def test_a_better_passage_never_lowers_completeness(rows: list[list[float]], data) -> None:
    best = as_array(rows)
    if best.size == 0:
        return
    paper = data.draw(st.integers(0, best.shape[0] - 1))
    raised = best.copy()
    raised[paper] = np.minimum(1.0, raised[paper] + data.draw(st.floats(0.0, 1.0)))
    assert (completeness(raised) >= completeness(best) - 1e-9).all()


@settings(max_examples=30, deadline=None)
@given(st.lists(texts, min_size=1, max_size=6), st.randoms(use_true_random=False))
def test_analysis_is_bounded_and_independent_of_paper_order(papers: list[str], rng) -> None:
    built = [paper(f"p{i}.txt", text) for i, text in enumerate(papers)]
    shuffled = list(built)
    rng.shuffle(shuffled)
    one = Analyzer(Corpus(tuple(built)), FRAMEWORK, [SOIL, WATER]).iterate(None)
    two = Analyzer(Corpus(tuple(shuffled)), FRAMEWORK, [WATER, SOIL]).iterate(None)
    assert one == two
    assert all(0.0 <= s.completeness <= 100.0 for s in one.subs)
