"""The model reviewer in the browser: its verdicts in the Evidence panel beside people's,
marked as the model's with its reason; its figures in the evidence section; User
Decisions filtered by source; and the agreement page comparing the model with a
reviewer, confusion table included, each conflict one click from its Evidence panel.

A `litgap serve` of its own, pointed at the fixture chat-completions server."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from litgap.runtime import open_runtime
from litgap.services.auth import Role, create_user
from litgap.settings import Settings
from tests.browser.browser_support import PageProblems, Server, drive_job
from tests.browser.conftest import TIMEOUT_MS
from tests.live import LiveServer
from tests.llm_server import chat_server

KEY = "sk-browser-SECRET-1"
CONFIG = {"pillar_selections": "ALL", "run_mode": "ONCE", "llm_review": {"top": 2}}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("model-review")
    workspace = root / "ws"
    rt = open_runtime(Settings(workspace=workspace))
    try:
        token = create_user(rt.engine, "alice", Role.OPERATOR)[1]
    finally:
        rt.close()
    with chat_server(api_key=KEY) as chat:
        env = {
            "LITGAP_LLM_BASE_URL": chat.url,
            "LITGAP_LLM_MODEL": "fixture-model",
            "LITGAP_LLM_API_KEY": KEY,
        }
        live = LiveServer(Path(workspace), token, env=env).start()
        try:
            yield Server(live.url, live.port, workspace, {"alice": token}, live.process)
        finally:
            live.stop()


@pytest.fixture(scope="module")
def judged(site: Server) -> dict[str, Any]:
    """A completed job judged by the model, and a revision by alice that rejects one
    passage the model said supports its sub-requirement and accepts another."""
    with site.client() as client:
        made = client.post("/api/jobs", json={"sample": True, "config": CONFIG})
        job_id = made.json()["job_id"]
        client.post(f"/api/jobs/{job_id}/start")
    job = drive_job(site, job_id, [])
    assert job["status"] == "completed", job["error"]
    records = [p for p in job["prompts"] if "llm" in p["prompt_data"]]
    supports = [r for r in records if r["prompt_data"]["llm"]["label"] == "supports"]
    assert len(supports) >= 2
    conflict, agreed = supports[0], supports[1]
    verdicts = [
        {
            "evidence_id": r["prompt_data"]["options"][0],
            "verdict": verdict,
            "sub_requirement": r["prompt_data"]["sub_requirement"],
        }
        for r, verdict in ((conflict, "reject"), (agreed, "accept"))
    ]
    with site.client() as client:
        revision = client.post(f"/api/jobs/{job_id}/revisions", json={"verdicts": verdicts})
        assert revision.status_code == 201, revision.text
    assert drive_job(site, revision.json()["job_id"], [])["status"] == "completed"
    return {"job": job, "conflict": conflict, "records": records}


@pytest.fixture
def tab(browser: Browser, site: Server, problems: PageProblems) -> Iterator[Page]:
    context = browser.new_context(base_url=site.url)
    context.set_default_timeout(TIMEOUT_MS)
    assert context.request.post("/login", form={"token": site.tokens["alice"]}).ok
    page = context.new_page()
    problems.watch(page)
    yield page
    context.close()
    assert not problems.errors, problems.errors


def test_the_evidence_panel_shows_the_models_verdict_with_its_reason(
    tab: Page, judged: dict[str, Any]
) -> None:
    job_id = judged["job"]["job_id"]
    sub = judged["conflict"]["prompt_data"]["sub_requirement"]
    tab.goto(f"/jobs/{job_id}#evidence={sub}")
    expect(tab.locator("#model-review-summary")).to_contain_text(
        f"Model review by fixture-model-q4: {len(judged['records'])} of "
    )
    expect(tab.locator("#model-review-summary")).to_contain_text("recorded only")
    expect(tab.locator("#evidence-panel-title")).to_have_text(f"Evidence for {sub}")
    eid = judged["conflict"]["prompt_data"]["options"][0]
    verdict = tab.locator(f"#evidence-passages li[data-evidence-id='{eid}'] .model-verdict")
    expect(verdict).to_contain_text("Model: supports")
    expect(verdict).to_contain_text("llm:fixture-model-q4")
    expect(verdict).to_contain_text("fixture says supports")


def test_user_decisions_filter_by_source(tab: Page, judged: dict[str, Any]) -> None:
    tab.goto(f"/jobs/{judged['job']['job_id']}")
    total = len(judged["job"]["prompts"])
    expect(tab.locator("#decision-count")).to_have_text(f"{total} decisions")
    tab.select_option("#decision-source", "user")
    expect(tab.locator("#decision-none")).to_be_visible()
    tab.select_option("#decision-source", "llm")
    expect(tab.locator("#decision-count")).to_have_text(f"{len(judged['records'])} decisions")
    first = tab.locator("#decision-table tbody.decision").first
    expect(first.locator(".badge", has_text="Model")).to_be_visible()
    expect(first).to_contain_text("Model: ")


def test_agreement_compares_the_model_with_a_reviewer_and_links_each_conflict(
    tab: Page, judged: dict[str, Any]
) -> None:
    job_id = judged["job"]["job_id"]
    tab.goto(f"/jobs/{job_id}/agreement")
    reviewers = tab.locator("#agreement-reviewers")
    expect(reviewers).to_contain_text("llm:fixture-model-q4")
    expect(reviewers).to_contain_text("alice")
    card = tab.locator(".agreement-pair")
    expect(card).to_have_count(1)
    expect(card.get_by_role("heading", name="Confusion table")).to_be_visible()
    sub = judged["conflict"]["prompt_data"]["sub_requirement"]
    conflict = card.locator("tr", has_text=sub).filter(has=tab.get_by_role("link"))
    expect(conflict.first).to_contain_text("reject")
    conflict.first.get_by_role("link", name="Open evidence").click()
    expect(tab).to_have_url(f"{tab.url.split('/jobs/')[0]}/jobs/{job_id}#evidence={sub}")
    expect(tab.locator("#evidence-panel-title")).to_have_text(f"Evidence for {sub}")
