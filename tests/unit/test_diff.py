"""Diff: decisions paired by type and occurrence, config and results compared, and the
verdict on whether B reproduced A."""

import json
from typing import Any

import pytest

from litgap.exceptions import InvalidJobId, UnknownJob
from litgap.runtime import Runtime
from litgap.services import diff
from litgap.store import jobs as job_rows
from tests.audit_helpers import add_prompt
from tests.helpers import new_job


def record(type: str, applied: Any, prompt_id: str = "prompt_x00000") -> dict[str, Any]:
    return {"type": type, "applied": applied, "prompt_id": prompt_id, "source": "user"}


def report(subs: dict[str, tuple[str, float]], pillars: dict[str, float]) -> dict[str, Any]:
    """A gap_analysis_report.json shape: sub id -> (pillar, completeness)."""
    return {
        "schema_version": 1,
        "summary": {"overall_completeness": sum(pillars.values()) / len(pillars)},
        "pillars": [
            {
                "name": name,
                "completeness": value,
                "requirements": [
                    {
                        "id": f"REQ-{name}",
                        "sub_requirements": [
                            {"id": sid, "text": f"text {sid}", "completeness": c, "gap": c < 50}
                            for sid, (pillar, c) in subs.items()
                            if pillar == name
                        ],
                    }
                ],
            }
            for name, value in pillars.items()
        ],
    }


def write_report(rt: Runtime, job_id: str, data: dict[str, Any], *, indent: int = 2) -> None:
    path = rt.workspace.results_dir(job_id) / diff.REPORT_JSON
    path.write_text(json.dumps(data, indent=indent, sort_keys=True))


def test_decisions_are_paired_by_type_and_occurrence() -> None:
    a = [record("pillar_selection", ["ALL"]), record("run_mode", "DEEP_LOOP"),
         record("continue", "yes"), record("continue", "no")]  # fmt: skip
    b = [record("pillar_selection", ["P1"]), record("run_mode", "DEEP_LOOP"),
         record("continue", "yes"), record("continue", "yes"),
         record("continue", "no")]  # fmt: skip
    pairs = diff.diff_decisions(a, b)
    assert [(p["type"], p["occurrence"], p["a"], p["b"], p["verdict"]) for p in pairs] == [
        ("pillar_selection", 1, ["ALL"], ["P1"], "changed"),
        ("run_mode", 1, "DEEP_LOOP", "DEEP_LOOP", "same"),
        ("continue", 1, "yes", "yes", "same"),
        ("continue", 2, "no", "yes", "changed"),
        ("continue", 3, None, "no", "only_b"),
    ]
    assert diff.diff_decisions(b[:1], [])[0]["verdict"] == "only_a"


def test_config_lists_the_keys_that_differ_but_not_the_replay_plan() -> None:
    a: dict[str, Any] = {"run_mode": None, "max_iterations": 5, "replay_answers": []}
    b = {"run_mode": "ONCE", "max_iterations": 5, "replay_answers": [{"type": "run_mode"}]}
    assert diff.diff_config(a, b) == [{"key": "run_mode", "a": None, "b": "ONCE"}]


def test_results_give_pillar_deltas_changed_subs_and_gaps_added_and_removed() -> None:
    a = report({"S1": ("P1", 80.0), "S2": ("P1", 40.0), "S3": ("P2", 60.0)},
               {"P1": 60.0, "P2": 60.0})  # fmt: skip
    b = report({"S1": ("P1", 80.0), "S2": ("P1", 55.5), "S3": ("P2", 45.25)},
               {"P1": 67.75, "P2": 45.25})  # fmt: skip
    results = diff.diff_reports(a, b)
    assert results["pillars"] == [
        {"pillar": "P1", "a": 60.0, "b": 67.75, "delta": 7.75},
        {"pillar": "P2", "a": 60.0, "b": 45.25, "delta": -14.75},
    ]
    assert results["subrequirements"] == [
        {"id": "S2", "pillar": "P1", "a": 40.0, "b": 55.5, "delta": 15.5, "verdicts": []},
        {"id": "S3", "pillar": "P2", "a": 60.0, "b": 45.25, "delta": -14.75, "verdicts": []},
    ]
    assert [g["id"] for g in results["gaps_added"]] == ["S3"]
    assert [g["id"] for g in results["gaps_removed"]] == ["S2"]
    assert results["overall"] == {"a": 60.0, "b": 56.5, "delta": -3.5}


