"""Schemathesis against the OpenAPI schema, every operation, authenticated: no 5xx."""

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from litgap.runtime import open_runtime
from litgap.services.auth import Role, create_user
from litgap.settings import Settings
from tests.live import LiveServer


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    workspace = Path(tmp_path_factory.mktemp("fuzz")) / "ws"
    rt = open_runtime(Settings(workspace=workspace))
    token = create_user(rt.engine, "fuzzer", Role.ADMIN)[1]
    rt.close()
    server = LiveServer(workspace, token).start()
    with server.client() as http:
        job_id = http.post("/api/jobs", json={"sample": True}).json()["job_id"]
        http.post(f"/api/jobs/{job_id}/start")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def api_schema(live: LiveServer) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(
        f"{live.url}/openapi.json", headers={"Authorization": f"Bearer {live.token}"}
    )


def test_no_operation_answers_with_a_server_error(
    api_schema: schemathesis.BaseSchema, live: LiveServer
) -> None:
    # Driven by hand rather than through schemathesis' pytest plugin, which does not
    # support this pytest's collection.
    headers = {"Authorization": f"Bearer {live.token}"}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 10
    calls: list[int] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=15, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        def call(case: schemathesis.Case) -> None:
            response = case.call(base_url=live.url, headers=headers)
            calls.append(response.status_code)
            case.validate_response(response, checks=[not_a_server_error])

        call()
    assert len(calls) >= 5 * len(operations)
