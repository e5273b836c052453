"""The decision dialog: it survives a reload, gives way to an answer from elsewhere,
queues several prompts without losing one, shows the server's refusal, and offers no
controls to a viewer."""

import httpx
from playwright.sync_api import Locator, Page, expect

from tests.browser.browser_support import create_sample_job


def _dialog(page: Page) -> Locator:
    return page.get_by_role("dialog", name="Decision needed")


def _pending(api: httpx.Client, job_id: str) -> dict[str, object]:
    prompts = api.get("/api/prompts", params={"job_id": job_id}).json()["prompts"]
    assert len(prompts) == 1, prompts
    return prompts[0]  # type: ignore[no-any-return]


def test_pending_prompt_is_shown_again_after_a_reload(page: Page, api: httpx.Client) -> None:
    job_id = create_sample_job(api)
    page.goto("/")
    expect(_dialog(page).locator("#prompt-job")).to_have_text(job_id)

    page.reload()

    dialog = _dialog(page)
    expect(dialog.locator("#prompt-job")).to_have_text(job_id)
    expect(dialog).to_contain_text("Select which pillars to analyze")
    dialog.get_by_role("checkbox", name="NONE", exact=True).check()
    dialog.get_by_role("button", name="Submit answer").click()
    expect(dialog).to_be_hidden()


def test_prompt_answered_elsewhere_disappears(page: Page, api: httpx.Client) -> None:
    job_id = create_sample_job(api)
    page.goto("/")
    expect(_dialog(page).locator("#prompt-job")).to_have_text(job_id)

    prompt = _pending(api, job_id)
    answered = api.post(f"/api/prompts/{prompt['prompt_id']}/respond", json={"response": "NONE"})
    assert answered.status_code == 200, answered.text

    expect(_dialog(page)).to_be_hidden()
    expect(page.locator("#toasts")).to_contain_text(
        f"pillar_selection for {job_id} was answered by alice"
    )


def test_several_pending_prompts_are_queued_and_none_is_lost(page: Page, api: httpx.Client) -> None:
    first = create_sample_job(api)
    page.goto("/")
    dialog = _dialog(page)
    expect(dialog.locator("#prompt-job")).to_have_text(first)
    later = [create_sample_job(api), create_sample_job(api)]
    expect(dialog.locator("#prompt-position")).to_have_text("1 of 3")

    dialog.get_by_role("button", name="Next").click()
    expect(dialog.locator("#prompt-position")).to_have_text("2 of 3")
    expect(dialog.locator("#prompt-job")).to_have_text(later[0])
    dialog.get_by_role("button", name="Previous").click()

    answered = []
    for remaining in (3, 2, 1):
        expect(dialog.locator("#prompt-position")).to_have_text(f"1 of {remaining}")
        answered.append(dialog.locator("#prompt-job").inner_text())
        dialog.get_by_role("checkbox", name="NONE", exact=True).check()
        dialog.get_by_role("button", name="Submit answer").click()
    expect(dialog).to_be_hidden()
    assert answered == [first, *later]


def test_refused_answer_shows_the_servers_detail_in_the_dialog(
    page: Page, api: httpx.Client
) -> None:
    create_sample_job(api)
    page.goto("/")
    dialog = _dialog(page)
    dialog.get_by_role("button", name="Clear").click()
    dialog.get_by_role("button", name="Submit answer").click()

    expect(dialog.get_by_role("alert")).to_contain_text("choose at least one option")
    expect(dialog).to_be_visible()


def test_viewer_sees_the_prompt_without_answer_controls(
    viewer_page: Page, api: httpx.Client
) -> None:
    job_id = create_sample_job(api)
    viewer_page.goto("/")
    tray = viewer_page.get_by_role("button", name="1 decision waiting")
    tray.click()

    dialog = _dialog(viewer_page)
    expect(dialog.locator("#prompt-job")).to_have_text(job_id)
    expect(dialog).to_contain_text("only operators and admins can answer")
    expect(dialog.get_by_role("checkbox")).to_have_count(0)
    expect(dialog.get_by_role("radio")).to_have_count(0)
    expect(dialog.get_by_role("button", name="Submit answer")).to_be_hidden()
    expect(viewer_page.get_by_role("button", name="Create job")).to_have_count(0)
