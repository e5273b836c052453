"""The event socket: a dropped connection is retried, and the snapshot it gets back
brings what happened while the page was not listening."""

import httpx
from playwright.sync_api import Page, WebSocketRoute, expect

from tests.browser.browser_support import Server, create_sample_job, wait_for_prompt


def test_dropped_socket_reconnects_and_brings_back_a_prompt_asked_meanwhile(
    page: Page, api: httpx.Client, server: Server
) -> None:
    sockets: list[WebSocketRoute] = []
    asked: list[str] = []

    def route(ws: WebSocketRoute) -> None:
        sockets.append(ws)
        if len(sockets) == 2:
            # The page is retrying: a job asks before the page gets its snapshot.
            asked.append(create_sample_job(api))
            wait_for_prompt(server, asked[0])
        ws.connect_to_server()

    page.route_web_socket("**/ws", route)
    page.goto("/")
    live = page.locator("#live-status")
    expect(live).to_have_text("Live")

    sockets[0].close()

    expect(live).to_have_text("Reconnecting…")
    expect(live).to_have_text("Live")
    dialog = page.get_by_role("dialog", name="Decision needed")
    expect(dialog.locator("#prompt-job")).to_have_text(asked[0])
