"""Start-up removes what a crash left (orphan job folders, stale temp files) and
nothing else; the database files are private to their owner."""

import json
import os
import stat
import time
from pathlib import Path

from fastapi.testclient import TestClient

from litgap.blobs import hold
from litgap.pipeline.cache import PLANS
from litgap.runtime import open_runtime
from litgap.services import jobs as job_service
from litgap.services.cleanup import remove_leftovers
from litgap.settings import Settings
from litgap.web.app import create_app
from tests.conftest import make_settings

OLD = time.time() - 3600


def age(path: Path) -> Path:
    for root, dirs, files in os.walk(path):
        for name in (*dirs, *files):
            os.utime(os.path.join(root, name), (OLD, OLD))
    os.utime(path, (OLD, OLD))
    return path


def orphan(settings: Settings, job_id: str) -> Path:
    folder = settings.workspace / "jobs" / job_id
    (folder / "inputs" / "corpus").mkdir(parents=True)
    (folder / "inputs" / "corpus" / "half.pdf").write_bytes(b"%PDF-1.4 half")
    return folder


def test_start_up_removes_an_old_orphan_folder_and_keeps_jobs_and_legacy_folders(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path)
    rt = open_runtime(settings)
    try:
        job = job_service.create_sample_job(rt)
    finally:
        rt.close()
    kept = age(settings.workspace / "jobs" / job["job_id"])
    legacy = settings.workspace / "jobs" / "job_legacy01"
    legacy.mkdir()
    (legacy / "job_data.json").write_text(json.dumps({"job_id": "job_legacy01"}))
    age(legacy)
    gone = age(orphan(settings, "job_crashed1"))
    young = orphan(settings, "job_creating")
    with TestClient(create_app(settings)):
        pass
    assert not gone.exists()
    assert kept.is_dir() and (kept / "job_data.json").is_file()
    assert (legacy / "job_data.json").is_file()
    assert young.is_dir()  # maybe being created by another process right now


def test_stale_temp_files_are_removed_and_fresh_ones_kept(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    rt = open_runtime(settings)
    try:
        job = job_service.create_sample_job(rt)
        folder = settings.workspace / "jobs" / job["job_id"]
        stale = folder / ".job_data.json.abc123.tmp"
        stale.write_bytes(b"{")
        os.utime(stale, (OLD, OLD))
        fresh = folder / ".job_data.json.def456.tmp"
        fresh.write_bytes(b"{")
        other = folder / "notes.tmp"
        other.write_bytes(b"x")
        os.utime(other, (OLD, OLD))
        done = remove_leftovers(rt)
    finally:
        rt.close()
    assert done.temp_files == [stale] and not stale.exists()
    assert fresh.exists() and other.exists()
    assert done.job_folders == []


def test_the_database_and_its_wal_files_are_created_0600(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    rt = open_runtime(settings)
    try:
        job_service.create_sample_job(rt)
        db = settings.workspace / "litgap.db"
        files = [db, Path(f"{db}-wal"), Path(f"{db}-shm")]
        assert all(p.exists() for p in files)
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in files}
    finally:
        rt.close()
    assert modes == {p.name: 0o600 for p in files}


def test_an_existing_world_readable_database_is_made_private(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    open_runtime(settings).close()
    db = settings.workspace / "litgap.db"
    db.chmod(0o644)
    open_runtime(settings).close()
    assert stat.S_IMODE(db.stat().st_mode) == 0o600


def test_job_folders_are_private(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    rt = open_runtime(settings)
    try:
        job = job_service.create_sample_job(rt)
    finally:
        rt.close()
    folder = settings.workspace / "jobs" / job["job_id"]
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_start_up_removes_blobs_no_job_links_and_keeps_the_linked_ones(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    rt = open_runtime(settings)
    try:
        job = job_service.create_sample_job(rt)
        stray = tmp_path / "stray.txt"
        stray.write_bytes(b"a paper whose job was removed")
        unlinked = hold(rt.workspace.blobs_dir, stray).path
        assert remove_leftovers(rt).blobs == []  # too recent: maybe a job being created
        removed = remove_leftovers(rt, min_age=0).blobs
    finally:
        rt.close()
    assert removed == [unlinked] and not unlinked.exists()
    framework = settings.workspace / "jobs" / job["job_id"] / "inputs" / "framework.json"
    assert framework.stat().st_nlink == 2  # the job's name and the blob's


def test_start_up_removes_embedding_plans_left_for_hours_and_keeps_fresh_ones(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path)
    plans = settings.workspace / "cache" / PLANS
    plans.mkdir(parents=True)
    left = plans / f"{'a' * 64}.json"  # the header of a plan whose run was killed
    left.write_text('{"model": "m", "shares": 1}')
    two_hours_ago = time.time() - 7200
    os.utime(left, (two_hours_ago, two_hours_ago))
    fresh = plans / f"{'b' * 64}.json"  # a run embedding right now
    fresh.write_text('{"model": "m", "shares": 1}')
    rt = open_runtime(settings)
    try:
        removed = remove_leftovers(rt).plans
    finally:
        rt.close()
    assert removed == [left] and not left.exists() and fresh.exists()
