"""Screening in the browser: the job page's PRISMA flow (diagram with its text
alternative, counts in a table), an operator's include / exclude choices posted as a
screening revision, the form paged and filtered with the choices kept across pages, no
screening form for a viewer, and an in-run screening prompt answered in the dialog with
the paper shown."""

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, Request, Route, expect

from litgap.pipeline import render_outputs
from litgap.pipeline.prisma import Exclusion, build_flow
from tests.browser.browser_support import Answer, Server, drive_job, wait_for_prompt
from tests.unit.pipeline.sample_report import sample_report
from tests.unit.pipeline.test_html_report import CONTEXT, PAYLOAD

PAPER = "sample-03-sand-filters.txt"
MANY = 60  # papers: more than one page of the form (50 rows)
TOPICS = (
    "first flush diverters", "roof catchment yield", "slow sand filters", "tank sizing",
    "ultraviolet disinfection", "turbidity sensors", "household surveys", "gutter guards",
    "storage tank sediment", "overflow routing",
)  # fmt: skip


@pytest.fixture(scope="module")
def done(run_job: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """A completed sample job (all pillars, one pass)."""
    job = run_job([Answer("pillar_selection", ["ALL"]), Answer("run_mode", "ONCE")])
    assert job["status"] == "completed", job.get("error")
    return job


def _range(first: int, last: int, found: int, of: int | None = None) -> str:
    """The pager's range text: "Papers 1\N{EN DASH}50 of 60 (of 80 in the job)"."""
    shown = f"Papers {first}\N{EN DASH}{last} of {found}"
    return shown if of is None else f"{shown} (of {of} in the job)"


def _paper(number: int) -> str:
    return f"paper-{number:02d}.txt"


def _title(number: int) -> str:
    return f"Rainwater study {number:02d} on {TOPICS[number % len(TOPICS)]}"


def _text(number: int) -> bytes:
    topic = TOPICS[number % len(TOPICS)]
    body = (
        f"Abstract\nWe studied {topic} at site {number} over {number + 2} seasons of rain. "
        f"Roof catchment yield, tank storage and water quality were measured at {number * 3} "
        "houses; the rainfall depth, roof area and runoff coefficient explain the yield. "
    )
    return f"{_title(number)}\n\n{body * 4}".encode()


@pytest.fixture(scope="module")
def many(server: Server) -> dict[str, Any]:
    """A completed job of more papers than one page of the form shows (no prompts)."""
    files = [("files", (_paper(n), _text(n), "text/plain")) for n in range(1, MANY + 1)]
    config = {"pillar_selections": "ALL", "run_mode": "ONCE"}
    with server.client() as client:
        created = client.post("/api/jobs", files=files, data={"config": json.dumps(config)})
        assert created.status_code == 201, created.text
        job_id = created.json()["job_id"]
        assert client.post(f"/api/jobs/{job_id}/start").status_code == 202
    job = drive_job(server, job_id, [])
    assert job["status"] == "completed", job.get("error")
    assert job["results"]["papers"] == MANY, job["results"]
    return job


def _screening_form(page: Page, job_id: str) -> Locator:
    page.goto(f"/jobs/{job_id}")
    form = page.locator("#screening-form")
    expect(form).to_be_visible()
    return form


def _rows(form: Locator) -> Locator:
    return form.locator("#screening-table tbody tr")


def _exclude(form: Locator, paper: str, reason: str, note: str) -> None:
    form.get_by_label(f"Choice for {paper}").select_option("exclude")
    form.get_by_label(f"Reason for {paper}").select_option(reason)
    form.get_by_label(f"Note for {paper}").fill(note)


def _screening_records(api: httpx.Client, server: Server, revision: str) -> dict[str, Any]:
    """The revision's screening records by paper, once it has run."""
    assert drive_job(server, revision, [])["status"] == "completed"
    prompts = api.get(f"/api/jobs/{revision}").json()["prompts"]
    return {p["prompt_data"]["paper"]: p for p in prompts if p["type"] == "screening"}


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


def test_the_screening_form_shows_one_page_of_papers_at_a_time(
    page: Page, many: dict[str, Any]
) -> None:
    form = _screening_form(page, many["job_id"])
    previous = form.get_by_role("button", name="Previous")
    following = form.get_by_role("button", name="Next")
    expect(form.locator("#screening-range")).to_have_text(_range(1, 50, MANY))
    expect(_rows(form)).to_have_count(50)
    expect(_rows(form).first).to_have_attribute("data-paper", _paper(1))
    expect(previous).to_be_disabled()

    following.click()
    expect(form.locator("#screening-range")).to_have_text(_range(51, MANY, MANY))
    expect(_rows(form)).to_have_count(MANY - 50)
    expect(_rows(form).first).to_have_attribute("data-paper", _paper(51))
    expect(following).to_be_disabled()

    previous.click()
    expect(form.locator("#screening-range")).to_have_text(_range(1, 50, MANY))
    expect(_rows(form).first).to_have_attribute("data-paper", _paper(1))


def test_the_filter_finds_papers_by_title_or_file_name_and_the_range_says_so(
    page: Page, many: dict[str, Any]
) -> None:
    form = _screening_form(page, many["job_id"])
    search = form.get_by_label("Find papers")
    search.fill("TANK SIZING")
    expected = [_paper(n) for n in range(1, MANY + 1) if TOPICS[n % len(TOPICS)] == "tank sizing"]
    expect(_rows(form)).to_have_count(len(expected))
    assert [r.get_attribute("data-paper") for r in _rows(form).all()] == expected
    expect(form.locator("#screening-range")).to_have_text(
        _range(1, len(expected), len(expected), MANY)
    )

    search.fill(_paper(42))
    expect(_rows(form)).to_have_count(1)
    expect(_rows(form).first.locator("strong")).to_have_text(_title(42))
    expect(form.locator("#screening-range")).to_have_text(_range(1, 1, 1, MANY))

    search.fill("no such paper")
    expect(_rows(form)).to_have_count(0)
    expect(form.locator("#screening-range")).to_have_text("No paper matches.")
    expect(form.get_by_role("button", name="Next")).to_be_disabled()


def test_a_choice_made_on_one_page_is_kept_after_paging_and_filtering_away(
    page: Page, many: dict[str, Any]
) -> None:
    form = _screening_form(page, many["job_id"])
    _exclude(form, _paper(3), "wrong study type", "a design note")
    expect(form.locator("#screening-count")).to_have_text("1 paper chosen")

    form.get_by_role("button", name="Next").click()
    expect(_rows(form).first).to_have_attribute("data-paper", _paper(51))
    form.get_by_label("Find papers").fill(_paper(57))
    expect(_rows(form)).to_have_count(1)
    form.get_by_label("Find papers").fill("")
    expect(form.locator("#screening-range")).to_have_text(_range(1, 50, MANY))

    expect(form.get_by_label(f"Choice for {_paper(3)}")).to_have_value("exclude")
    expect(form.get_by_label(f"Reason for {_paper(3)}")).to_have_value("wrong study type")
    expect(form.get_by_label(f"Reason for {_paper(3)}")).to_be_enabled()
    expect(form.get_by_label(f"Note for {_paper(3)}")).to_have_value("a design note")
    expect(form.get_by_label(f"Choice for {_paper(4)}")).to_have_value("")
    expect(form.locator("#screening-count")).to_have_text("1 paper chosen")


def test_only_papers_with_a_choice_shows_the_chosen_papers_of_every_page(
    page: Page, many: dict[str, Any]
) -> None:
    form = _screening_form(page, many["job_id"])
    form.get_by_label(f"Choice for {_paper(7)}").select_option("include")
    form.get_by_role("button", name="Next").click()
    _exclude(form, _paper(55), "off topic", "")
    expect(form.locator("#screening-count")).to_have_text("2 papers chosen")

    form.get_by_label("Only papers with a choice").check()
    expect(_rows(form)).to_have_count(2)
    assert [r.get_attribute("data-paper") for r in _rows(form).all()] == [_paper(7), _paper(55)]
    expect(form.locator("#screening-range")).to_have_text(_range(1, 2, 2, MANY))

    form.get_by_label("Only papers with a choice").uncheck()
    expect(_rows(form)).to_have_count(50)


def test_enter_in_the_filter_does_not_submit_the_choices(page: Page, many: dict[str, Any]) -> None:
    posted: list[str] = []

    def note_post(request: Request) -> None:
        if request.method == "POST":
            posted.append(request.url)

    page.on("request", note_post)
    form = _screening_form(page, many["job_id"])
    form.get_by_label(f"Choice for {_paper(2)}").select_option("include")
    form.get_by_label("Find papers").fill(_paper(2))
    form.get_by_label("Find papers").press("Enter")
    expect(_rows(form)).to_have_count(1)
    expect(form.locator("#screening-submit")).to_be_enabled()
    expect(form.locator("#screening-error")).to_have_text("")
    assert posted == []
    assert page.url.endswith(f"/jobs/{many['job_id']}")


def test_submitting_posts_the_choices_made_on_every_page(
    page: Page, api: httpx.Client, server: Server, many: dict[str, Any]
) -> None:
    form = _screening_form(page, many["job_id"])
    _exclude(form, _paper(5), "off topic", "about roofs in general")
    form.get_by_role("button", name="Next").click()
    form.get_by_label(f"Choice for {_paper(58)}").select_option("include")
    form.get_by_label("Find papers").fill(_paper(12))  # neither choice is on show
    expect(_rows(form)).to_have_count(1)
    with page.expect_response(re.compile(r"/api/jobs/.+/screening$")) as answer:
        form.get_by_role("button", name="Make a revision with these choices").click()
    assert answer.value.status == 201
    # The page moves on to the revision (the response's body is gone with the navigation).
    original = many["job_id"]
    page.wait_for_url(
        lambda url: bool(re.search(r"/jobs/job_[a-z0-9]+$", url)) and not url.endswith(original)
    )
    revision = page.url.rsplit("/", 1)[1]

    records = _screening_records(api, server, revision)
    chosen = {
        paper: (records[paper]["applied"], records[paper]["answered_by"], records[paper]["note"])
        for paper in (_paper(5), _paper(58))
    }
    assert chosen == {
        _paper(5): ("exclude: off topic", "alice", "about roofs in general"),
        _paper(58): ("include", "alice", None),
    }
    assert set(records) == {_paper(5), _paper(58)}  # nothing else was posted


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
