"""The semantic scorer's field margin: text about the framework's field is not evidence
for each of its sub-requirements (scorers/semantic.py)."""

import numpy as np

from litgap.config import JobConfig, StoredConfig
from litgap.pipeline import Analyzer, load_framework
from litgap.pipeline.corpus import load_corpus
from litgap.pipeline.results import GAP_THRESHOLD
from litgap.pipeline.sample import sample_corpus_paths, sample_framework_path
from litgap.pipeline.scorers.semantic import FIELD_NOISE, FIELD_STRONG, dense_score
from litgap.pipeline.thresholds import NOISE_SCORE, STRONG_SCORE

FRAMEWORK = load_framework(sample_framework_path())
DESIGNED_GAPS = {"Sub-S1.1.3", "Sub-S3.2.3"}  # permeable pavement, maintenance funding
WELL_COVERED = {"Sub-S1.1.1", "Sub-S1.2.1"}  # roof yield, tank sizing (src/litgap/sample)


def sample_result(pillars: list[str]) -> dict[str, float]:
    analyzer = Analyzer(load_corpus(sample_corpus_paths()), FRAMEWORK, pillars, scorer="semantic")
    return {sub.id: sub.completeness for sub in analyzer.iterate(None).subs}


def test_the_samples_designed_gaps_stay_gaps_under_the_semantic_scorer() -> None:
    completeness = sample_result(FRAMEWORK.pillar_names())
    assert all(completeness[sub] < GAP_THRESHOLD for sub in DESIGNED_GAPS), completeness
    assert all(completeness[sub] >= 70 for sub in WELL_COVERED), completeness


def test_a_sub_requirements_score_does_not_depend_on_which_pillars_are_analysed() -> None:
    everything = sample_result(FRAMEWORK.pillar_names())
    first = FRAMEWORK.pillar_names()[0]
    alone = sample_result([first])
    assert alone and all(alone[sub] == everything[sub] for sub in alone)


def test_the_margin_bounds_the_dense_score_and_never_raises_it() -> None:
    cosine = np.array([[0.80, 0.80, 0.80]])
    margin = np.array([[FIELD_NOISE, FIELD_STRONG, 1.0]])
    bounded = dense_score(cosine, margin)
    np.testing.assert_allclose(bounded[0, :2], [NOISE_SCORE, STRONG_SCORE])
    assert bounded[0, 2] == dense_score(cosine)[0, 2]


def test_without_a_margin_the_absolute_scale_stands_alone() -> None:
    cosine = np.array([[0.6, 0.7]])
    np.testing.assert_array_equal(dense_score(cosine, np.full((1, 2), np.nan)), dense_score(cosine))


def test_a_new_job_scores_semantically_unless_it_chooses_lexical() -> None:
    assert JobConfig().scorer == "semantic"
    assert JobConfig(scorer="lexical").scorer == "lexical"


def test_a_stored_config_without_a_scorer_predates_the_choice_and_runs_lexical() -> None:
    assert StoredConfig.model_validate({"run_mode": "ONCE"}).scorer == "lexical"
    assert StoredConfig.model_validate({"scorer": "semantic"}).scorer == "semantic"
