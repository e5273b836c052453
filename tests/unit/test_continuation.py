"""Continuation: a completed job carried on with new papers, its decisions replayed,
its duplicates left out, the diff saying which sub-requirements gained evidence."""

import io
import json
import os
from typing import Any

import pytest

from litgap.exceptions import InvalidInput, NotContinuable
from litgap.pipeline.sample import sample_corpus_paths
from litgap.runtime import Runtime
from litgap.services import continuation, diff
from litgap.services.inputs import InputFile
from litgap.services.jobs import create_job, parse_config
from litgap.store import jobs as job_rows
from tests.audit_helpers import run_job, sample_job
from tests.helpers import new_job

ONCE: dict[str, list[Any]] = {"pillar_selection": [["ALL"]], "run_mode": ["ONCE"]}


def upload(name: str, data: bytes) -> InputFile:
    return InputFile(name, io.BytesIO(data))


def report_of(rt: Runtime, job_id: str) -> dict[str, Any]:
    path = rt.workspace.results_dir(job_id) / "gap_analysis_report.json"
    return json.loads(path.read_bytes())  # type: ignore[no-any-return]


def gap_closing_paper(report: dict[str, Any]) -> tuple[str, bytes]:
    """A paper that says, at length, what the parent's first gap asks for."""
    gap = report["gaps"][0]
    body = "\n\n".join([gap["text"]] * 12)
    return gap["id"], f"Field study of {gap['text']}\n\n{body}\n".encode()


async def test_continuation_runs_on_the_parent_papers_plus_the_new_ones(runtime: Runtime) -> None:
    parent = await sample_job(runtime, ONCE)
    gap_id, paper = gap_closing_paper(report_of(runtime, parent["job_id"]))
    row = continuation.create_continuation(
        runtime, parent["job_id"], [upload("new-field-study.txt", paper)]
    )
    child = await run_job(runtime, row["job_id"])  # no script: nothing may be asked
    assert child["status"] == "completed", child["error"]
    assert child["parent_job_id"] == parent["job_id"] and child["relation"] == "continues"
    papers = {p["id"] for p in report_of(runtime, child["job_id"])["corpus"]["papers"]}
    before = {p["id"] for p in report_of(runtime, parent["job_id"])["corpus"]["papers"]}
    assert papers == before | {"new-field-study.txt"}
    assert [p["source"] for p in child["prompts"]] == ["replay", "replay"]
    assert [p["replayed_from"] for p in child["prompts"]] == [
        p["prompt_id"] for p in parent["prompts"]
    ]
    compared = diff.diff_jobs(runtime, parent["job_id"], child["job_id"])
    assert gap_id in {g["id"] for g in compared["results"]["gaps_removed"]}


async def test_new_papers_evidence_is_listed_per_sub_requirement(runtime: Runtime) -> None:
    parent = await sample_job(runtime, ONCE)
    gap_id, paper = gap_closing_paper(report_of(runtime, parent["job_id"]))
    row = continuation.create_continuation(
        runtime, parent["job_id"], [upload("new-field-study.txt", paper)]
    )
    await run_job(runtime, row["job_id"])
    gained = continuation.evidence_gained(
        report_of(runtime, parent["job_id"]), report_of(runtime, row["job_id"])
    )
    closing = next(g for g in gained if g["id"] == gap_id)
    assert closing["papers"][0]["paper"] == "new-field-study.txt"
    assert closing["was_gap"] is True and closing["gap"] is False


async def test_parent_inputs_are_hard_linked_and_the_added_file_named(runtime: Runtime) -> None:
    parent = await sample_job(runtime, ONCE)
    row = continuation.create_continuation(
        runtime, parent["job_id"], [upload("extra.txt", b"Tank maintenance schedules\n\nText.")]
    )
    source = runtime.workspace.inputs_dir(parent["job_id"]) / "framework.json"
    copied = runtime.workspace.inputs_dir(row["job_id"]) / "framework.json"
    assert os.stat(source).st_ino == os.stat(copied).st_ino
    runtime.docs.flush()
    document = json.loads(runtime.workspace.document(row["job_id"]).read_text())
    assert document["parent_job_id"] == parent["job_id"]
    assert document["relation"] == "continues"
    added = [i for i in document["inputs"] if i.get("added")]
    assert [(i["name"], len(i["sha256"])) for i in added] == [("extra.txt", 64)]


