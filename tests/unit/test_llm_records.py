"""The model reviewer's pieces without a server: the request and the verdict schema, the
answer cache, and how every reader treats a model's records (agreement between any two
raters, analytics, the evidence CSV) in a real store."""

import csv
import hashlib
import io
import json
from pathlib import Path
from typing import Any

import pytest

from litgap.exceptions import InvalidInput
from litgap.llm.cache import AnswerCache
from litgap.llm.review import verdict_prompt
from litgap.llm.template import MalformedVerdict, parse_verdict, request_body, request_hash
from litgap.records import prompt_record
from litgap.review import review_prompt
from litgap.runtime import Runtime
from litgap.services.agreement import agreement
from litgap.services.analytics import prompt_analytics
from litgap.services.history_files import evidence_csv_pieces
from litgap.store import prompts as prompt_rows
from tests.helpers import new_job, resolved_prompt_row
from tests.unit.test_agreement import revision

AT = "2026-01-01T00:00:00Z"
SUB = {"id": "S1", "text": "Roof yield", "requirement": "R1", "pillar": "P1"}


def passage(eid: str) -> dict[str, Any]:
    return {"evidence_id": eid, "paper": "p.txt", "page": 1, "text": f"text {eid}", "score": 0.3}


def test_the_request_is_canonical_json_asking_for_the_verdict_schema() -> None:
    body = request_body("m", SUB, passage("e1"), "json_schema")
    assert body == request_body("m", dict(reversed(SUB.items())), passage("e1"), "json_schema")
    sent = json.loads(body)
    assert sent["model"] == "m" and sent["temperature"] == 0
    schema = sent["response_format"]["json_schema"]["schema"]
    assert schema["properties"]["verdict"]["enum"] == ["supports", "does_not_support", "unclear"]
    assert "text e1" in sent["messages"][1]["content"]
    assert request_hash(body) == hashlib.sha256(body).hexdigest()
    assert "response_format" not in json.loads(request_body("m", SUB, passage("e1"), "none"))


@pytest.mark.parametrize(
    ("answer", "label"),
    [
        ('{"verdict": "supports", "reason": "says so"}', "supports"),
        ('```json\n{"verdict": "unclear", "reason": "vague"}\n```', "unclear"),
        ('  {"verdict": "does_not_support", "reason": "off topic"} ', "does_not_support"),
    ],
)
def test_a_verdict_is_read_from_the_answer(answer: str, label: str) -> None:
    assert parse_verdict(answer).label == label


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ("Sure, it supports it.", "not JSON (Expecting value at character 0)"),
        ('["supports"]', "expected a JSON object, got list"),
        ('{"verdict": "maybe"}', "verdict 'maybe' is not one of"),
        ('{"verdict": "supports", "reason": 3}', "reason is int, not a string"),
    ],
)
def test_a_malformed_answer_says_what_is_wrong(answer: str, problem: str) -> None:
    with pytest.raises(MalformedVerdict) as malformed:
        parse_verdict(answer)
    assert str(malformed.value).startswith(problem)


def test_the_cache_keeps_answers_by_model_and_request_hash(tmp_path: Path) -> None:
    cache = AnswerCache(tmp_path)
    cache.put("m", "h1", {"label": "supports"})
    assert cache.get("m", "h1") == {"label": "supports", "request_hash": "h1"}
    assert cache.get("other", "h1") is None and cache.get("m", "h2") is None
    [path] = list(tmp_path.rglob("*.json"))
    path.write_text('{"label": ')  # torn: a miss, never a wrong answer
    assert cache.get("m", "h1") is None


def model_row(job_id: str, seq: int, eid: str, label: str, sub: dict[str, Any] = SUB) -> Any:
    spec = verdict_prompt(sub, passage(eid), "evidence-v1")
    block = {
        "model": "mx",
        "label": label,
        "reason": f"because {label}",
        "calls": 1,
        "prompt_tokens": 10,
        "completion_tokens": 5,
        "latency_ms": 200,
        "cached": False,
    }
    response = {"supports": [eid], "does_not_support": []}.get(label)
    row = resolved_prompt_row(
        job_id,
        seq,
        "evidence_review",
        {**spec.prompt_data(), "llm": block},
        response,
        requested_at=AT,
        resolved_at=AT,
        response_time_ms=200,
        source="llm",
    )
    return {**row, "answered_by": "llm:mx", "note": block["reason"]}


