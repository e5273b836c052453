"""Where the bundled sample framework and corpus live (installed with the package)."""

from pathlib import Path

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "sample"


def sample_framework_path() -> Path:
    """The sample pillar framework (JSON, in the original format)."""
    return SAMPLE_DIR / "framework.json"


def sample_corpus_paths() -> list[Path]:
    """The sample papers, sorted by name: text, Markdown and one research-database CSV."""
    return sorted(p for p in (SAMPLE_DIR / "corpus").iterdir() if p.is_file())
