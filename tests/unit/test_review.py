"""The evidence_review decision point: the prompt it builds, which sub-requirements it
asks about, how answers become verdicts, and (through a real JobContext on a real
store) a revision's planned reviews answered as the reviewer's, and an in-run review
timing out to the machine's own judgement."""

import asyncio
from typing import Any

import pytest

from litgap.config import StoredConfig
from litgap.context import JobContext
from litgap.exceptions import InvalidResponse
from litgap.pipeline.analysis import SUPPORT_SCORE
from litgap.responses import validate_response
from litgap.review import (
    BORDERLINE_BAND,
    PROMPT_TYPE,
    review_evidence,
    review_prompt,
    subs_to_review,
    text_fingerprint,
    verdicts_from,
)
from litgap.runtime import Runtime
from litgap.services.revisions import Judged, plan_reviews, review_answers
from litgap.status import JobStatus
from litgap.store import jobs as job_rows
from litgap.store import prompts as prompt_rows
from tests.helpers import new_job


def passage(eid: str, score: float, text: str = "roof catchment yield") -> dict[str, Any]:
    return {"evidence_id": eid, "paper": "p.txt", "title": "P", "page": 2, "text": text,
            "score": score}  # fmt: skip


def sub(sid: str, completeness: float, *ids: str) -> dict[str, Any]:
    return {"id": sid, "text": f"text of {sid}", "requirement": "REQ-1", "pillar": "P1",
            "completeness": completeness,
            "evidence": [passage(e, 0.5 - i / 10) for i, e in enumerate(ids)]}  # fmt: skip


class Outcome:
    def __init__(self, iteration: int, subs: list[dict[str, Any]]) -> None:
        self.iteration = iteration
        self.subs = subs


def test_the_prompt_offers_the_passages_and_defaults_to_those_that_count() -> None:
    strong, weak = SUPPORT_SCORE + 0.01, SUPPORT_SCORE - 0.01
    spec = review_prompt(sub("S1", 40.0), [passage("e1", strong), passage("e2", weak)])
    assert (spec.type, spec.options, spec.default, spec.multiple) == (
        PROMPT_TYPE, ["e1", "e2"], ["e1"], True,
    )  # fmt: skip
    data = spec.prompt_data()
    assert (data["sub_requirement"], data["text"]) == ("S1", "text of S1")
    assert data["passages"][0] == {
        **passage("e1", strong), "fingerprint": text_fingerprint("roof catchment yield"),
    }  # fmt: skip


def test_options_not_accepted_are_rejected() -> None:
    assert verdicts_from(["e1", "e2", "e3"], ["e2"]) == {
        "e1": "reject", "e2": "accept", "e3": "reject",
    }  # fmt: skip
    assert verdicts_from(["e1"], []) == {"e1": "reject"}


def test_accepting_none_is_a_valid_answer_but_a_stranger_is_not() -> None:
    data = review_prompt(sub("S1", 40.0), [passage("e1", 0.3)]).prompt_data()
    assert validate_response("p", data, [], max_text_chars=100) == []
    with pytest.raises(InvalidResponse):
        validate_response("p", data, ["e9"], max_text_chars=100)


def test_gaps_mode_reviews_the_gaps_with_evidence() -> None:
    subs = [sub("S1", 40.0, "e1"), sub("S2", 80.0, "e2"), sub("S3", 10.0)]
    assert [s["id"] for s in subs_to_review("gaps", subs, None)] == ["S1"]


def test_borderline_mode_reviews_within_the_band_around_the_threshold() -> None:
    low, high = 50.0 - BORDERLINE_BAND, 50.0 + BORDERLINE_BAND
    subs = [sub("in-low", low, "e1"), sub("in-high", high, "e2"), sub("out", low - 0.1, "e3")]
    assert [s["id"] for s in subs_to_review("borderline", subs, None)] == ["in-low", "in-high"]


