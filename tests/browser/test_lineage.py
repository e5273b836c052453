"""Living reviews from the browser: add papers to a completed job from its page, see
what they changed and the family tree, then the diff with the parent."""

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from tests.browser.browser_support import Answer


def test_add_papers_from_the_job_page_then_see_what_changed_and_the_diff(
    page: Page, api: httpx.Client, run_job: Callable[..., dict[str, Any]], tmp_path: Path
) -> None:
    parent = run_job([Answer("pillar_selection", ["ALL"]), Answer("run_mode", "ONCE")])
    parent_id = parent["job_id"]
    report = api.get(f"/api/jobs/{parent_id}/results/gap_analysis_report.json").json()
    gap = report["gaps"][0]
    paper = tmp_path / "field-study.txt"
    paper.write_text(f"Field study of {gap['text']}\n\n" + "\n\n".join([gap["text"]] * 12))

    page.goto(f"/jobs/{parent_id}")
    form = page.locator("#add-papers")
    form.locator("#add-papers-files").set_input_files(str(paper))
    form.get_by_role("button", name="Add papers").click()

    expect(page).not_to_have_url(re.compile(f"/jobs/{parent_id}$"))
    child_id = page.url.rsplit("/", 1)[-1]
    expect(page.locator("#lineage-parent")).to_contain_text(f"Continuation of {parent_id}")
    expect(page.locator("#lineage-added-list")).to_contain_text("field-study.txt")
    expect(page.locator("#job-state")).to_contain_text("Completed")
    expect(page.locator("#lineage-gained-list")).to_contain_text(gap["id"])
    expect(page.locator("#lineage-gained-summary")).to_contain_text("gap(s) closed")
    tree = page.locator("#lineage-tree")
    expect(tree.get_by_role("link", name=parent_id)).to_be_visible()
    expect(tree.locator(f'li[data-job-id="{child_id}"]')).to_contain_text("continues")

    page.locator("#lineage-diff-link").click()
    expect(page).to_have_url(re.compile(f"/diff/{parent_id}/{child_id}$"))
    expect(page.locator("body")).to_contain_text(gap["id"])


def test_the_dashboard_shows_a_continued_job_parent(
    page: Page, api: httpx.Client, run_job: Callable[..., dict[str, Any]]
) -> None:
    parent = run_job([Answer("pillar_selection", ["ALL"]), Answer("run_mode", "ONCE")])
    files = {"files": ("extra.txt", b"Cleaning rainwater tanks\n\nSediment twice a year.")}
    created = api.post(f"/api/jobs/{parent['job_id']}/continue", files=files)
    assert created.status_code == 201, created.text
    page.goto("/")
    row = page.locator("#jobs-table tbody tr", has_text=created.json()["job_id"])
    expect(row.locator("td.parent")).to_contain_text(f"continues {parent['job_id']}")
