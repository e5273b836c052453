"""Jobs written before prompt history existed keep working."""

import json
from pathlib import Path

from fastapi.testclient import TestClient

from litgap.records import NO_HISTORY_MESSAGE
from litgap.web.app import create_app
from tests.conftest import make_settings
from tests.integration.conftest import make_users

LEGACY = {
    "job_id": "job_legacy2024",
    "status": "completed",
    "created_at": "2025-11-10T09:00:00Z",
    "completed_at": "2025-11-10T09:45:00Z",
    "results": {"overall_completeness": 41.5},
}


def test_legacy_job_is_listed_with_the_no_history_message(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    folder = settings.workspace / "jobs" / "job_legacy2024"
    folder.mkdir(parents=True)
    original = json.dumps(LEGACY).encode()
    (folder / "job_data.json").write_bytes(original)
    tokens = make_users(settings)
    with TestClient(create_app(settings)) as client:
        headers = {"Authorization": f"Bearer {tokens['viewer']}"}
        listed = client.get("/api/jobs", headers=headers).json()["jobs"]
        job = client.get("/api/jobs/job_legacy2024", headers=headers).json()
    assert [j["job_id"] for j in listed] == ["job_legacy2024"]
    assert job["legacy"] is True and job["prompts"] == []
    assert job["history_message"] == NO_HISTORY_MESSAGE
    assert job["results"] == {"overall_completeness": 41.5}
    assert (folder / "job_data.json").read_bytes() == original
