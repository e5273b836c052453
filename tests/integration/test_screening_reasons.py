"""The team's screening reasons (LITGAP_SCREENING_REASONS): offered after the defaults
in every screening prompt, kept in the job's config so every run offers the same ones,
and refused at start when one is not a short line."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from litgap.settings import Settings
from tests.conftest import make_settings
from tests.integration.conftest import Api

TEAM = ["animal study", "conference abstract only"]


@pytest.fixture
def api_settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, screening_reasons=TEAM)


def test_a_screening_prompt_offers_the_teams_reasons_after_the_defaults(api: Api) -> None:
    config = {"pillar_selections": "ALL", "screening": "ask"}
    created = api.post("/api/jobs", json={"sample": True, "config": config})
    assert created.status_code == 201, created.text
    job_id = created.json()["job_id"]
    job = api.get(f"/api/jobs/{job_id}").json()
    assert job["config"]["settings"]["screening_reasons"] == TEAM
    with api.events() as ws:
        assert api.post(f"/api/jobs/{job_id}/start").status_code == 202
        ask = api.next_prompt(ws, job_id)
        assert ask["prompt_data"]["options"][-3:] == [
            "exclude: other",
            "exclude: animal study",
            "exclude: conference abstract only",
        ]
        answer = api.post(
            f"/api/prompts/{ask['prompt_id']}/respond", json={"response": "exclude: animal study"}
        )
        assert answer.status_code == 200, answer.text
        assert api.post(f"/api/jobs/{job_id}/cancel").status_code == 202


@pytest.mark.parametrize(
    ("reasons", "message"),
    [
        (["x" * 61], "screening_reasons.0: 'xxxx"),
        (["ok", "two\nlines"], "screening_reasons.1: 'two\\nlines' must be 1 to 60 characters"),
        (["Same", "same"], "screening_reasons.1: 'same' is listed twice"),
    ],
)
def test_a_bad_reason_stops_the_start_naming_it(
    tmp_path: Path, reasons: list[str], message: str
) -> None:
    with pytest.raises(ValidationError, match=message.replace("\\", "\\\\")):
        make_settings(tmp_path, screening_reasons=reasons)
