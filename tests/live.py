"""A real `litgap serve` in a child process, for tests that need a whole server (and
sometimes need to kill it)."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from websockets.sync.client import connect


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    def __init__(self, workspace: Path, token: str, env: dict[str, str] | None = None) -> None:
        self.workspace = workspace
        self.token = token
        self.port = free_port()
        self.env = {**os.environ, "LITGAP_PROMPT_POLL_SECONDS": "0.2", **(env or {})}
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "LiveServer":
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "litgap",
                "serve",
                "--workspace",
                str(self.workspace),
                "--port",
                str(self.port),
            ],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    self.process.stderr.read().decode() if self.process.stderr else ""
                )
            try:
                if self.client().get("/api/me").status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.05)  # the server is still binding its port
        raise TimeoutError("litgap serve did not start in 30 s")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {self.token}"}, timeout=30
        )

    def events(self) -> Any:
        return connect(
            f"ws://127.0.0.1:{self.port}/ws",
            additional_headers={"Authorization": f"Bearer {self.token}"},
        )

    @staticmethod
    def next_event(ws: Any, kind: str, job_id: str, **match: object) -> dict[str, Any]:
        while True:
            event = json.loads(ws.recv(timeout=60))
            if event["type"] == "snapshot" and kind == "prompt_request":
                for pending in event["data"]["pending_prompts"]:
                    if pending["job_id"] == job_id:
                        return pending  # type: ignore[no-any-return]
            data = event["data"]
            if (
                event["type"] == kind
                and data.get("job_id") == job_id
                and all(data.get(k) == v for k, v in match.items())
            ):
                return data  # type: ignore[no-any-return]
