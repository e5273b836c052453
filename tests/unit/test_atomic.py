"""The atomic writer: a reader or a crash sees the old file or the new one, never a torn one."""

import os
from pathlib import Path

import pytest

from litgap.atomic import fsync_all, write_atomic


def test_write_replaces_the_file(tmp_path: Path) -> None:
    target = tmp_path / "job_data.json"
    write_atomic(target, b'{"v": 1}')
    write_atomic(target, b'{"v": 2}')
    assert target.read_bytes() == b'{"v": 2}'


def test_failure_before_rename_leaves_previous_file_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "job_data.json"
    write_atomic(target, b'{"v": 1}')

    def crash(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="No space left"):
        write_atomic(target, b'{"v": 2, "much": "more"}')
    assert target.read_bytes() == b'{"v": 1}'
    assert [p.name for p in tmp_path.iterdir()] == ["job_data.json"]


def test_failure_while_writing_leaves_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "job_data.json"
    write_atomic(target, b"old")

    def broken_fsync(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError):
        write_atomic(target, b"new")
    monkeypatch.undo()
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["job_data.json"]


def test_fsync_all_raises_for_a_path_that_is_missing(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"a")
    with pytest.raises(FileNotFoundError):
        fsync_all([tmp_path / "a.txt", tmp_path / "missing.txt", tmp_path])
