"""Creating a job: its inputs and folders are on disk before the row that publishes them
is committed, and the job's document before the call returns."""

import os
from pathlib import Path

import pytest

from litgap.runtime import Runtime
from litgap.services.jobs import create_sample_job
from litgap.store import jobs as job_rows


def test_inputs_and_folders_are_fsynced_before_the_row_is_committed(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[tuple[Path, bool]] = []  # (what, whether a job row existed then)
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        real_fsync(fd)
        listed = job_rows.list_jobs(runtime.engine, limit=10)[0]
        synced.append((Path(os.readlink(f"/proc/self/fd/{fd}")), bool(listed)))

    monkeypatch.setattr(os, "fsync", fsync)
    job_id = create_sample_job(runtime)["job_id"]
    folder = runtime.workspace.job_dir(job_id)
    before_the_row = {path for path, row_existed in synced if not row_existed}
    inputs = set((folder / "inputs").rglob("*"))
    assert inputs and inputs <= before_the_row
    assert {folder, folder / "results", runtime.workspace.jobs_dir} <= before_the_row
    assert (folder / "job_data.json").is_file()
    assert folder in {path for path, row_existed in synced if row_existed}  # its rename
