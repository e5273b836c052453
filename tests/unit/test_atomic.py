"""The atomic writer: a reader or a crash sees the old file or the new one, never a torn one."""

import os
from pathlib import Path

import pytest

from litgap.atomic import fsync_all, write_atomic, write_atomic_all


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


def test_write_all_writes_each_file_and_reports_the_one_that_failed(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "job_data.json").write_bytes(b"old")
    files = [
        (tmp_path / "a" / "job_data.json", b"new a"),
        (tmp_path / "gone" / "job_data.json", b"new b"),  # its folder does not exist
        (tmp_path / "c.json", b"new c"),
    ]
    errors = write_atomic_all(files)
    assert errors[0] is None and errors[2] is None
    assert isinstance(errors[1], FileNotFoundError)
    assert (tmp_path / "a" / "job_data.json").read_bytes() == b"new a"
    assert (tmp_path / "c.json").read_bytes() == b"new c"
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a", "c.json", "job_data.json"]


def test_write_all_leaves_every_old_file_when_the_disk_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    targets = [tmp_path / f"{n}.json" for n in range(3)]
    for target in targets:
        target.write_bytes(b"old")

    def broken_fsync(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    errors = write_atomic_all([(t, b"new") for t in targets])
    monkeypatch.undo()
    assert all(isinstance(e, OSError) for e in errors)
    assert [t.read_bytes() for t in targets] == [b"old"] * 3
    assert sorted(p.name for p in tmp_path.iterdir()) == [t.name for t in targets]