def test_a_pillar_only_one_job_analysed_has_no_delta() -> None:
    a = report({"S1": ("P1", 80.0), "S3": ("P2", 60.0)}, {"P1": 80.0, "P2": 60.0})
    b = report({"S1": ("P1", 80.0)}, {"P1": 80.0})
    results = diff.diff_reports(a, b)
    assert results["pillars"][1] == {"pillar": "P2", "a": 60.0, "b": None, "delta": None}
    assert results["subrequirements"] == [
        {"id": "S3", "pillar": "P2", "a": 60.0, "b": None, "delta": None, "verdicts": []}
    ]


def test_equal_reports_are_reproduced_exactly_even_when_formatted_differently(
    runtime: Runtime,
) -> None:
    data = report({"S1": ("P1", 80.0)}, {"P1": 80.0})
    a, b = new_job(runtime), new_job(runtime)
    for job_id in (a, b):
        add_prompt(runtime, job_id, 0)
    write_report(runtime, a, data)
    write_report(runtime, b, data, indent=4)
    compared = diff.diff_jobs(runtime, a, b)
    assert compared["reproduced"] is True and compared["verdict"] == "reproduced exactly"
    assert compared["results"]["subrequirements"] == []


def test_same_results_from_other_decisions_say_so(runtime: Runtime) -> None:
    data = report({"S1": ("P1", 80.0)}, {"P1": 80.0})
    a, b = new_job(runtime), new_job(runtime)
    add_prompt(runtime, a, 0, response="ONCE")
    add_prompt(runtime, b, 0, response="DEEP_LOOP")
    write_report(runtime, a, data)
    write_report(runtime, b, data)
    compared = diff.diff_jobs(runtime, a, b)
    assert compared["reproduced"] is True
    assert compared["verdict"] == "identical results, though decisions differ (1 changed)"


def test_a_job_without_report_is_named_and_not_reproduced(runtime: Runtime) -> None:
    a, b = new_job(runtime), new_job(runtime)
    write_report(runtime, a, report({"S1": ("P1", 80.0)}, {"P1": 80.0}))
    job_rows.update_job(runtime.engine, b, config={"run_mode": "ONCE"})
    compared = diff.diff_jobs(runtime, a, b)
    assert compared["reproduced"] is False
    assert compared["results"]["missing"] == [b]
    assert compared["verdict"] == f"same decisions; no results to compare for {b}"
    assert compared["config"] == [{"key": "run_mode", "a": None, "b": "ONCE"}]


@pytest.mark.parametrize(
    ("other", "error"), [("job_doesnotexist", UnknownJob), ("job_../../etc", InvalidJobId)]
)
def test_unknown_or_invalid_job_is_refused(
    runtime: Runtime, other: str, error: type[Exception]
) -> None:
    with pytest.raises(error):
        diff.diff_jobs(runtime, new_job(runtime), other)


def _with_evidence(
    base: dict[str, Any], sub_id: str, ids: list[str], verdicts: dict[str, str]
) -> dict[str, Any]:
    for pillar in base["pillars"]:
        for requirement in pillar["requirements"]:
            for sub in requirement["sub_requirements"]:
                sub["evidence"] = [{"evidence_id": e} for e in ids] if sub["id"] == sub_id else []
    return {**base, "schema_version": 2, "verdicts": verdicts}


def test_a_revision_diff_names_the_verdicts_behind_each_change() -> None:
    a = _with_evidence(report({"S1": ("P1", 60.0), "S2": ("P1", 80.0)}, {"P1": 70.0}),
                       "S1", ["e1", "e2"], {})  # fmt: skip
    b = _with_evidence(report({"S1": ("P1", 30.0), "S2": ("P1", 80.0)}, {"P1": 55.0}),
                       "S1", ["e1", "e2"], {"e1": "reject"})  # fmt: skip
    results = diff.diff_reports(a, b)
    assert results["verdicts"] == [
        {"evidence_id": "e1", "a": None, "b": "reject", "sub_requirements": ["S1"]}
    ]
    assert results["subrequirements"][0]["verdicts"] == ["e1"]
    assert results["requirements"] == []  # the fixture gives requirements no completeness
    assert [(g["id"], g["verdicts"]) for g in results["gaps_added"]] == [("S1", ["e1"])]


def test_requirements_whose_completeness_changed_name_their_changed_subs() -> None:
    a = report({"S1": ("P1", 60.0), "S2": ("P1", 80.0)}, {"P1": 70.0})
    b = report({"S1": ("P1", 30.0), "S2": ("P1", 80.0)}, {"P1": 55.0})
    a["pillars"][0]["requirements"][0]["completeness"] = 70.0
    b["pillars"][0]["requirements"][0]["completeness"] = 55.0
    assert diff.diff_reports(a, b)["requirements"] == [
        {"id": "REQ-P1", "pillar": "P1", "a": 70.0, "b": 55.0, "delta": -15.0,
         "sub_requirements": ["S1"]}
    ]  # fmt: skip
