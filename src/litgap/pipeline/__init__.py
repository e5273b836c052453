"""Pure gap analysis: corpus and framework in, report out.

Knows nothing of jobs, prompts, HTTP or the database; decisions arrive as arguments,
and the same inputs with the same decisions give byte-identical outputs.
"""

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
