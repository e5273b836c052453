"""Pure gap analysis: corpus and framework in, report out.

Knows nothing of jobs, prompts, HTTP or the database; decisions arrive as arguments,
and the same inputs with the same decisions give byte-identical outputs.

The names below are imported on first use (PEP 562): the serving process reads a
framework or raises a PipelineError without loading the scoring libraries (numpy,
scipy, scikit-learn), which only the worker processes need.
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from litgap.pipeline.analysis import (
        GAP_THRESHOLD,
        Analyzer,
        Evidence,
        IterationResult,
        SubResult,
        gap_changes,
        has_converged,
    )
    from litgap.pipeline.corpus import Corpus, Page, Paper, Skipped, load_corpus
    from litgap.pipeline.errors import CorpusError, FrameworkError, PipelineError
    from litgap.pipeline.html_report import ReportContext
    from litgap.pipeline.models import SCORERS, ModelUnavailable, scorer_info
    from litgap.pipeline.pillars import (
        Framework,
        Pillar,
        Requirement,
        SubRequirement,
        load_framework,
        parse_framework,
    )
    from litgap.pipeline.report import SCHEMA_VERSION, build_report, render_outputs, summarize
    from litgap.pipeline.results import PaperScore, evidence_id
    from litgap.pipeline.sample import sample_corpus_paths, sample_framework_path

_SOURCES = {
    "analysis": [
        "GAP_THRESHOLD",
        "Analyzer",
        "Evidence",
        "IterationResult",
        "SubResult",
        "gap_changes",
        "has_converged",
    ],
    "corpus": ["Corpus", "Page", "Paper", "Skipped", "load_corpus"],
    "errors": ["CorpusError", "FrameworkError", "PipelineError"],
    "html_report": ["ReportContext"],
    "models": ["SCORERS", "ModelUnavailable", "scorer_info"],
    "pillars": [
        "Framework",
        "Pillar",
        "Requirement",
        "SubRequirement",
        "load_framework",
        "parse_framework",
    ],
    "report": ["SCHEMA_VERSION", "build_report", "render_outputs", "summarize"],
    "results": ["PaperScore", "evidence_id"],
    "sample": ["sample_corpus_paths", "sample_framework_path"],
}
_MODULE_OF = {name: module for module, names in _SOURCES.items() for name in names}

__all__ = [
    "GAP_THRESHOLD",
    "SCHEMA_VERSION",
    "SCORERS",
    "Analyzer",
    "Corpus",
    "CorpusError",
    "Evidence",
    "Framework",
    "FrameworkError",
    "IterationResult",
    "ModelUnavailable",
    "Page",
    "Paper",
    "PaperScore",
    "Pillar",
    "PipelineError",
    "ReportContext",
    "Requirement",
    "Skipped",
    "SubRequirement",
    "SubResult",
    "build_report",
    "evidence_id",
    "gap_changes",
    "has_converged",
    "load_corpus",
    "load_framework",
    "parse_framework",
    "render_outputs",
    "sample_corpus_paths",
    "sample_framework_path",
    "scorer_info",
    "summarize",
]


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # the next lookup is an ordinary one
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_MODULE_OF])
