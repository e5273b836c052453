"""A running job shows where it is: its stage and ETA in the job list and on its page,
updated by the socket's job_update events."""

import json

import httpx
from playwright.sync_api import Page, Route, WebSocketRoute, expect

from tests.browser.browser_support import create_sample_job

STAGE = {"status": "running", "progress": 20.0, "stage": "iteration 1", "eta_seconds": 130}


def relay_with(page: Page) -> list[WebSocketRoute]:
    """The real socket, through a route that can add events of its own."""
    sockets: list[WebSocketRoute] = []

    def route(ws: WebSocketRoute) -> None:
        sockets.append(ws)
        ws.connect_to_server()

    page.route_web_socket("**/ws", route)
    return sockets


def send_update(sockets: list[WebSocketRoute], job_id: str) -> None:
    sockets[-1].send(json.dumps({"type": "job_update", "data": {"job_id": job_id, **STAGE}}))


def test_the_job_list_shows_a_running_jobs_stage_and_eta(page: Page, api: httpx.Client) -> None:
    job_id = create_sample_job(api, start=False)
    sockets = relay_with(page)
    page.goto("/")
    expect(page.locator("#live-status")).to_have_text("Live")
    send_update(sockets, job_id)
    row = page.locator(f'#jobs-table tr[data-job-id="{job_id}"]')
    expect(row.locator(".progress-text")).to_have_text("20 % · iteration 1 · about 2 min left")


def test_the_job_page_shows_the_stage_and_eta(page: Page, api: httpx.Client) -> None:
    job_id = create_sample_job(api, start=False)
    sockets = relay_with(page)

    # A status change makes the page read the job again: the server's answer must agree
    # with the event this test sends, or the page rightly shows the job as not started.
    def running(route: Route) -> None:
        response = route.fetch()
        route.fulfill(response=response, json={**response.json(), **STAGE})

    page.route(f"**/api/jobs/{job_id}", running)
    page.goto(f"/jobs/{job_id}")
    expect(page.locator("#live-status")).to_have_text("Live")
    send_update(sockets, job_id)
    expect(page.locator("#job-state .progress-text")).to_have_text(
        "20 % · iteration 1 · about 2 min left"
    )
    # A read still being routed must finish here, not fail inside the next test's setup.
    page.unroute_all(behavior="wait")
