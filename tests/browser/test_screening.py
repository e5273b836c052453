"""Screening in the browser: the job page's PRISMA flow (diagram with its text
alternative, counts in a table), an operator's include / exclude choices posted as a
screening revision, no screening form for a viewer, and an in-run screening prompt
answered in the dialog with the paper shown."""

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, Route, expect

from litgap.pipeline import render_outputs
from litgap.pipeline.prisma import Exclusion, build_flow
from tests.browser.browser_support import Answer, Server, wait_for_prompt
from tests.unit.pipeline.sample_report import sample_report
from tests.unit.pipeline.test_html_report import CONTEXT, PAYLOAD

PAPER = "sample-03-sand-filters.txt"


@pytest.fixture(scope="module")
def done(run_job: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """A completed sample job (all pillars, one pass)."""
    job = run_job([Answer("pillar_selection", ["ALL"]), Answer("run_mode", "ONCE")])
    assert job["status"] == "completed", job.get("error")
    return job


def test_the_job_page_shows_the_prisma_flow_and_screening_makes_a_revision(
    page: Page, api: httpx.Client, done: dict[str, Any]
) -> None:
    job_id = done["job_id"]
    papers = done["results"]["papers"]
    page.goto(f"/jobs/{job_id}")
    card = page.get_by_role("region", name="Screening and PRISMA flow")
    diagram = card.get_by_role("img", name=re.compile(r"^PRISMA 2020 flow diagram\. All records"))
    expect(diagram).to_be_visible()
    expect(card.locator("tr.prisma-step[data-step='included'] td.num")).to_have_text(str(papers))
    # The SVG itself loads and is drawn.
    page.wait_for_function("() => document.querySelector('#prisma-image').naturalWidth > 0")

    card.get_by_label(f"Choice for {PAPER}").select_option("exclude")
    card.get_by_label(f"Reason for {PAPER}").select_option("wrong study type")
    card.get_by_label(f"Note for {PAPER}").fill("a design note, not a study")
    with page.expect_response(re.compile(r"/api/jobs/.+/screening$")) as posted:
        card.get_by_role("button", name="Make a revision with these choices").click()
    assert posted.value.status == 201
    # The page moves on to the revision (its body is gone with the navigation).
    page.wait_for_url(
        lambda url: bool(re.search(r"/jobs/job_[a-z0-9]+$", url)) and not url.endswith(job_id)
    )
    revision = page.url.rsplit("/", 1)[1]

    expect(page.locator("#screening tr.prisma-step[data-step='excluded'] td.num")).to_have_text(
        "1", timeout=60_000
    )
    expect(page.locator(f"#screening-table tr[data-paper='{PAPER}'] .screening-now")).to_have_text(
        "excluded: wrong study type (full text)"
    )
    # Once the revision has run (the card fills in), its record is the reviewer's.
    record = next(
        p for p in api.get(f"/api/jobs/{revision}").json()["prompts"] if p["type"] == "screening"
    )
    assert (record["applied"], record["source"], record["answered_by"], record["note"]) == (
        "exclude: wrong study type", "user", "alice", "a design note, not a study",
    )  # fmt: skip


def test_a_viewer_sees_the_flow_but_no_screening_form(
    viewer_page: Page, done: dict[str, Any]
) -> None:
    viewer_page.goto(f"/jobs/{done['job_id']}")
    card = viewer_page.get_by_role("region", name="Screening and PRISMA flow")
    expect(card.get_by_role("img", name=re.compile("PRISMA 2020 flow diagram"))).to_be_visible()
    expect(card.locator("#screening-form")).to_be_hidden()


def test_an_in_run_screening_prompt_is_answered_in_the_dialog(
    page: Page, server: Server, api: httpx.Client
) -> None:
    created = api.post(
        "/api/jobs",
        json={"sample": True, "config": {"pillar_selections": "ALL", "screening": "ask"}},
    )
    assert created.status_code == 201, created.text
    job_id = created.json()["job_id"]
    assert api.post(f"/api/jobs/{job_id}/start").status_code == 202
    ask = wait_for_prompt(server, job_id)
    assert ask["type"] == "screening"
    data = ask["prompt_data"]

    page.goto(f"/jobs/{job_id}")
    dialog = page.get_by_role("dialog", name="Decision needed")
    expect(dialog.locator("#prompt-type")).to_have_text("screening")
    expect(dialog.locator(".screening-paper .paper-title")).to_have_text(data["title"])
    expect(dialog.locator(".screening-paper .paper-abstract")).to_contain_text(
        data["abstract"][:40]
    )
    dialog.get_by_label("exclude: off topic").check()
    dialog.locator("#prompt-note").fill("about roofs in general")
    with page.expect_response(re.compile(r"/api/prompts/.+/respond$")) as answered:
        dialog.get_by_role("button", name="Submit answer").click()
    assert answered.value.status == 200, answered.value.text()
    record = next(
        p
        for p in api.get(f"/api/jobs/{job_id}").json()["prompts"]
        if p["prompt_id"] == ask["prompt_id"]
    )
    assert (record["applied"], record["answered_by"], record["note"]) == (
        "exclude: off topic", "alice", "about roofs in general",
    )  # fmt: skip


def test_the_new_job_form_asks_for_screening(page: Page, api: httpx.Client) -> None:
    page.goto("/")
    page.get_by_label("Use the bundled sample").check()
    page.get_by_label("Screen papers first").select_option("ask")
    page.get_by_label("Start right away").uncheck()
    page.get_by_role("button", name="Create job").click()
    expect(page.locator("#create-status")).to_contain_text("job_")
    found = re.search(r"job_[a-z0-9]+", page.locator("#create-status").inner_text())
    assert found is not None
    assert api.get(f"/api/jobs/{found.group()}").json()["config"]["screening"] == "ask"


def test_report_html_shows_the_prisma_flow_offline_with_hostile_names_inert(
    browser: Browser, tmp_path: Path
) -> None:
    report = sample_report()
    papers = [(p["id"], p["title"]) for p in report["corpus"]["papers"]]
    hostile = f"{PAYLOAD}.bib"
    report["prisma"] = build_flow(
        [hostile, *(p for p, _ in papers)],
        [*papers, (f"{hostile} [k]", PAYLOAD)],
        [],
        [Exclusion(f"{hostile} [k]", "off topic")],
    )
    path = tmp_path / "report.html"
    path.write_bytes(render_outputs(report, CONTEXT)["report.html"])
    context = browser.new_context()
    requested: list[str] = []

    def block(route: Route) -> None:
        requested.append(route.request.url)
        (route.continue_ if route.request.url.startswith("file://") else route.abort)()

    context.route("**/*", block)
    page = context.new_page()
    page.goto(path.as_uri())
    section = page.get_by_role("region", name="PRISMA 2020 flow")
    expect(section.get_by_role("img", name="PRISMA 2020 flow diagram")).to_be_visible()
    expect(section).to_contain_text(f"{hostile} [k]: off topic (title/abstract)")
    assert page.evaluate("window.__pwned === undefined")
    assert requested == [path.as_uri()]
    context.close()
