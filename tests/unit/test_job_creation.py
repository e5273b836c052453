"""Creating a job: its inputs and folders are on disk before the row that publishes them
is committed, and its document follows; a sample job's files are links to blobs."""

import os

import pytest

from litgap.runtime import Runtime
from litgap.services.inputs import file_sha256
from litgap.services.jobs import create_sample_job
from litgap.store import jobs as job_rows


def test_inputs_and_folders_are_fsynced_before_the_row_is_committed(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # By inode: a sample job's inputs are links to blobs, fsynced when they were stored.
    synced: list[tuple[int, bool]] = []  # (inode, whether a job row existed then)
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        real_fsync(fd)
        listed = job_rows.list_jobs(runtime.engine, limit=10)[0]
        synced.append((os.fstat(fd).st_ino, bool(listed)))

    monkeypatch.setattr(os, "fsync", fsync)
    job_id = create_sample_job(runtime)["job_id"]
    folder = runtime.workspace.job_dir(job_id)
    before_the_row = {inode for inode, row_existed in synced if not row_existed}
    inputs = {path.stat().st_ino for path in (folder / "inputs").rglob("*")}
    assert inputs and inputs <= before_the_row
    # results/ is empty: its name is in the folder, fsynced with the rest.
    folders = [folder, folder / "inputs", folder / "inputs" / "corpus", runtime.workspace.jobs_dir]
    assert {path.stat().st_ino for path in folders} <= before_the_row
    runtime.docs.flush()  # the document follows the row, as after every change
    assert (folder / "job_data.json").is_file()
    after_the_row = {inode for inode, row_existed in synced if row_existed}
    assert folder.stat().st_ino in after_the_row  # the document's rename


def test_a_sample_job_links_the_workspace_blobs_instead_of_copying_them(
    runtime: Runtime,
) -> None:
    first, second = (create_sample_job(runtime)["job_id"] for _ in range(2))
    for name in ("framework.json", "corpus/sample-01-roof-yield.txt"):
        a, b = (runtime.workspace.inputs_dir(j) / name for j in (first, second))
        assert a.read_bytes() == b.read_bytes()
        assert a.stat().st_ino == b.stat().st_ino
        blob = runtime.workspace.blobs_dir / file_sha256(a)
        assert blob.stat().st_ino == a.stat().st_ino


def test_a_sample_job_is_created_again_after_its_blobs_were_swept(runtime: Runtime) -> None:
    create_sample_job(runtime)
    for blob in runtime.workspace.blobs_dir.iterdir():
        blob.unlink()  # as a sweep of blobs no job linked any more would
    job_id = create_sample_job(runtime)["job_id"]
    framework = runtime.workspace.inputs_dir(job_id) / "framework.json"
    assert (runtime.workspace.blobs_dir / file_sha256(framework)).is_file()
