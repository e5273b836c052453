"""Revoking and rotating tokens, and the guards on sign-in (Origin, rate limit)."""

import os
import subprocess
import sys

import pytest
from starlette.websockets import WebSocketDisconnect

from litgap.services.auth import revoke_user, rotate_token
from tests.integration.conftest import Api


def cli(api: Api, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "litgap", *args, "--workspace", str(api.settings.workspace)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    )


def sign_in(api: Api, token: str) -> None:
    response = api.client.post("/login", data={"token": token}, follow_redirects=False)
    assert response.status_code == 303


def test_a_token_revoked_by_another_process_is_refused_at_once(api: Api) -> None:
    assert api.get("/api/me").status_code == 200  # now cached in the server
    result = cli(api, "users", "revoke", "operator")
    assert result.returncode == 0, result.stderr
    assert api.get("/api/me").status_code == 401


def test_rotate_prints_a_new_token_last_and_the_old_one_stops_working(api: Api) -> None:
    old = api.headers()
    assert api.client.get("/api/me", headers=old).status_code == 200
    result = cli(api, "users", "rotate", "operator")
    assert result.returncode == 0, result.stderr
    new = result.stdout.strip().splitlines()[-1]
    assert new.startswith("lg_") and new != api.tokens["operator"]
    assert api.client.get("/api/me", headers=old).status_code == 401
    me = api.client.get("/api/me", headers={"Authorization": f"Bearer {new}"})
    assert me.status_code == 200 and me.json()["name"] == "operator"


def test_revoking_an_unknown_user_is_a_clear_error(api: Api) -> None:
    result = cli(api, "users", "revoke", "nobody")
    assert result.returncode == 1
    assert "no user 'nobody'" in result.stderr


def test_revoking_ends_the_users_browser_sessions(api: Api) -> None:
    sign_in(api, api.tokens["operator"])
    assert api.client.get("/api/me").status_code == 200
    revoke_user(api.app.state.runtime.engine, "operator")
    assert api.client.get("/api/me", headers={"Accept": "application/json"}).status_code == 401


def test_an_open_websocket_of_a_revoked_token_is_closed_as_a_policy_violation(api: Api) -> None:
    with api.events() as ws:
        assert ws.receive_json()["type"] == "snapshot"
        rotate_token(api.app.state.runtime.engine, "operator")
        with pytest.raises(WebSocketDisconnect) as closed:
            while True:
                ws.receive_json()
    assert closed.value.code == 1008


def test_sign_in_from_a_foreign_origin_is_403(api: Api) -> None:
    response = api.client.post(
        "/login",
        data={"token": api.tokens["operator"]},
        headers={"Origin": "http://evil.example"},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert "litgap_session" not in response.cookies


def test_sign_in_from_a_foreign_referer_is_403(api: Api) -> None:
    response = api.client.post(
        "/login",
        data={"token": api.tokens["operator"]},
        headers={"Referer": "http://evil.example/page"},
        follow_redirects=False,
    )
    assert response.status_code == 403


def test_sign_in_from_this_origin_is_accepted(api: Api) -> None:
    response = api.client.post(
        "/login",
        data={"token": api.tokens["operator"]},
        headers={"Origin": "http://testserver"},
        follow_redirects=False,
    )
    assert response.status_code == 303


def test_ten_failed_sign_ins_make_the_address_wait_even_with_a_right_token(api: Api) -> None:
    for _ in range(10):
        wrong = api.client.post("/login", data={"token": "lg_wrong"}, follow_redirects=False)
        assert wrong.status_code == 401
    refused = api.client.post(
        "/login", data={"token": api.tokens["operator"]}, follow_redirects=False
    )
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "too many failed sign-ins" in refused.json()["detail"]
