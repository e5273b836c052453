"""Export: the ZIP's entries, its manifest, the history files, legacy and partial jobs,
and verification of a tampered archive."""

import csv
import hashlib
import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import pytest

from litgap.exceptions import InvalidInput, InvalidJobId, UnknownJob
from litgap.runtime import Runtime
from litgap.services import export
from litgap.services import jobs as job_service
from litgap.services.manifest import verify_archive
from tests.audit_helpers import add_prompt, sample_job, set_status
from tests.helpers import new_job

SCRIPT: dict[str, list[Any]] = {"pillar_selection": [["ALL"]], "run_mode": ["ONCE"]}
RESULTS = {
    "results/completeness.svg",
    "results/coverage.csv",
    "results/gap_analysis_report.json",
    "results/report.md",
    "results/report.html",
    "results/suggested_searches.csv",
    *("results/pillars_radar.svg", "results/papers_heatmap.svg", "results/iterations.svg"),
    "results/evidence_by_year.svg",  # the sample's CSV rows have publication years
    *("results/prisma_flow.svg", "results/prisma_flow.csv"),
}
HISTORY = {"prompt_history.json", "prompt_history.txt", "prompt_history.csv"}


def export_to(rt: Runtime, job_id: str, path: Path) -> Path:
    plan = export.plan_export(rt, job_id)
    with open(path, "wb") as out:
        export.write_export(rt, plan, out)
    return path


def manifest_of(archive: zipfile.ZipFile) -> dict[str, str]:
    lines = archive.read(export.MANIFEST).decode().splitlines()
    return {line[66:]: line[:64] for line in lines}


