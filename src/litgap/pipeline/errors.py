"""The errors the analysis raises on purpose, named for what was wrong with its input."""


class PipelineError(Exception):
    """Base of every error the pipeline raises; the message is meant for the user."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class FrameworkError(PipelineError):
    """The pillar framework is unreadable or malformed; `detail` names the place."""

    def __init__(self, detail: str, problems: list[str] | None = None) -> None:
        super().__init__(detail)
        self.problems = problems or [detail]


class CorpusError(PipelineError):
    """The corpus holds no paper that could be read."""
