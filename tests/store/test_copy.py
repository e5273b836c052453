"""store/copy.py: a SQLite store copied whole into an empty database of each engine."""

from pathlib import Path

import pytest
import sqlalchemy as sa

from litgap.responses import PromptSpec
from litgap.runtime import Runtime, open_runtime
from litgap.services.auth import Role, create_user, open_session
from litgap.settings import Settings
from litgap.status import PromptSource
from litgap.store.copy import TABLES, TargetNotEmpty, copy_database
from litgap.store.database import open_database
from tests.helpers import new_job

MODE = PromptSpec(
    type="run_mode", message="Select analysis mode", options=["ONCE", "DEEP_LOOP"], default="ONCE"
)


def fill(rt: Runtime) -> None:
    """Users, a session, jobs with answered, timed-out and pending prompts."""
    ada, _ = create_user(rt.engine, "ada", Role.ADMIN)
    create_user(rt.engine, "bob", Role.VIEWER)
    open_session(rt.engine, ada)
    for _ in range(3):
        job_id = new_job(rt)
        first = rt.broker.open(job_id, 0, MODE, 60)
        rt.broker.answer(
            first["prompt_id"],
            "DEEP_LOOP",
            source=PromptSource.USER,
            answered_by="ada",
            note="«deep» ✓",
        )
        rt.broker.open(job_id, 1, MODE, 60)


def table_rows(engine: sa.Engine) -> dict[str, list[dict[str, object]]]:
    with engine.connect() as conn:
        return {
            t.name: [
                dict(r)
                for r in conn.execute(sa.select(t).order_by(*t.primary_key.columns)).mappings()
            ]
            for t in TABLES
        }


@pytest.fixture
def source(tmp_path: Path) -> sa.Engine:
    rt = open_runtime(Settings(workspace=tmp_path / "source"))
    fill(rt)
    rt.close()
    return open_database(f"sqlite:///{tmp_path / 'source' / 'litgap.db'}")


def test_every_row_arrives_as_it_was(source: sa.Engine, engine: sa.Engine) -> None:
    report = copy_database(source, engine)
    assert [(r.name, r.source_rows, r.target_rows) for r in report] == [
        ("jobs", 3, 3),
        ("prompts", 6, 6),
        ("users", 2, 2),
        ("sessions", 1, 1),
    ]
    assert table_rows(engine) == table_rows(source)


def test_new_users_after_the_copy_get_new_ids(source: sa.Engine, engine: sa.Engine) -> None:
    copy_database(source, engine)
    carol, _ = create_user(engine, "carol", Role.OPERATOR)
    assert carol.user_id == 3


def test_a_target_with_rows_is_refused_and_left_alone(source: sa.Engine, engine: sa.Engine) -> None:
    create_user(engine, "eve", Role.ADMIN)
    with pytest.raises(TargetNotEmpty, match="users: 1"):
        copy_database(source, engine)
    assert [u["name"] for u in table_rows(engine)["users"]] == ["eve"]
    assert table_rows(engine)["jobs"] == []
