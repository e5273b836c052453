"""What users and files say is shown as text: a hostile file name and a hostile note
run nothing and appear literally."""

from playwright.sync_api import Page, expect

from tests.browser.browser_support import PageProblems, Server

FILE_NAME = "<img src=x onerror=alert('file')>.txt"
NOTE = "</script><script>alert('note')</script><b>bold?</b>"
PAPER = (
    b"Rainwater harvesting roofs collect runoff; first flush diverters and sand filters "
    b"improve water quality; community governance sets tariffs and maintenance duties.\n"
)


def test_hostile_file_name_and_note_are_shown_as_text(
    page: Page, problems: PageProblems, server: Server
) -> None:
    page.goto("/")
    page.get_by_label("Papers (PDF, TXT").set_input_files(
        files=[{"name": FILE_NAME, "mimeType": "text/plain", "buffer": PAPER}]
    )
    expect(page.locator("#file-list")).to_have_text(FILE_NAME)
    page.get_by_label("Run mode").select_option("ONCE")
    page.get_by_role("button", name="Create job").click()

    dialog = page.get_by_role("dialog", name="Decision needed")
    job_id = dialog.locator("#prompt-job").inner_text()
    dialog.get_by_role("checkbox", name="ALL", exact=True).check()
    dialog.get_by_label("Note (optional)").fill(NOTE)
    dialog.get_by_role("button", name="Submit answer").click()
    expect(dialog).to_be_hidden()

    page.goto(f"/jobs/{job_id}")
    expect(page.locator("#inputs-table")).to_contain_text(FILE_NAME)
    expect(page.locator("tbody.decision").first).to_contain_text(f"Note: {NOTE}")
    expect(page.locator("img[src='x']")).to_have_count(0)
    expect(page.locator("main script")).to_have_count(0)
    expect(page.locator("main b", has_text="bold?")).to_have_count(0)
    assert problems.dialogs == []
