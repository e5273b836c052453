"""Migration 0002 (job lineage): a database made before it keeps its replays' parents,
now under the generic parent_job_id + relation."""

from pathlib import Path

import sqlalchemy as sa
from alembic import command

from litgap.store.database import alembic_config, create_engine, upgrade


def test_upgrade_backfills_replay_lineage(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    config = alembic_config(url)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
    row = {
        "status": "completed",
        "created_at": "2024-01-01T00:00:00Z",
        "updated_at": "2024-01-01T00:00:00Z",
        "config": "{}",
        "inputs": "[]",
        "transitions": "[]",
    }
    with engine.begin() as conn:
        for job_id, replay_of in [("job_original", None), ("job_replayed", "job_original")]:
            conn.execute(
                sa.text(
                    "INSERT INTO jobs (job_id, status, created_at, updated_at, config, inputs,"
                    " transitions, replay_of) VALUES (:job_id, :status, :created_at,"
                    " :updated_at, :config, :inputs, :transitions, :replay_of)"
                ),
                {**row, "job_id": job_id, "replay_of": replay_of},
            )
    upgrade(engine)
    with engine.connect() as conn:
        found = conn.execute(
            sa.text("SELECT job_id, parent_job_id, relation FROM jobs ORDER BY job_id")
        ).all()
    engine.dispose()
    assert found == [("job_original", None, None), ("job_replayed", "job_original", "replay_of")]