async def test_a_file_already_in_the_corpus_is_left_out_and_reported(runtime: Runtime) -> None:
    parent = await sample_job(runtime, ONCE)
    first = parent["inputs"][0]
    same = (runtime.workspace.inputs_dir(parent["job_id"]) / first["path"]).read_bytes()
    row = continuation.create_continuation(
        runtime,
        parent["job_id"],
        [upload("copy.txt", same), upload("extra.txt", b"Tank maintenance schedules\n\nText.")],
    )
    names = [i["name"] for i in row["inputs"] if i.get("added")]
    assert names == ["extra.txt"]
    [dup] = row["config"]["duplicates"]
    assert (dup["file"], dup["reason"], dup["kept"]) == ("copy.txt", "same content", False)
    assert not (runtime.workspace.inputs_dir(row["job_id"]) / "corpus" / "copy.txt").exists()


async def test_a_paper_with_a_title_already_there_is_left_out(runtime: Runtime) -> None:
    parent = await sample_job(runtime, ONCE)
    known = report_of(runtime, parent["job_id"])["corpus"]["papers"][0]
    retitled = f"{known['title'].upper()}!\n\nA different text of the same paper.".encode()
    with pytest.raises(InvalidInput, match="nothing to add"):
        continuation.create_continuation(runtime, parent["job_id"], [upload("again.md", retitled)])
    assert len(job_rows.list_jobs(runtime.engine, limit=100)[0]) == 1


async def test_a_text_copy_of_a_markdown_paper_titled_by_its_first_line_is_left_out(
    runtime: Runtime,
) -> None:
    body = "Slow sand filters remove turbidity from harvested roof runoff."
    markdown = f"Sand filters for rooftop water\n\n## Abstract\n\n{body}\n".encode()
    files = [InputFile(p.name, io.BytesIO(p.read_bytes())) for p in sample_corpus_paths()]
    created = create_job(runtime, files=[*files, upload("sand.md", markdown)])
    parent = await run_job(runtime, created["job_id"], ONCE)
    copy = f"Sand filters for rooftop water\n\nAbstract\n{body}\n".encode()
    with pytest.raises(InvalidInput, match="nothing to add"):
        continuation.create_continuation(runtime, parent["job_id"], [upload("sand.txt", copy)])


async def test_keep_duplicates_adds_the_duplicate_anyway(runtime: Runtime) -> None:
    parent = await sample_job(runtime, ONCE)
    known = report_of(runtime, parent["job_id"])["corpus"]["papers"][0]
    retitled = f"{known['title']}\n\nA different text of the same paper.".encode()
    row = continuation.create_continuation(
        runtime, parent["job_id"], [upload("again.txt", retitled)], keep_duplicates=True
    )
    assert [i["name"] for i in row["inputs"] if i.get("added")] == ["again.txt"]
    assert row["config"]["duplicates"][0]["kept"] is True


async def test_only_a_completed_job_can_be_continued(runtime: Runtime) -> None:
    draft = new_job(runtime)
    with pytest.raises(NotContinuable, match="only a completed job can be continued"):
        continuation.create_continuation(runtime, draft, [upload("a.txt", b"Some paper\n\nx")])


async def test_config_overrides_apply_and_the_rest_is_the_parent_config(runtime: Runtime) -> None:
    parent = await sample_job(runtime, ONCE, max_iterations=7)
    row = continuation.create_continuation(
        runtime,
        parent["job_id"],
        [upload("extra.txt", b"Tank maintenance schedules\n\nText.")],
        overrides=parse_config({"convergence_threshold": 1.5}),
    )
    assert row["config"]["convergence_threshold"] == 1.5
    assert row["config"]["max_iterations"] == 7
