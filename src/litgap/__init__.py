"""litgap: literature gap analysis with audited human decisions."""

__version__ = "0.1.0"
