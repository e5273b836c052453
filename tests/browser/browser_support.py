"""What the browser tests share besides fixtures: the live server's handle and
helpers that arrange jobs through the API and the event socket."""

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page
from websockets.sync.client import connect

ACTIVE = {"draft", "queued", "running", "waiting_input"}
TERMINAL = {"completed", "failed", "cancelled", "interrupted"}
LEGACY_JOB = "job_legacy01"
NO_HISTORY = "No prompt history available (job created before this feature or no prompts required)"


@dataclass
class Server:
    url: str
    port: int
    workspace: Path
    tokens: dict[str, str]
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def client(self, user: str = "alice") -> httpx.Client:
        return httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {self.tokens[user]}"},
            timeout=30,
        )


class PageProblems:
    """What a page did that no test should tolerate: uncaught errors, CSP refusals,
    and (for the escaping tests) any alert/confirm/prompt dialog."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.dialogs: list[str] = []

    def watch(self, page: Page) -> None:
        page.on("pageerror", lambda err: self.errors.append(f"pageerror: {err}"))
        page.on("console", self._console)
        page.on("dialog", self._dialog)

    def _console(self, message: Any) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            self.errors.append(f"CSP: {message.text}")

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()


# -- arranging jobs through the API ----------------------------------------------------


def create_sample_job(
    api: httpx.Client, config: dict[str, Any] | None = None, start: bool = True
) -> str:
    body: dict[str, Any] = {"sample": True}
    if config:
        body["config"] = config
    created = api.post("/api/jobs", json=body)
    assert created.status_code == 201, created.text
    job_id: str = created.json()["job_id"]
    if start:
        started = api.post(f"/api/jobs/{job_id}/start")
        assert started.status_code == 202, started.text
    return job_id


@dataclass
class Answer:
    """What to answer to the next prompt of a type; None lets it time out."""

    type: str
    response: Any
    note: str | None = None


def drive_job(server: Server, job_id: str, answers: list[Answer]) -> dict[str, Any]:
    """Answer a job's prompts in order as they are asked (over the event socket, no
    polling) and return the job once it has ended."""
    queue = list(answers)
    seen: set[str] = set()
    headers = {"Authorization": f"Bearer {server.tokens['alice']}"}
    with (
        server.client() as client,
        connect(f"ws://127.0.0.1:{server.port}/ws", additional_headers=headers) as ws,
    ):

        def respond(prompt: dict[str, Any]) -> None:
            if prompt["prompt_id"] in seen:
                return
            seen.add(prompt["prompt_id"])
            assert queue, f"unexpected prompt {prompt['type']} for {job_id}"
            answer = queue.pop(0)
            assert prompt["type"] == answer.type, (prompt["type"], answer.type)
            if answer.response is None:
                return  # let it time out
            body = {"response": answer.response, "note": answer.note}
            reply = client.post(f"/api/prompts/{prompt['prompt_id']}/respond", json=body)
            assert reply.status_code == 200, reply.text

        while True:
            event = json.loads(ws.recv(timeout=60))
            data = event["data"]
            if event["type"] == "snapshot":
                for prompt in data["pending_prompts"]:
                    if prompt["job_id"] == job_id:
                        respond(prompt)
                for job in data["jobs"]:
                    if job["job_id"] == job_id and job["status"] in TERMINAL:
                        break
                else:
                    continue
                break
            if data.get("job_id") != job_id:
                continue
            if event["type"] == "prompt_request":
                respond(data)
            elif event["type"] == "job_update" and data.get("status") in TERMINAL:
                break
        job: dict[str, Any] = client.get(f"/api/jobs/{job_id}").json()
    assert not queue, f"prompts never asked: {queue}"
    return job


def wait_for_prompt(server: Server, job_id: str) -> dict[str, Any]:
    """The job's first pending prompt, heard on the event socket (no polling)."""
    headers = {"Authorization": f"Bearer {server.tokens['alice']}"}
    with connect(f"ws://127.0.0.1:{server.port}/ws", additional_headers=headers) as ws:
        while True:
            event = json.loads(ws.recv(timeout=30))
            data = event["data"]
            if event["type"] == "snapshot":
                for prompt in data["pending_prompts"]:
                    if prompt["job_id"] == job_id:
                        return prompt  # type: ignore[no-any-return]
            elif event["type"] == "prompt_request" and data["job_id"] == job_id:
                return data  # type: ignore[no-any-return]