def test_a_model_is_a_rater_beside_people_with_a_confusion_table(runtime: Runtime) -> None:
    original = new_job(runtime)
    labels = {"e1": "supports", "e2": "supports", "e3": "does_not_support", "e4": "unclear"}
    for seq, (eid, label) in enumerate(labels.items()):
        prompt_rows.insert_prompt(runtime.engine, model_row(original, seq, eid, label))
    revision(runtime, original, "ada", {"S1": {"e1": "accept", "e2": "reject", "e3": "reject"}})
    result = agreement(runtime, original)
    kinds = {r["name"]: (r["kind"], r["judged"], r["unclear"]) for r in result["reviewers"]}
    assert kinds == {"ada": ("person", 3, 0), "llm:mx": ("model", 3, 1)}
    [pair] = result["pairs"]
    assert (pair["a"], pair["b"], pair["common"], pair["agreed"]) == ("ada", "llm:mx", 3, 2)
    # rows: ada's verdict; columns: the model's (accept, reject)
    assert pair["confusion"] == {"labels": ["accept", "reject"], "counts": [[1, 0], [1, 1]]}
    assert [(c["evidence_id"], c["sub_requirement"]) for c in pair["conflicts"]] == [("e2", "S1")]
    assert pair["conflicts"][0]["verdicts"] == {"ada": "reject", "llm:mx": "accept"}
    assert result["message"] is None


def test_a_models_verdict_holds_for_the_sub_requirement_it_was_asked_about(
    runtime: Runtime,
) -> None:
    original = new_job(runtime)
    other = {**SUB, "id": "S2"}
    prompt_rows.insert_prompt(runtime.engine, model_row(original, 0, "e1", "supports"))
    prompt_rows.insert_prompt(
        runtime.engine, model_row(original, 1, "e1", "does_not_support", other)
    )
    revision(runtime, original, "ada", {"S2": {"e1": "reject"}})
    [pair] = agreement(runtime, original)["pairs"]
    assert (pair["common"], pair["agreed"]) == (1, 1)  # compared under S2, where ada judged


def test_two_raters_are_chosen_by_name_and_an_unknown_one_is_refused(runtime: Runtime) -> None:
    original = new_job(runtime)
    prompt_rows.insert_prompt(runtime.engine, model_row(original, 0, "e1", "supports"))
    revision(runtime, original, "ada", {"S1": {"e1": "accept"}})
    revision(runtime, original, "bob", {"S1": {"e1": "reject"}})
    result = agreement(runtime, original, "llm:mx", "bob")
    assert [(p["a"], p["b"]) for p in result["pairs"]] == [("llm:mx", "bob")]
    assert len(agreement(runtime, original)["pairs"]) == 3
    with pytest.raises(InvalidInput) as unknown:
        agreement(runtime, original, "ada", "carol")
    assert unknown.value.detail == (
        f"unknown rater 'carol'; the raters of job {original!r} are: ada, bob, llm:mx"
    )


def test_a_model_alone_gets_a_message(runtime: Runtime) -> None:
    original = new_job(runtime)
    prompt_rows.insert_prompt(runtime.engine, model_row(original, 0, "e1", "supports"))
    assert agreement(runtime, original)["message"] == (
        f"job {original!r} has 1 rater(s); agreement needs two: reviewers' revisions or a "
        "model's verdicts"
    )


def test_analytics_give_the_models_verdicts_apart_from_peoples(runtime: Runtime) -> None:
    job = new_job(runtime)
    prompt_rows.insert_prompt(runtime.engine, model_row(job, 0, "e1", "supports"))
    prompt_rows.insert_prompt(runtime.engine, model_row(job, 1, "e2", "unclear"))
    spec = review_prompt(SUB, [passage("e3")])
    human = resolved_prompt_row(
        job, 2, "evidence_review", spec.prompt_data(), ["e3"],
        requested_at=AT, resolved_at=AT, response_time_ms=9000,
    )  # fmt: skip
    prompt_rows.insert_prompt(runtime.engine, human)
    figures = prompt_analytics(runtime)
    people, model = figures["types"]
    assert (people["type"], people["count"], people["median_ms"]) == ("evidence_review", 1, 9000)
    assert (model["source"], model["count"], model["median_ms"]) == ("llm", 2, 200)
    assert {r["response"] for r in model["top_responses"]} == {"supports", "unclear"}
    assert figures["llm"] == [
        {
            "model": "llm:mx",
            "verdicts": 2,
            "labels": {"supports": 1, "unclear": 1},
            "calls": 2,
            "prompt_tokens": 20,
            "completion_tokens": 10,
            "cached": 0,
            "median_latency_ms": 200.0,
        }
    ]


def test_the_evidence_csv_names_the_models_label_and_reason(runtime: Runtime) -> None:
    job = new_job(runtime)
    rows = [model_row(job, 0, "e1", "supports"), model_row(job, 1, "e2", "refused")]
    records = [prompt_record(r) for r in rows]
    text = b"".join(evidence_csv_pieces(job, records)).decode()
    got = [
        (r["evidence_id"], r["verdict"], r["reviewer"], r["source"], r["note"], r["model_label"])
        for r in csv.DictReader(io.StringIO(text))
    ]
    assert got == [
        ("e1", "accept", "llm:mx", "llm", "because supports", "supports"),
        ("e2", "none", "llm:mx", "llm", "because refused", "refused"),
    ]
