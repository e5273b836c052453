"""Who may do what: tokens, API keys, roles, sessions with CSRF, the WebSocket."""

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.websockets import WebSocketDisconnect

from tests.conftest import make_settings
from tests.integration.conftest import Api, make_users
from tests.live import LiveServer

PUBLIC = {"/login", "/static", "/docs-assets"}


def all_routes(routes: list) -> list:  # type: ignore[type-arg]
    """Routes, including those of included routers (FastAPI keeps those nested)."""
    found = []
    for route in routes:
        nested = getattr(route, "original_router", None)
        found.extend(all_routes(nested.routes) if nested is not None else [route])
    return found


def test_every_route_refuses_a_missing_token(api: Api) -> None:
    checked = 0
    for route in all_routes(api.app.routes):
        path = getattr(route, "path", "")
        methods = getattr(route, "methods", None) or set()
        if (
            not path
            or any(path.startswith(p) for p in PUBLIC)
            or "WebSocket" in type(route).__name__
        ):
            continue
        url = path.replace("{job_id}", "job_abcdef").replace("{prompt_id}", "prompt_abcdef")
        url = url.replace("{a}", "job_abcdef").replace("{b}", "job_abcdeg").replace("{name}", "x")
        for method in methods - {"HEAD", "OPTIONS"}:
            response = api.client.request(method, url, headers={"Accept": "application/json"})
            assert response.status_code == 401, (method, url, response.status_code)
            checked += 1
    assert checked >= 10


def test_wrong_token_is_401(api: Api) -> None:
    response = api.client.get("/api/jobs", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert response.json()["detail"] == "invalid token"


def test_x_api_key_header_is_accepted(api: Api) -> None:
    response = api.client.get("/api/jobs", headers={"X-API-Key": api.tokens["viewer"]})
    assert response.status_code == 200


def test_viewer_reads_but_cannot_act(api: Api) -> None:
    assert api.get("/api/jobs", who="viewer").status_code == 200
    created = api.post("/api/jobs", who="viewer", json={"sample": True})
    assert created.status_code == 403
    assert "only operators and admins" in created.json()["detail"]
    answer = api.post("/api/prompts/prompt_abcdef/respond", who="viewer", json={"response": "x"})
    assert answer.status_code == 403


def test_session_cookie_needs_csrf_for_changes(api: Api) -> None:
    client = api.client
    signed_in = client.post(
        "/login", data={"token": api.tokens["operator"]}, follow_redirects=False
    )
    assert signed_in.status_code == 303
    assert "httponly" in signed_in.headers["set-cookie"].lower()
    me = client.get("/api/me").json()
    assert me["name"] == "operator" and me["csrf_token"]
    refused = client.post("/api/jobs", json={"sample": True})
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    accepted = client.post(
        "/api/jobs", json={"sample": True}, headers={"X-CSRF-Token": me["csrf_token"]}
    )
    assert accepted.status_code == 201
    client.cookies.clear()


def test_websocket_refuses_missing_token(api: Api) -> None:
    with pytest.raises(WebSocketDisconnect) as closed, api.client.websocket_connect("/ws") as ws:
        ws.receive_json()
    assert closed.value.code == 4401


def test_websocket_refuses_foreign_origin(api: Api) -> None:
    headers = {**api.headers(), "Origin": "http://evil.example"}
    with (
        pytest.raises(WebSocketDisconnect) as closed,
        api.client.websocket_connect("/ws", headers=headers) as ws,
    ):
        ws.receive_json()
    assert closed.value.code == 4403


def test_websocket_starts_with_a_snapshot(api: Api) -> None:
    with api.events(who="viewer") as ws:
        first = ws.receive_json()
    assert first["type"] == "snapshot"
    assert set(first["data"]) == {"jobs", "pending_prompts"}


def test_openapi_is_served_to_signed_in_users(api: Api) -> None:
    schema = api.get("/openapi.json").json()
    assert "/api/prompts/{prompt_id}/respond" in schema["paths"]
    docs = api.get("/docs")
    assert docs.status_code == 200 and "/docs-assets/swagger-ui-bundle.js" in docs.text


def test_responses_carry_security_headers_and_pages_a_strict_policy(api: Api) -> None:
    listed = api.get("/api/jobs")
    assert listed.headers["x-content-type-options"] == "nosniff"
    assert listed.headers["x-frame-options"] == "DENY"
    page = api.client.get("/login")
    assert "script-src 'self';" in page.headers["content-security-policy"]


# -- authentication before the body, bodies bounded while they stream ---------------

MiB = 1024 * 1024


class Chunks:
    """A request body sent chunked (no Content-Length) that counts what it gave away."""

    def __init__(self, total: int, head: bytes = b"", chunk: int = 64 * 1024) -> None:
        self.total, self.head, self.chunk, self.sent = total, head, chunk, 0

    def __iter__(self) -> Iterator[bytes]:
        if self.head:
            self.sent += len(self.head)
            yield self.head
        while self.sent < self.total:
            self.sent += self.chunk
            yield b"x" * self.chunk


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[LiveServer, dict[str, str]]]:
    settings = make_settings(tmp_path)
    tokens = make_users(settings)
    server = LiveServer(
        settings.workspace, tokens["operator"], env={"LITGAP_MAX_UPLOAD_BYTES": str(3 * MiB)}
    ).start()
    yield server, tokens
    server.stop()


def test_unauthenticated_chunked_body_gets_401_before_the_server_reads_it(
    live: tuple[LiveServer, dict[str, str]],
) -> None:
    server, _tokens = live
    body = Chunks(96 * MiB)
    started = time.monotonic()
    response = httpx.post(
        f"{server.url}/api/prompts/prm_x/respond",
        content=iter(body),
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 401
    assert response.json()["detail"].startswith("authentication required")
    assert body.sent < 16 * MiB  # the rest was never asked for
    assert time.monotonic() - started < 5


def test_wrong_token_with_a_chunked_body_gets_401_unread(
    live: tuple[LiveServer, dict[str, str]],
) -> None:
    server, _tokens = live
    body = Chunks(96 * MiB)
    response = httpx.post(
        f"{server.url}/api/jobs",
        content=iter(body),
        headers={"Authorization": "Bearer lg_wrong", "Content-Type": "multipart/form-data; b=x"},
        timeout=30,
    )
    assert response.status_code == 401
    assert response.json()["detail"] == "invalid token"
    assert body.sent < 16 * MiB


def test_chunked_json_body_past_the_limit_is_413_unread(
    live: tuple[LiveServer, dict[str, str]],
) -> None:
    server, tokens = live
    body = Chunks(96 * MiB)
    response = httpx.post(
        f"{server.url}/api/prompts/prm_x/respond",
        content=iter(body),
        headers={"Authorization": f"Bearer {tokens['operator']}"},
        timeout=30,
    )
    assert response.status_code == 413
    assert response.json()["detail"] == (
        "request body exceeds the limit of 1048576 bytes (LITGAP_MAX_JSON_BYTES); nothing was saved"
    )
    assert body.sent < 16 * MiB


def test_json_body_with_a_length_past_the_limit_is_413(api: Api) -> None:
    response = api.client.post(
        "/api/prompts/prm_x/respond",
        content=b" " * (2 * MiB),
        headers={**api.headers(), "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["detail"] == (
        f"request body of {2 * MiB} bytes exceeds the limit of 1048576 bytes "
        "(LITGAP_MAX_JSON_BYTES); nothing was saved"
    )
