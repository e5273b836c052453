"""Browser tests: a real `litgap serve` on a free port with a tmp workspace, users
created for real, and the system's chromium driven by Playwright.

One server serves the whole session (starting it costs seconds); every test gets a
fresh browser context, and the jobs a test leaves running are cancelled after it, so
no test sees another's prompts.
"""

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright

from litgap.runtime import open_runtime
from litgap.services.auth import Role, create_user
from litgap.settings import Settings
from tests.browser.browser_support import (
    ACTIVE,
    LEGACY_JOB,
    Answer,
    PageProblems,
    Server,
    create_sample_job,
    drive_job,
)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
TIMEOUT_MS = 15_000

expect.set_options(timeout=TIMEOUT_MS)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _write_legacy_job(workspace: Path) -> None:
    """A job document from before prompt history existed: no `prompts` key at all."""
    folder = workspace / "jobs" / LEGACY_JOB
    (folder / "results").mkdir(parents=True)
    document = {
        "job_id": LEGACY_JOB,
        "status": "completed",
        "created_at": "2024-03-01T10:00:00.000000Z",
        "completed_at": "2024-03-01T10:05:00.000000Z",
        "config": {"run_mode": "ONCE"},
        "inputs": [{"role": "corpus", "name": "old-paper.pdf", "size": 1234}],
        "results": {"overall_completeness": 42.0, "pillars": {"Pillar 1: Old": 42.0}},
    }
    (folder / "job_data.json").write_text(json.dumps(document), encoding="utf-8")


def _wait_until_serving(server: Server, log: Path) -> None:
    deadline = time.monotonic() + 60
    assert server.process is not None
    with server.client() as client:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                raise RuntimeError(f"litgap serve exited:\n{log.read_text(errors='replace')}")
            try:
                if client.get("/api/me").status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.05)  # still binding its port: nothing to wait on but time
    raise TimeoutError(f"litgap serve did not start in 60 s:\n{log.read_text(errors='replace')}")


@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("browser")
    workspace = root / "workspace"
    _write_legacy_job(workspace)
    runtime = open_runtime(Settings(workspace=workspace))
    try:
        tokens = {
            "alice": create_user(runtime.engine, "alice", Role.OPERATOR)[1],
            "victor": create_user(runtime.engine, "victor", Role.VIEWER)[1],
        }
    finally:
        runtime.close()
    port = _free_port()
    log = root / "server.log"
    env = {**os.environ, "LITGAP_PROMPT_POLL_SECONDS": "0.2", "PYTHONUNBUFFERED": "1"}
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from litgap.cli import main; main()",
                "serve",
                "--workspace",
                str(workspace),
                "--port",
                str(port),
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    instance = Server(f"http://127.0.0.1:{port}", port, workspace, tokens, process)
    try:
        _wait_until_serving(instance, log)
        yield instance
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@pytest.fixture(scope="package")
def api(server: Server) -> Iterator[httpx.Client]:
    """The operator's API client, for arranging what a test needs."""
    with server.client("alice") as client:
        yield client


@pytest.fixture(scope="package")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as instance:
        yield instance


@pytest.fixture(scope="package")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    chromium = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


@pytest.fixture
def problems() -> PageProblems:
    return PageProblems()


def _signed_in_context(browser: Browser, server: Server, user: str) -> BrowserContext:
    context = browser.new_context(base_url=server.url, accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    response = context.request.post("/login", form={"token": server.tokens[user]})
    assert response.ok, response.text()
    return context


@pytest.fixture
def context(browser: Browser, server: Server) -> Iterator[BrowserContext]:
    ctx = _signed_in_context(browser, server, "alice")
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext, problems: PageProblems) -> Iterator[Page]:
    """A page signed in as the operator alice."""
    tab = context.new_page()
    problems.watch(tab)
    yield tab
    assert not problems.errors, problems.errors


@pytest.fixture
def viewer_page(browser: Browser, server: Server, problems: PageProblems) -> Iterator[Page]:
    ctx = _signed_in_context(browser, server, "victor")
    tab = ctx.new_page()
    problems.watch(tab)
    yield tab
    ctx.close()
    assert not problems.errors, problems.errors


@pytest.fixture
def anonymous_page(browser: Browser, server: Server, problems: PageProblems) -> Iterator[Page]:
    ctx = browser.new_context(base_url=server.url)
    ctx.set_default_timeout(TIMEOUT_MS)
    tab = ctx.new_page()
    problems.watch(tab)
    yield tab
    ctx.close()
    assert not problems.errors, problems.errors


@pytest.fixture(autouse=True)
def _no_job_left_running(api: httpx.Client) -> Iterator[None]:
    """Cancel whatever a test left active, so its prompts do not reach the next test."""
    yield
    for job in api.get("/api/jobs", params={"limit": 500}).json()["jobs"]:
        if job["status"] in ACTIVE:
            api.post(f"/api/jobs/{job['job_id']}/cancel")


@pytest.fixture(scope="package")
def run_job(server: Server) -> Callable[..., dict[str, Any]]:
    def run(answers: list[Answer], config: dict[str, Any] | None = None) -> dict[str, Any]:
        with server.client() as client:
            job_id = create_sample_job(client, config)
        # Prompts asked before the socket opens arrive in its snapshot.
        return drive_job(server, job_id, answers)

    return run


@pytest.fixture(scope="package")
def answered_job(run_job: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """A finished sample job with every kind of record: answered with a note, answered,
    and a continue that timed out so its default was applied."""
    return run_job(
        [
            Answer("pillar_selection", ["ALL"], note="checked by the review board"),
            Answer("run_mode", "DEEP_LOOP"),
            Answer("continue", "yes"),
            Answer("continue", None),
        ],
        config={"prompt_timeouts": {"continue": 1}},
    )
