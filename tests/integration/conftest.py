"""The real app over HTTP (Starlette's TestClient runs the lifespan and the jobs), on a
real SQLite workspace, with real users and tokens."""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from litgap.runtime import open_runtime
from litgap.services.auth import Role, create_user
from litgap.settings import Settings
from litgap.web.app import create_app
from tests.conftest import make_settings


@dataclass
class Api:
    app: FastAPI
    client: TestClient
    tokens: dict[str, str]
    settings: Settings

    def headers(self, who: str = "operator") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def get(self, url: str, who: str = "operator", **kw: Any) -> Any:
        return self.client.get(url, headers=self.headers(who), **kw)

    def post(self, url: str, who: str = "operator", **kw: Any) -> Any:
        return self.client.post(url, headers=self.headers(who), **kw)

    def events(self, who: str = "operator") -> Any:
        return self.client.websocket_connect("/ws", headers=self.headers(who))

    def next_prompt(self, ws: Any, job_id: str) -> dict[str, Any]:
        """Read events until `job_id` asks something; returns the pending prompt."""
        while True:
            event = ws.receive_json()
            if event["type"] == "snapshot":
                for pending in event["data"]["pending_prompts"]:
                    if pending["job_id"] == job_id:
                        return pending  # type: ignore[no-any-return]
            elif event["type"] == "prompt_request" and event["data"]["job_id"] == job_id:
                return event["data"]  # type: ignore[no-any-return]

    def wait_finished(self, ws: Any, job_id: str) -> dict[str, Any]:
        while True:
            event = ws.receive_json()
            data = event["data"]
            if (
                event["type"] == "job_update"
                and data.get("job_id") == job_id
                and data.get("status") in ("completed", "failed", "cancelled", "interrupted")
            ):
                return self.get(f"/api/jobs/{job_id}").json()  # type: ignore[no-any-return]


def make_users(settings: Settings) -> dict[str, str]:
    rt = open_runtime(settings)
    try:
        return {
            role.value: create_user(rt.engine, role.value, role)[1]
            for role in (Role.VIEWER, Role.OPERATOR, Role.ADMIN)
        }
    finally:
        rt.close()


@pytest.fixture
def api_settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def api(api_settings: Settings) -> Iterator[Api]:
    tokens = make_users(api_settings)
    app = create_app(api_settings)
    with TestClient(app) as client:
        yield Api(app, client, tokens, api_settings)
