"""Job details: results, the User Decisions timeline with its filters, and a legacy
job's missing history."""

import re
from typing import Any

import httpx
from playwright.sync_api import Locator, Page, expect

from tests.browser.browser_support import LEGACY_JOB, NO_HISTORY, create_sample_job


def _decisions(page: Page) -> Locator:
    return page.get_by_role("region", name="User Decisions")


def test_details_show_results_summary_and_result_files(
    page: Page, answered_job: dict[str, Any]
) -> None:
    job_id = answered_job["job_id"]
    page.goto(f"/jobs/{job_id}")
    expect(page.locator("#job-state")).to_contain_text("Completed")

    results = page.get_by_role("region", name="Results")
    bars = results.get_by_role("list", name="Completeness per pillar").get_by_role("listitem")
    expect(bars).to_have_count(len(answered_job["results"]["pillars"]))
    chart = results.get_by_role("img", name="Chart of completeness per pillar")
    expect(chart).to_be_visible()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=chart.element_handle()
    )
    expect(results.get_by_role("link", name="report.md")).to_have_attribute(
        "href", f"/api/jobs/{job_id}/results/report.md"
    )
    top_gap = answered_job["results"]["top_gaps"][0]["id"]
    expect(results.get_by_role("table", name="Top gaps")).to_contain_text(top_gap)


def test_decision_timeline_lists_every_record_with_its_badge(
    page: Page, answered_job: dict[str, Any]
) -> None:
    page.goto(f"/jobs/{answered_job['job_id']}")
    rows = _decisions(page).locator("tbody.decision")

    expect(rows).to_have_count(4)
    expect(rows.nth(0)).to_contain_text("pillar_selection")
    expect(rows.nth(0)).to_contain_text("Responded")
    expect(rows.nth(0)).to_contain_text("alice")
    expect(rows.nth(0)).to_contain_text("Select which pillars to analyze")
    expect(rows.nth(0)).to_contain_text("Note: checked by the review board")
    expect(rows.nth(1)).to_contain_text("DEEP_LOOP")
    expect(rows.nth(3)).to_contain_text("Default applied")
    expect(rows.nth(3)).to_contain_text("applied: no")


def test_decisions_filter_by_prompt_type(page: Page, answered_job: dict[str, Any]) -> None:
    page.goto(f"/jobs/{answered_job['job_id']}")
    decisions = _decisions(page)

    decisions.get_by_label("Prompt type").select_option("continue")

    visible = decisions.locator("tbody.decision:visible")
    expect(visible).to_have_count(2)
    expect(visible.nth(0)).to_contain_text("Iteration 1 complete")
    expect(decisions.locator("#decision-count")).to_have_text("Showing 2 of 4 decisions")


def test_decisions_free_text_search(page: Page, answered_job: dict[str, Any]) -> None:
    page.goto(f"/jobs/{answered_job['job_id']}")
    decisions = _decisions(page)

    decisions.get_by_label("Search decisions").fill("REVIEW board")

    visible = decisions.locator("tbody.decision:visible")
    expect(visible).to_have_count(1)
    expect(visible).to_contain_text("pillar_selection")
    decisions.get_by_label("Search decisions").fill("no such answer")
    expect(visible).to_have_count(0)
    expect(decisions.get_by_text("No decision matches the filter.")).to_be_visible()


def test_legacy_job_shows_the_no_history_message(page: Page) -> None:
    page.goto(f"/jobs/{LEGACY_JOB}")

    decisions = _decisions(page)
    expect(decisions.get_by_text(NO_HISTORY)).to_be_visible()
    expect(decisions.locator("tbody.decision")).to_have_count(0)
    replay = page.get_by_role("button", name="Replay with same prompts")
    expect(replay).to_be_disabled()
    expect(page.locator("#replay-reason")).to_have_text(re.compile("Nothing to replay"))


def test_operator_cancels_a_waiting_job_from_its_page(page: Page, api: httpx.Client) -> None:
    job_id = create_sample_job(api)
    page.goto(f"/jobs/{job_id}")
    expect(page.locator("#job-state")).to_contain_text("Waiting for input")
    page.get_by_role("dialog", name="Decision needed").get_by_role("button", name="Later").click()

    page.get_by_role("button", name="Cancel job").click()

    expect(page.locator("#job-state")).to_contain_text("Cancelled")
    expect(page.get_by_role("dialog", name="Decision needed")).to_be_hidden()
    expect(page.get_by_role("button", name="1 decision waiting")).to_be_hidden()
    expect(page.get_by_role("button", name="Cancel job")).to_be_hidden()


def test_a_file_uploaded_twice_is_named_under_inputs(page: Page, api: httpx.Client) -> None:
    paper = b"Rain tanks in dry years\n\nStorage sized to the dry season."
    files = [("files", ("tanks.txt", paper)), ("files", ("tanks (1).txt", paper))]
    created = api.post("/api/jobs", files=files)
    assert created.status_code == 201, created.text
    page.goto(f"/jobs/{created.json()['job_id']}")
    inputs = page.get_by_role("region", name="Inputs")
    expect(inputs.locator("#inputs-duplicates")).to_have_text(
        "Uploaded twice: tanks (1).txt = tanks.txt (same content, left out)."
    )
    expect(inputs.locator("#inputs-table tbody tr")).to_have_count(2)  # the paper, the framework
