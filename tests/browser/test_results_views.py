"""Results people look at: report.html read offline in Chromium (nothing loaded,
nothing run), and the job page's charts and copy buttons."""

from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, Route, expect

from litgap.pipeline import render_outputs
from tests.unit.pipeline.sample_report import sample_report
from tests.unit.pipeline.test_html_report import CONTEXT, PAYLOAD

SECTIONS = [
    "Executive summary",
    "Charts",
    "Pillars, requirements and sub-requirements",
    "Gaps and suggested searches",
    "Evidence per sub-requirement",
    "User Decisions",
    "Lineage",
]


def _open_offline(browser: Browser, path: Path) -> tuple[Page, list[str]]:
    context = browser.new_context()
    requested: list[str] = []

    def block(route: Route) -> None:
        requested.append(route.request.url)
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            route.abort()

    context.route("**/*", block)
    page = context.new_page()
    page.goto(path.as_uri())
    return page, requested


def test_report_html_offline_loads_nothing_from_outside_and_shows_every_section(
    browser: Browser, tmp_path: Path
) -> None:
    path = tmp_path / "report.html"
    path.write_bytes(render_outputs(sample_report(), CONTEXT)["report.html"])
    page, requested = _open_offline(browser, path)
    for name in SECTIONS:
        expect(page.get_by_role("region", name=name)).to_be_visible()
    expect(page.locator("figure.chart svg")).to_have_count(5)
    expect(page.get_by_role("img", name="Pillars: completeness on a radar")).to_be_visible()
    assert requested == [path.as_uri()]
    page.context.close()


def test_hostile_titles_pillar_names_and_notes_stay_inert_in_report_html(
    browser: Browser, tmp_path: Path
) -> None:
    report = sample_report()
    old = report["pillars"][0]["name"]
    hostile = f"Pillar 1: {PAYLOAD}"
    report["pillars"][0]["name"] = hostile
    report["summary"]["pillars"] = {
        (hostile if k == old else k): v for k, v in report["summary"]["pillars"].items()
    }
    for key in ("strongest_pillar", "weakest_pillar"):
        if report["summary"][key] == old:
            report["summary"][key] = hostile
    for paper in report["corpus"]["papers"]:
        paper["title"] = PAYLOAD
    path = tmp_path / "report.html"
    path.write_bytes(render_outputs(report, CONTEXT)["report.html"])
    page, requested = _open_offline(browser, path)
    expect(
        page.get_by_role("region", name="Pillars, requirements and sub-requirements")
    ).to_contain_text(hostile)
    expect(page.get_by_role("region", name="User Decisions")).to_contain_text(PAYLOAD)
    assert page.evaluate("window.__pwned === undefined")
    assert requested == [path.as_uri()]  # the <img src=x> stayed text: nothing fetched
    page.context.close()


def test_the_job_page_shows_the_charts_with_alt_texts_and_copy_buttons(
    page: Page, answered_job: dict[str, Any]
) -> None:
    page.goto(f"/jobs/{answered_job['job_id']}")
    views = page.get_by_role("region", name="Charts and suggested searches")
    charts = views.locator("figure.chart img")
    expect(charts).to_have_count(4)  # completeness.svg is in the Results card
    radar = views.get_by_role("img", name="Radar chart of completeness per pillar", exact=False)
    expect(radar).to_be_visible()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=radar.element_handle()
    )
    gaps = answered_job["results"]["gap_count"]
    expect(views.get_by_role("button", name="Copy")).to_have_count(4 * gaps)
    first = answered_job["results"]["top_gaps"][0]["id"]
    expect(views.get_by_role("button", name=f"Copy Boolean search for {first}")).to_be_visible()
