"""Evidence in the browser: a sub-requirement's passages with the matched words marked
and its PDF at the page, verdicts collected into a review that makes a revision, an
in-run evidence_review prompt answered in the dialog, no verdict buttons for a viewer,
and hostile passage text and notes shown as text."""

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.browser_support import (
    Answer,
    PageProblems,
    Server,
    drive_job,
    wait_for_prompt,
)
from tests.evidence_helpers import make_pdf

HOSTILE = "<img src=x onerror=window.__pwned=1>"
HOSTILE_NOTE = "</textarea><script>window.__pwned=2</script><b>bold?</b>"
HOSTILE_PAPER = (
    f"{HOSTILE} Roof catchment yield estimated from rainfall depth and roof area matched "
    "metered inflow on school roofs. <script>window.__pwned=3</script> Roof area and "
    "rainfall depth predict the catchment yield. "
) * 4
PDF_TEXT = (
    "Roof catchment yield estimated from rainfall depth and roof area matched metered "
    "inflow within ten percent on fourteen school roofs in the survey. "
) * 6


def _completed(job: dict[str, Any]) -> str:
    assert job["status"] == "completed", job.get("error")
    job_id: str = job["job_id"]
    return job_id


@pytest.fixture(scope="module")
def done(run_job: Callable[..., dict[str, Any]]) -> str:
    """A completed sample job (all pillars, one pass)."""
    return _completed(run_job([Answer("pillar_selection", ["ALL"]), Answer("run_mode", "ONCE")]))


def _upload_job(server: Server, files: list[tuple[str, tuple[str, bytes, str]]]) -> str:
    with server.client() as client:
        created = client.post("/api/jobs", files=files, data={"config": '{"run_mode": "ONCE"}'})
        assert created.status_code == 201, created.text
        job_id: str = created.json()["job_id"]
        assert client.post(f"/api/jobs/{job_id}/start").status_code == 202
    return _completed(drive_job(server, job_id, [Answer("pillar_selection", ["ALL"])]))


def _best_sub(api: httpx.Client, job_id: str) -> dict[str, Any]:
    """The sub-requirement with the highest completeness that has passages."""
    items = api.get(f"/api/jobs/{job_id}/evidence", params={"limit": 200}).json()["items"]
    return max((s for s in items if s["passages"]), key=lambda s: s["completeness"])


def _open_evidence(page: Page, sub: str) -> Locator:
    page.locator("#evidence-breakdown").get_by_role("button", name=f"Evidence for {sub}").click()
    panel = page.locator("#evidence-panel")
    expect(panel.get_by_role("heading", name=f"Evidence for {sub}")).to_be_visible()
    return panel


def _wait_for_revision(page: Page, original: str) -> str:
    """The revision's job id, once the page has moved on to it."""
    page.wait_for_url(
        lambda url: bool(re.search(r"/jobs/job_[a-z0-9]+$", url)) and not url.endswith(original)
    )
    return page.url.rsplit("/", 1)[1]


def _completeness_cell(page: Page, sub: str) -> Locator:
    return page.locator(f"#evidence-breakdown tr[data-sub='{sub}'] .sub-completeness .num")


def _percent(text: str) -> float:
    found = re.search(r"[\d.]+", text)
    assert found, text
    return float(found.group())


def test_evidence_panel_lists_passages_best_first_with_matched_words_marked(
    page: Page, api: httpx.Client, done: str
) -> None:
    sub = _best_sub(api, done)
    page.goto(f"/jobs/{done}")
    panel = _open_evidence(page, sub["sub_requirement"])

    expect(panel.locator("#evidence-sub-text")).to_have_text(sub["text"])
    items = panel.locator("li.passage")
    expect(items).to_have_count(len(sub["passages"]))
    first = sub["passages"][0]
    expect(items.first.locator(".passage-title")).to_have_text(first["title"])
    expect(items.first.locator(".passage-score")).to_have_text(f"score {first['score']:.4f}")
    marked = [first["text"][a:b] for a, b in first["highlights"]]
    expect(items.first.locator("mark")).to_have_text(marked)
    expect(items.first.locator(".passage-text")).to_have_text(first["text"])


