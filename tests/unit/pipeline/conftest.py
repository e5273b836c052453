"""Fixtures for the pipeline tests: real files written to tmp_path, nothing mocked."""

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.unit.pipeline.inputs import pdf_bytes

MakePdf = Callable[..., Path]


@pytest.fixture
def make_pdf(tmp_path: Path) -> MakePdf:
    """make_pdf(name, pages, password=None) writes a real PDF, one string per page."""

    def make(name: str, pages: list[str], password: str | None = None) -> Path:
        data = pdf_bytes(pages, password=password)
        path = tmp_path / name
        path.write_bytes(data)
        return path

    return make


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str | bytes], Path]:
    """write(name, content) writes a file into tmp_path (text as UTF-8)."""

    def put(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)
        return path

    return put