def rewrite(source: Path, target: Path, *, change: str | None = None, drop: str | None = None):
    """Copy an archive entry by entry, altering or leaving out one entry."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            if info.filename == drop:
                continue
            data = old.read(info.filename)
            if info.filename == change:
                data = data.replace(b"ONCE", b"DEEP_LOOP")
            new.writestr(info.filename, data)
    return target


def legacy_job(rt: Runtime) -> str:
    folder = rt.workspace.jobs_dir / "job_legacy2024"
    (folder / "results").mkdir(parents=True)
    document = {"job_id": "job_legacy2024", "status": "completed", "results": {"gap_count": 3}}
    (folder / "job_data.json").write_text(json.dumps(document))
    (folder / "results" / "gap_analysis_report.json").write_text('{"schema_version": 1}\n')
    assert job_service.import_job_folders(rt) == ["job_legacy2024"]
    return "job_legacy2024"


async def test_export_holds_job_data_results_history_and_a_manifest_of_them(
    runtime: Runtime, tmp_path: Path
) -> None:
    job = await sample_job(runtime, SCRIPT)
    path = export_to(runtime, job["job_id"], tmp_path / "job.zip")
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        evidence = "evidence_review.csv"
        assert names == {"job_data.json", *RESULTS, *HISTORY, evidence, export.MANIFEST}
        listed = manifest_of(archive)
        assert set(listed) == names - {export.MANIFEST}
        for name, sha in listed.items():
            assert hashlib.sha256(archive.read(name)).hexdigest() == sha
        results_dir = runtime.workspace.results_dir(job["job_id"])
        for name in RESULTS:
            assert archive.read(name) == (results_dir / name.removeprefix("results/")).read_bytes()


async def test_history_json_is_the_prompts_array_of_job_data(
    runtime: Runtime, tmp_path: Path
) -> None:
    job = await sample_job(runtime, SCRIPT)
    path = export_to(runtime, job["job_id"], tmp_path / "job.zip")
    with zipfile.ZipFile(path) as archive:
        history = json.loads(archive.read("prompt_history.json"))
        document = json.loads(archive.read("job_data.json"))
    assert history == document["prompts"] == job["prompts"]
    assert [r["type"] for r in history] == ["pillar_selection", "run_mode"]
    assert document["status"] == "completed"


def test_history_txt_shows_time_type_response_status_who_and_message(
    runtime: Runtime, tmp_path: Path
) -> None:
    job_id = new_job(runtime)
    add_prompt(runtime, job_id, 0, response="DEEP_LOOP")
    add_prompt(runtime, job_id, 1, status="timed_out", response=None, applied="ONCE",
               source="timeout_default")  # fmt: skip
    add_prompt(runtime, job_id, 2, status="timed_out", response=None, applied=None, source=None)
    add_prompt(runtime, job_id, 3, source="replay")
    set_status(runtime, job_id, "completed")
    path = export_to(runtime, job_id, tmp_path / "job.zip")
    with zipfile.ZipFile(path) as archive:
        text = archive.read("prompt_history.txt").decode()
    head, *blocks = text.split("\n\n")
    assert f"Prompt history of job {job_id}" in head and "Decisions: 4" in head
    assert "PARTIAL" not in text
    first, timed_out, no_default, replayed = blocks
    assert first.startswith("[2025-11-17T10:00:01.000000Z] #0 run_mode")
    assert "Response:    DEEP_LOOP" in first and "Status:      OK" in first
    assert "Answered by: ada (source: user)" in first
    assert "Message:     Ask run_mode" in first
    assert "Status:      DEFAULT APPLIED" in timed_out
    assert "Response:    none (default applied: ONCE)" in timed_out
    assert "Status:      TIMED OUT" in no_default
    assert "Status:      REPLAYED" in replayed


def test_history_csv_has_a_row_per_decision_and_defuses_formulas(
    runtime: Runtime, tmp_path: Path
) -> None:
    job_id = new_job(runtime)
    add_prompt(runtime, job_id, 0, type="pillar_selection", options=["ALL", "=cmd()", "NONE"],
               response=["=cmd()"], default=None)  # fmt: skip
    add_prompt(runtime, job_id, 1)
    path = export_to(runtime, job_id, tmp_path / "job.zip")
    with zipfile.ZipFile(path) as archive:
        rows = list(csv.DictReader(io.StringIO(archive.read("prompt_history.csv").decode())))
    assert [r["seq"] for r in rows] == ["0", "1"]
    assert rows[0]["response"] == '["=cmd()"]'
    assert rows[1]["response"] == "ONCE" and rows[1]["decision"] == "Responded"
    assert rows[1]["answered_by"] == "ada" and rows[1]["response_time_ms"] == "1000"
    assert all(cell[:1] not in {"=", "+", "-", "@"} for row in rows for cell in row.values())


def test_legacy_job_export_has_everything_but_prompt_history(
    runtime: Runtime, tmp_path: Path
) -> None:
    job_id = legacy_job(runtime)
    original = (runtime.workspace.document(job_id)).read_bytes()
    path = export_to(runtime, job_id, tmp_path / "legacy.zip")
    with zipfile.ZipFile(path) as archive:
        assert set(archive.namelist()) == {
            "job_data.json", "results/gap_analysis_report.json", export.MANIFEST,
        }  # fmt: skip
        assert archive.read("job_data.json") == original
        assert set(manifest_of(archive)) == {"job_data.json", "results/gap_analysis_report.json"}
    assert verify_archive(path).ok


def test_job_that_has_not_ended_is_exported_marked_partial(
    runtime: Runtime, tmp_path: Path
) -> None:
    job_id = new_job(runtime)
    add_prompt(runtime, job_id, 0)
    set_status(runtime, job_id, "waiting_input")
    plan = export.plan_export(runtime, job_id)
    assert plan.partial
    path = export_to(runtime, job_id, tmp_path / "job.zip")
    with zipfile.ZipFile(path) as archive:
        assert export.PARTIAL_NOTE in manifest_of(archive)
        assert "waiting_input" in archive.read(export.PARTIAL_NOTE).decode()
        assert "PARTIAL" in archive.read("prompt_history.txt").decode()
    assert verify_archive(path).partial


async def test_streamed_archive_is_the_same_export(runtime: Runtime, tmp_path: Path) -> None:
    job = await sample_job(runtime, SCRIPT)
    plan = export.plan_export(runtime, job["job_id"])
    streamed = tmp_path / "streamed.zip"
    streamed.write_bytes(b"".join([c async for c in export.stream_export(runtime, plan)]))
    on_disk = tmp_path / "file.zip"
    with open(on_disk, "wb") as out:
        export.write_export(runtime, plan, out)
    result = verify_archive(streamed)
    assert result.ok and not result.partial
    with zipfile.ZipFile(streamed) as a, zipfile.ZipFile(on_disk) as b:
        assert manifest_of(a) == manifest_of(b)


def _open_files(path: Path) -> int:
    """How many descriptors of this process point at `path`."""
    fds = Path("/proc/self/fd")
    return sum(1 for fd in fds.iterdir() if os.path.realpath(fd) == str(path))


def test_the_archive_is_written_only_as_far_as_it_is_read(runtime: Runtime) -> None:
    job_id = new_job(runtime)
    big = runtime.workspace.results_dir(job_id) / "big.bin"
    big.write_bytes(os.urandom(8 * 1024 * 1024))
    plan = export.plan_export(runtime, job_id)
    chunks = export.iter_export(runtime, plan)
    first = next(chunks)
    assert len(first) < 2 * export.CHUNK
    # Held at the chunk it has reached, in the middle of the big file.
    assert _open_files(big.resolve()) == 1
    chunks.close()
    assert _open_files(big.resolve()) == 0
    assert next(chunks, None) is None


def test_every_chunk_stays_small_whatever_the_archive(runtime: Runtime) -> None:
    job_id = new_job(runtime)
    for n in range(200):
        add_prompt(runtime, job_id, n)
    (runtime.workspace.results_dir(job_id) / "big.bin").write_bytes(os.urandom(4 * 1024 * 1024))
    sizes = [len(c) for c in export.iter_export(runtime, export.plan_export(runtime, job_id))]
    assert sum(sizes) > 4 * 1024 * 1024
    assert max(sizes) < 2 * export.CHUNK


async def test_verify_names_an_altered_entry(runtime: Runtime, tmp_path: Path) -> None:
    job = await sample_job(runtime, SCRIPT)
    path = export_to(runtime, job["job_id"], tmp_path / "job.zip")
    tampered = rewrite(path, tmp_path / "tampered.zip", change="prompt_history.json")
    result = verify_archive(tampered)
    assert not result.ok
    assert result.altered == ["prompt_history.json"] and result.missing == []


async def test_verify_names_a_missing_entry(runtime: Runtime, tmp_path: Path) -> None:
    job = await sample_job(runtime, SCRIPT)
    path = export_to(runtime, job["job_id"], tmp_path / "job.zip")
    tampered = rewrite(path, tmp_path / "tampered.zip", drop="results/coverage.csv")
    result = verify_archive(tampered)
    assert result.missing == ["results/coverage.csv"] and result.altered == []


def test_verify_names_an_entry_the_manifest_does_not_list(runtime: Runtime, tmp_path: Path) -> None:
    job_id = new_job(runtime)
    path = export_to(runtime, job_id, tmp_path / "job.zip")
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("results/extra.txt", "slipped in")
    assert verify_archive(path).unlisted == ["results/extra.txt"]


def test_verify_names_an_entry_stored_twice_as_altered(runtime: Runtime, tmp_path: Path) -> None:
    job_id = new_job(runtime)
    path = export_to(runtime, job_id, tmp_path / "job.zip")
    with zipfile.ZipFile(path) as archive:
        original = archive.read("job_data.json")
    with (
        pytest.warns(UserWarning, match="Duplicate name"),
        zipfile.ZipFile(path, "a") as archive,
    ):
        archive.writestr("job_data.json", original)
    assert verify_archive(path).altered == ["job_data.json"]


def test_verify_refuses_a_zip_without_manifest(tmp_path: Path) -> None:
    path = tmp_path / "plain.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("job_data.json", "{}")
    with pytest.raises(InvalidInput, match=r"has no MANIFEST\.sha256"):
        verify_archive(path)


def test_verify_refuses_a_file_that_is_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "not.zip"
    path.write_text("hello")
    with pytest.raises(InvalidInput, match="not a readable ZIP"):
        verify_archive(path)


@pytest.mark.parametrize(
    ("job_id", "error"), [("job_doesnotexist", UnknownJob), ("../etc", InvalidJobId)]
)
def test_unknown_or_invalid_job_is_refused_before_any_path(
    runtime: Runtime, job_id: str, error: type[Exception]
) -> None:
    with pytest.raises(error):
        export.plan_export(runtime, job_id)
