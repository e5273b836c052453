"""Decision analytics on a known set of records written straight to the store."""

import pytest

from litgap.exceptions import InvalidInput
from litgap.runtime import Runtime
from litgap.services import analytics
from tests.audit_helpers import add_prompt
from tests.helpers import new_job

DAY1 = "2025-11-17T10:00:00.000000Z"
DAY2 = "2025-11-18T10:00:00.000000Z"


def known_records(rt: Runtime) -> None:
    """run_mode on day 1: answered in 1, 2, 3, 4 and 10 s (ONCE x3, DEEP_LOOP x2), one
    timeout with the default applied, one without, one replayed answer; on day 2 one
    pillar_selection answered ALL in 500 ms."""
    job_id = new_job(rt)
    for seq, (ms, answer) in enumerate(
        [(1000, "ONCE"), (2000, "DEEP_LOOP"), (3000, "ONCE"), (4000, "ONCE"), (10000, "DEEP_LOOP")]
    ):
        add_prompt(rt, job_id, seq, requested_at=DAY1, response_ms=ms, response=answer)
    add_prompt(rt, job_id, 5, requested_at=DAY1, response_ms=120000, status="timed_out",
               response=None, applied="ONCE", source="timeout_default")  # fmt: skip
    add_prompt(rt, job_id, 6, requested_at=DAY1, response_ms=120000, status="timed_out",
               response=None, applied=None, source=None)  # fmt: skip
    add_prompt(rt, job_id, 7, requested_at=DAY1, response_ms=3, source="replay")
    add_prompt(rt, job_id, 8, type="pillar_selection", requested_at=DAY2, response_ms=500,
               response=["ALL"], options=["ALL", "DEEP", "P1", "NONE"], default=None)  # fmt: skip


def test_figures_per_type_on_a_known_set(runtime: Runtime) -> None:
    known_records(runtime)
    result = analytics.prompt_analytics(runtime)
    pillar, mode = result["types"]
    assert mode == {
        "type": "run_mode",
        "count": 7,
        "answered": 5,
        "replayed": 1,
        "median_ms": 3000.0,
        "p90_ms": 7600.0,  # between 4000 and 10000, 0.6 of the way
        "timeout_rate": round(2 / 7, 4),
        "default_applied_rate": round(1 / 7, 4),
        "top_responses": [
            {"response": "ONCE", "count": 3},
            {"response": "DEEP_LOOP", "count": 2},
        ],
    }
    assert pillar["type"] == "pillar_selection" and pillar["count"] == 1
    assert pillar["median_ms"] == 500.0 and pillar["p90_ms"] == 500.0
    assert pillar["top_responses"] == [{"response": ["ALL"], "count": 1}]


def test_since_and_until_bound_the_records_by_resolution_time(runtime: Runtime) -> None:
    known_records(runtime)
    day2 = analytics.prompt_analytics(runtime, since="2025-11-18")
    assert [t["type"] for t in day2["types"]] == ["pillar_selection"]
    assert day2["since"] == "2025-11-18T00:00:00.000000Z" and day2["until"] is None
    day1 = analytics.prompt_analytics(runtime, until="2025-11-17T23:59:59+00:00")
    assert [t["type"] for t in day1["types"]] == ["run_mode"]
    assert analytics.prompt_analytics(runtime, since="2025-12-01T00:00:00Z")["types"] == []


def test_an_empty_store_gives_no_types(runtime: Runtime) -> None:
    assert analytics.prompt_analytics(runtime) == {
        "since": None,
        "until": None,
        "types": [],
        "llm": [],  # a model's verdicts, given apart
    }


@pytest.mark.parametrize(
    ("since", "until", "message"),
    [
        ("yesterday", None, "since: 'yesterday' is not an ISO-8601 time"),
        (None, "2025-13-01", "until: '2025-13-01' is not an ISO-8601 time"),
        ("2025-11-18", "2025-11-17", "since (2025-11-18) is after until (2025-11-17)"),
    ],
)
def test_bad_times_are_refused_naming_the_parameter(
    runtime: Runtime, since: str | None, until: str | None, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message.replace("(", r"\(").replace(")", r"\)")):
        analytics.prompt_analytics(runtime, since, until)


def test_percentile_interpolates_between_closest_ranks() -> None:
    assert analytics.percentile([10], 0.9) == 10
    assert analytics.percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9) == pytest.approx(9.1)
    assert analytics.percentile([4, 1, 3, 2], 0.5) == 2.5
