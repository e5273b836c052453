"""Agreement between reviewers, read from real revision rows and evidence_review
records in a real store."""

from typing import Any

from sklearn.metrics import cohen_kappa_score

from litgap.clock import now_iso
from litgap.ids import new_job_id
from litgap.review import review_prompt
from litgap.runtime import Runtime
from litgap.services.agreement import agreement
from litgap.store import jobs as job_rows
from litgap.store import prompts as prompt_rows
from tests.helpers import new_job, resolved_prompt_row

AT = "2026-01-01T00:00:00Z"


def revision(rt: Runtime, original: str, reviewer: str, reviews: dict[str, dict[str, str]]) -> str:
    """A revision by `reviewer` whose evidence_review records give `reviews`
    (sub id -> {evidence_id: verdict})."""
    job_id = new_job_id()
    now = now_iso()
    job_rows.insert_job(rt.engine, {
        "job_id": job_id, "status": "completed", "created_at": now, "updated_at": now,
        "config": {}, "inputs": [], "transitions": [], "parent_job_id": original,
        "relation": "revision_of", "created_by": reviewer,
    })  # fmt: skip
    for seq, (sub_id, verdicts) in enumerate(reviews.items()):
        passages = [
            {"evidence_id": e, "paper": "p.txt", "page": 1, "text": f"text {e}", "score": 0.3,
             "judged_by": reviewer}
            for e in verdicts
        ]  # fmt: skip
        spec = review_prompt({"id": sub_id, "text": sub_id}, passages)
        accepted = [e for e, v in verdicts.items() if v == "accept"]
        row = resolved_prompt_row(job_id, seq, "evidence_review", spec.prompt_data(), accepted,
                                  requested_at=AT, resolved_at=AT, response_time_ms=1)  # fmt: skip
        prompt_rows.insert_prompt(rt.engine, {**row, "answered_by": reviewer})
    return job_id


def test_two_reviewers_get_cohens_kappa_over_the_passages_both_judged(runtime: Runtime) -> None:
    original = new_job(runtime)
    ada: dict[str, str] = {"e1": "accept", "e2": "accept", "e3": "reject", "e4": "reject"}
    bob: dict[str, str] = {"e1": "accept", "e2": "reject", "e3": "reject", "e4": "reject"}
    revision(runtime, original, "ada", {"S1": {**ada, "e9": "accept"}})
    revision(runtime, original, "bob", {"S1": bob})
    result = agreement(runtime, original)
    [pair] = result["pairs"]
    expected = cohen_kappa_score(list(ada.values()), list(bob.values()))
    assert (pair["common"], pair["agreed"]) == (4, 3)
    assert result["kappa"] == round(expected, 4) and result["message"] is None
    assert [c["evidence_id"] for c in pair["conflicts"]] == ["e2"]
    assert pair["conflicts"][0]["verdicts"] == {"ada": "accept", "bob": "reject"}


def test_agreement_is_given_per_sub_requirement(runtime: Runtime) -> None:
    original = new_job(runtime)
    revision(runtime, original, "ada", {"S1": {"e1": "accept"}, "S2": {"e2": "reject"}})
    revision(runtime, original, "bob", {"S1": {"e1": "accept"}, "S2": {"e2": "accept"}})
    subs = {
        s["sub_requirement"]: s
        for s in agreement(runtime, original)["pairs"][0]["sub_requirements"]
    }
    assert (subs["S1"]["agreed"], subs["S2"]["agreed"]) == (1, 0)


def test_one_reviewer_gets_a_message_not_a_kappa(runtime: Runtime) -> None:
    original = new_job(runtime)
    revision(runtime, original, "ada", {"S1": {"e1": "accept"}})
    result = agreement(runtime, original)
    assert result["pairs"] == [] and result["kappa"] is None
    assert result["message"] == (
        f"job {original!r} has revisions by 1 reviewer(s); agreement needs revisions by at "
        "least two reviewers"
    )


def test_verdicts_carried_from_another_reviewer_are_not_counted(runtime: Runtime) -> None:
    original = new_job(runtime)
    revision(runtime, original, "ada", {"S1": {"e1": "accept"}})
    carried = revision(runtime, original, "bob", {"S1": {"e2": "reject"}})
    rows: list[dict[str, Any]] = prompt_rows.job_prompts(runtime.engine, carried)
    assert rows  # bob's record names bob; a passage judged by ada would be left out
    result = agreement(runtime, original)
    assert result["pairs"][0]["common"] == 0
    assert result["message"] == "no passage was judged by two reviewers"