def test_after_a_deep_iteration_only_changed_subs_are_reviewed() -> None:
    before = [sub("S1", 40.0, "e1"), sub("S2", 30.0, "e2")]
    after = [sub("S1", 40.0, "e1"), sub("S2", 35.0, "e2", "e3")]
    assert [s["id"] for s in subs_to_review("gaps", after, before)] == ["S2"]


def test_none_mode_reviews_nothing() -> None:
    assert subs_to_review("none", [sub("S1", 10.0, "e1")], None) == []


def running_job(runtime: Runtime) -> str:
    job_id = new_job(runtime)
    job_rows.transition(runtime.engine, job_id, JobStatus.QUEUED)
    job_rows.transition(runtime.engine, job_id, JobStatus.RUNNING)
    return job_id


def test_a_revisions_planned_reviews_are_recorded_as_the_reviewers_answers(
    runtime: Runtime,
) -> None:
    requirement = {"id": "REQ-1", "name": "R", "sub_requirements": [sub("S1", 60.0, "e1", "e2")]}
    report = {"pillars": [{"name": "P1", "requirements": [requirement]}]}
    judged = {"e1": Judged("reject", "ada", "not about roofs"), "e2": Judged("accept", "ada", None)}
    reviews = plan_reviews(report, judged, {})
    config = StoredConfig(
        replay_answers=review_answers(reviews, judged, "ada", "second look"),
        evidence_reviews=reviews,
    )
    job_id = running_job(runtime)
    ctx = JobContext(runtime, job_id, config)
    verdicts = asyncio.run(review_evidence(ctx, Outcome(1, report_subs(report)), config))
    assert verdicts == {"e1": "reject", "e2": "accept"}
    [row] = prompt_rows.job_prompts(runtime.engine, job_id)
    assert (row["type"], row["applied"], row["source"], row["answered_by"], row["note"]) == (
        PROMPT_TYPE, ["e2"], "user", "ada", "second look",
    )  # fmt: skip
    assert row["drift"] is None and row["prompt_data"]["sub_requirement"] == "S1"
    assert [p["note"] for p in row["prompt_data"]["passages"] if "note" in p] == ["not about roofs"]


def report_subs(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for p in report["pillars"] for r in p["requirements"] for s in r["sub_requirements"]]


def test_an_in_run_review_left_unanswered_applies_the_machines_judgement(
    runtime: Runtime,
) -> None:
    config = StoredConfig(review_evidence="gaps", prompt_timeouts={PROMPT_TYPE: 1})
    strong = SUPPORT_SCORE + 0.05
    gap = {**sub("S1", 30.0), "evidence": [passage("e1", strong), passage("e2", 0.01)]}
    job_id = running_job(runtime)
    ctx = JobContext(runtime, job_id, config)
    verdicts = asyncio.run(review_evidence(ctx, Outcome(1, [gap, sub("S2", 90.0, "e3")]), config))
    assert verdicts == {"e1": "accept", "e2": "reject"}
    [row] = prompt_rows.job_prompts(runtime.engine, job_id)
    assert (row["status"], row["source"], row["applied"]) == (
        "timed_out",
        "timeout_default",
        ["e1"],
    )
    assert row["prompt_data"]["iteration"] == 1


def test_a_passage_listed_under_two_subs_is_reviewed_once_where_it_was_judged() -> None:
    requirement = {
        "id": "REQ-1",
        "name": "R",
        "sub_requirements": [sub("S1", 60.0, "e1", "e2"), sub("S2", 40.0, "e1")],
    }
    report = {"pillars": [{"name": "P1", "requirements": [requirement]}]}
    judged = {"e1": Judged("reject", "ada", None)}
    named = plan_reviews(report, judged, {}, {"e1": "S2"})
    unnamed = plan_reviews(report, judged, {})
    assert [r["id"] for r in named] == ["S2"] and [r["id"] for r in unnamed] == ["S1"]
