"""Shared fixtures: a real workspace and a real SQLite store in tmp_path."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from litgap.runtime import Runtime, open_runtime
from litgap.settings import Settings


def make_settings(root: Path, **overrides: object) -> Settings:
    return Settings(workspace=root / "workspace", prompt_poll_seconds=0.2, **overrides)  # type: ignore[arg-type]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    rt = open_runtime(settings)
    yield rt
    rt.close()