def test_top_gaps_show_the_sub_requirement_text_and_open_its_evidence(
    page: Page, api: httpx.Client, done: str
) -> None:
    gap = api.get(f"/api/jobs/{done}").json()["results"]["top_gaps"][0]["id"]
    text = api.get(f"/api/jobs/{done}/evidence", params={"sub": gap}).json()["text"]
    page.goto(f"/jobs/{done}")
    row = page.get_by_role("table", name="Top gaps").locator("tbody tr").first
    expect(row.locator("td.gap-text")).to_have_text(text)

    row.get_by_role("button", name=f"Evidence for {gap}").click()

    expect(page.locator("#evidence-panel-title")).to_have_text(f"Evidence for {gap}")


def test_a_pdf_passage_links_the_paper_at_its_page(
    page: Page, server: Server, tmp_path: Path
) -> None:
    pdf = make_pdf(tmp_path / "roofs.pdf", ["Introduction to the survey.", PDF_TEXT])
    job_id = _upload_job(server, [("files", ("roofs.pdf", pdf.read_bytes(), "application/pdf"))])
    page.goto(f"/jobs/{job_id}")
    panel = _open_evidence(page, "Sub-S1.1.1")

    link = panel.locator("li.passage").first.get_by_role("link", name="Open PDF at p. 2")
    expect(link).to_have_attribute("href", f"/api/jobs/{job_id}/papers/0/file#page=2")
    expect(link).to_have_attribute("target", "_blank")
    served = page.request.get(f"/api/jobs/{job_id}/papers/0/file")
    assert served.ok and served.headers["content-type"] == "application/pdf"


