"""The dashboard: a job created on the sample is answered in the decision dialog while
its row updates live; jobs are found by their decisions."""

import re
from typing import Any

from playwright.sync_api import Page, expect


def test_sample_job_is_answered_in_the_dialog_pillars_then_mode_then_continue(
    page: Page,
) -> None:
    page.goto("/")
    expect(page.locator("#live-status")).to_have_text("Live")
    page.get_by_label("Use the bundled sample").check()
    page.get_by_role("button", name="Create job").click()

    dialog = page.get_by_role("dialog", name="Decision needed")
    expect(dialog).to_contain_text("Select which pillars to analyze")
    job_id = dialog.locator("#prompt-job").inner_text()
    row = page.locator("#jobs-table tbody tr", has_text=job_id)
    expect(row).to_contain_text("Waiting for input")
    dialog.get_by_role("button", name="Select all").click()
    expect(dialog.get_by_role("checkbox", name="ALL", exact=True)).not_to_be_checked()
    expect(
        dialog.get_by_role("checkbox", name="Pillar 1: Rainwater Capture (SAMPLE)")
    ).to_be_checked()
    dialog.get_by_role("button", name="Submit answer").click()

    expect(dialog).to_contain_text("Select analysis mode")
    expect(dialog.get_by_role("radio", name="ONCE")).to_be_checked()  # the default
    expect(dialog.get_by_role("radio", name="ONCE")).to_have_accessible_name("ONCE (default)")
    expect(dialog.locator("#prompt-countdown")).to_contain_text("Time left")
    dialog.get_by_role("radio", name="DEEP_LOOP").check()
    dialog.get_by_role("button", name="Submit answer").click()

    expect(dialog).to_contain_text("Iteration 1 complete")
    dialog.get_by_role("radio", name="yes").check()
    dialog.get_by_role("button", name="Submit answer").click()
    expect(dialog).to_contain_text("Iteration 2 complete")
    dialog.get_by_role("radio", name="no").check()
    dialog.get_by_role("button", name="Submit answer").click()

    expect(dialog).to_be_hidden()
    expect(row).to_contain_text("Completed")
    expect(row).to_contain_text("100 %")
    expect(row).to_contain_text("DEEP_LOOP")
    expect(row).to_contain_text("Pillar 2: Water Quality & Treatment (SAMPLE)")


def test_search_finds_jobs_by_their_decision(page: Page, answered_job: dict[str, Any]) -> None:
    job_id = answered_job["job_id"]
    page.goto("/")
    search = page.get_by_role("search", name="Find jobs by decision")
    search.get_by_label("Prompt type").select_option("run_mode")
    search.get_by_label("Response", exact=True).fill("DEEP_LOOP")
    search.get_by_role("button", name="Search").click()
    # The Job column: a replay of this job names it again in its Parent column.
    results = page.locator("#search-table tbody th")
    expect(results.get_by_role("link", name=job_id)).to_be_visible()

    search.get_by_label("Response", exact=True).fill("ONCE")
    search.get_by_role("button", name="Search").click()
    expect(page.locator("#search-summary")).not_to_have_text("")
    expect(results.get_by_role("link", name=job_id)).to_have_count(0)


def test_the_new_job_form_sets_the_scorer_and_in_run_review(page: Page, api: Any) -> None:
    page.goto("/")
    page.get_by_label("Use the bundled sample").check()
    page.get_by_label("Scorer").select_option("lexical")
    page.get_by_label("Review evidence while it runs").select_option("gaps")
    page.get_by_label("Start right away").uncheck()
    page.get_by_role("button", name="Create job").click()
    expect(page.locator("#create-status")).to_contain_text("job_")
    found = re.search(r"job_[a-z0-9]+", page.locator("#create-status").inner_text())
    assert found is not None
    config = api.get(f"/api/jobs/{found.group()}").json()["config"]
    assert (config["scorer"], config["review_evidence"]) == ("lexical", "gaps")
