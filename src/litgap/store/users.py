"""Users and browser sessions. Tokens are stored only as SHA-256 hashes."""

from typing import Any

import sqlalchemy as sa

from litgap.store.database import reading, writing
from litgap.store.schema import sessions, users

Row = dict[str, Any]


def insert_user(engine: sa.Engine, name: str, role: str, token_hash: str, at: str) -> None:
    with writing(engine) as conn:
        conn.execute(
            users.insert().values(name=name, role=role, token_hash=token_hash, created_at=at)
        )


def user_by_token(engine: sa.Engine, token_hash: str) -> Row | None:
    with reading(engine) as conn:
        found = (
            conn.execute(sa.select(users).where(users.c.token_hash == token_hash))
            .mappings()
            .first()
        )
    return dict(found) if found else None


def user_by_name(engine: sa.Engine, name: str) -> Row | None:
    with reading(engine) as conn:
        found = conn.execute(sa.select(users).where(users.c.name == name)).mappings().first()
    return dict(found) if found else None


def count_users(engine: sa.Engine) -> int:
    with reading(engine) as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(users)).scalar_one())


def insert_session(engine: sa.Engine, row: Row) -> None:
    with writing(engine) as conn:
        conn.execute(sessions.insert().values(**row))


def session_user(engine: sa.Engine, session_hash: str, now: str) -> tuple[Row, str] | None:
    with reading(engine) as conn:
        found = (
            conn.execute(
                sa.select(users, sessions.c.csrf_token)
                .join(sessions, sessions.c.user_id == users.c.user_id)
                .where(sessions.c.session_hash == session_hash, sessions.c.expires_at > now)
            )
            .mappings()
            .first()
        )
    if found is None:
        return None
    row = dict(found)
    return row, row.pop("csrf_token")


def delete_session(engine: sa.Engine, session_hash: str) -> None:
    with writing(engine) as conn:
        conn.execute(sessions.delete().where(sessions.c.session_hash == session_hash))


def replace_token(engine: sa.Engine, name: str, token_hash: str) -> Row | None:
    """Give user `name` a new token hash and end all of its sessions, in one
    transaction; the user's row, or None when there is no such user."""
    with writing(engine) as conn:
        found = conn.execute(sa.select(users).where(users.c.name == name)).mappings().first()
        if found is None:
            return None
        conn.execute(
            users.update().where(users.c.user_id == found["user_id"]).values(token_hash=token_hash)
        )
        conn.execute(sessions.delete().where(sessions.c.user_id == found["user_id"]))
    return dict(found)


def count_sessions(engine: sa.Engine, user_id: int) -> int:
    with reading(engine) as conn:
        return int(
            conn.execute(
                sa.select(sa.func.count())
                .select_from(sessions)
                .where(sessions.c.user_id == user_id)
            ).scalar_one()
        )
