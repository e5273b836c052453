"""The sample's report, built as the flow builds it: every pillar, two iterations."""

from collections.abc import Sequence
from typing import Any

from litgap.pipeline import (
    Analyzer,
    build_report,
    load_corpus,
    load_framework,
    sample_corpus_paths,
    sample_framework_path,
)


def sample_report(pillars: Sequence[str] | None = None) -> dict[str, Any]:
    framework = load_framework(sample_framework_path())
    corpus = load_corpus(sample_corpus_paths())
    chosen = list(pillars or framework.pillar_names())
    analyzer = Analyzer(corpus, framework, chosen)
    first = analyzer.iterate(None)
    return build_report(framework, corpus, chosen, "DEEP_LOOP", [first, analyzer.iterate(first)])