def test_rejecting_a_passage_makes_a_revision_with_lower_completeness_and_the_verdict_recorded(
    page: Page, api: httpx.Client, done: str
) -> None:
    sub = _best_sub(api, done)
    sub_id = sub["sub_requirement"]
    rejected = sub["passages"][0]
    page.goto(f"/jobs/{done}")
    before = _percent(_completeness_cell(page, sub_id).inner_text())
    panel = _open_evidence(page, sub_id)

    panel.get_by_role("button", name="Reject passage 1", exact=True).click()
    expect(panel.get_by_role("button", name="Reject passage 1", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )
    review = page.locator("#review")
    expect(review.locator("#review-count")).to_have_text("1 verdict (0 accepted, 1 rejected)")
    review.get_by_label(f"Note on {rejected['evidence_id']}").fill("describes another site")
    review.get_by_label("Note on the whole review (optional)").fill("first pass")
    review.get_by_role("button", name="Create revision").click()

    _wait_for_revision(page, done)
    expect(page.locator("#lineage-parent")).to_contain_text("Revision of")
    expect(page.locator("#lineage-parent").get_by_role("link", name=done)).to_be_visible()
    expect(page.locator("#job-state [data-status]")).to_have_attribute("data-status", "completed")
    expect(_completeness_cell(page, sub_id)).not_to_have_text(f"{before:.1f} %")
    assert _percent(_completeness_cell(page, sub_id).inner_text()) < before

    decisions = page.locator("#decisions")
    decisions.get_by_label("Prompt type").select_option("evidence_review")
    record = decisions.locator("tbody.decision[data-type='evidence_review']")
    expect(record).to_have_count(1)
    expect(record).to_contain_text("Evidence review")
    expect(record.locator(f"li[data-evidence-id='{rejected['evidence_id']}']")).to_contain_text(
        "Rejected"
    )
    expect(record).to_contain_text("describes another site")
    decisions.get_by_label("Search decisions").fill(" ".join(rejected["text"].split())[:40])
    expect(record).to_be_visible()


def test_a_viewer_sees_the_evidence_but_no_verdict_buttons(viewer_page: Page, done: str) -> None:
    viewer_page.goto(f"/jobs/{done}")
    panel = _open_evidence(viewer_page, "Sub-S1.1.1")

    expect(panel.locator("li.passage").first).to_be_visible()
    expect(panel.get_by_role("button", name=re.compile(r"^(Accept|Reject) passage"))).to_have_count(
        0
    )
    expect(viewer_page.locator("#review")).to_be_hidden()


def test_an_in_run_evidence_review_prompt_is_answered_in_the_dialog(
    page: Page, server: Server, api: httpx.Client
) -> None:
    created = api.post(
        "/api/jobs",
        json={"sample": True, "config": {"run_mode": "ONCE", "review_evidence": "gaps"}},
    )
    assert created.status_code == 201, created.text
    job_id = created.json()["job_id"]
    assert api.post(f"/api/jobs/{job_id}/start").status_code == 202
    first = wait_for_prompt(server, job_id)
    assert first["type"] == "pillar_selection"
    assert api.post(
        f"/api/prompts/{first['prompt_id']}/respond", json={"response": ["ALL"]}
    ).is_success
    review = wait_for_prompt(server, job_id)
    assert review["type"] == "evidence_review", review["type"]
    passages = review["prompt_data"]["passages"]

    page.goto(f"/jobs/{job_id}")
    dialog = page.get_by_role("dialog", name="Decision needed")
    expect(dialog.locator("#prompt-type")).to_have_text("evidence_review")
    choices = dialog.locator(".passage-choices label.choice")
    expect(choices).to_have_count(len(passages))
    expect(choices.first).to_contain_text(passages[0]["text"][:60])
    dialog.get_by_role("button", name="Clear").click()
    choices.first.locator("input").check()
    with page.expect_response(re.compile(r"/api/prompts/.+/respond$")) as answered:
        dialog.get_by_role("button", name="Accept these").click()
    assert answered.value.status == 200, answered.value.text()

    record = next(
        p
        for p in api.get(f"/api/jobs/{job_id}").json()["prompts"]
        if p["prompt_id"] == review["prompt_id"]
    )
    assert (record["response"], record["source"], record["answered_by"]) == (
        [passages[0]["evidence_id"]], "user", "alice",
    )  # fmt: skip


def test_hostile_passage_text_and_notes_stay_inert(
    page: Page, problems: PageProblems, server: Server
) -> None:
    job_id = _upload_job(
        server, [("files", (f"{HOSTILE}.txt", HOSTILE_PAPER.encode(), "text/plain"))]
    )
    page.goto(f"/jobs/{job_id}")
    panel = _open_evidence(page, "Sub-S1.1.1")
    first = panel.locator("li.passage").first
    expect(first.locator(".passage-text")).to_contain_text(HOSTILE)
    expect(first.locator(".passage-title")).to_contain_text(HOSTILE)

    first.get_by_role("button", name="Reject passage 1", exact=True).click()
    page.locator("#review textarea").first.fill(HOSTILE_NOTE)
    page.get_by_label("Note on the whole review (optional)").fill(HOSTILE_NOTE)
    page.get_by_role("button", name="Create revision").click()
    _wait_for_revision(page, job_id)
    expect(page.locator("#job-state [data-status]")).to_have_attribute("data-status", "completed")
    expect(page.locator("tbody.decision[data-type='evidence_review']")).to_contain_text(
        HOSTILE_NOTE
    )
    _open_evidence(page, "Sub-S1.1.1")

    assert page.evaluate("window.__pwned") is None
    expect(page.locator("main img[src='x']")).to_have_count(0)
    expect(page.locator("main script")).to_have_count(0)
    expect(page.locator("main b", has_text="bold?")).to_have_count(0)
    assert problems.dialogs == []
