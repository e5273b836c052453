"""store/users.py on SQLite and PostgreSQL: users and browser sessions."""

import pytest
import sqlalchemy as sa

from litgap.store import users as user_rows

AT = "2026-01-01T00:00:00.000000Z"


def test_users_by_token_and_by_name(engine: sa.Engine) -> None:
    assert user_rows.count_users(engine) == 0
    user_rows.insert_user(engine, "ada", "admin", "a" * 64, AT)
    user_rows.insert_user(engine, "bob", "viewer", "b" * 64, AT)
    ada = user_rows.user_by_token(engine, "a" * 64)
    assert ada is not None and (ada["name"], ada["role"], ada["created_at"]) == ("ada", "admin", AT)
    bob = user_rows.user_by_name(engine, "bob")
    assert bob is not None and bob["user_id"] != ada["user_id"]
    assert user_rows.user_by_token(engine, "c" * 64) is None
    assert user_rows.user_by_name(engine, "carol") is None
    assert user_rows.count_users(engine) == 2


@pytest.mark.parametrize("clash", ["name", "token"])
def test_names_and_tokens_are_unique(engine: sa.Engine, clash: str) -> None:
    user_rows.insert_user(engine, "ada", "admin", "a" * 64, AT)
    name, token = ("ada", "b" * 64) if clash == "name" else ("bob", "a" * 64)
    with pytest.raises(sa.exc.IntegrityError):
        user_rows.insert_user(engine, name, "viewer", token, AT)


def test_a_session_finds_its_user_until_it_expires(engine: sa.Engine) -> None:
    user_rows.insert_user(engine, "ada", "operator", "a" * 64, AT)
    ada = user_rows.user_by_name(engine, "ada")
    assert ada is not None
    user_rows.insert_session(
        engine,
        {
            "session_hash": "s" * 64,
            "user_id": ada["user_id"],
            "csrf_token": "c" * 43,
            "created_at": AT,
            "expires_at": "2026-01-02T00:00:00.000000Z",
        },
    )
    found = user_rows.session_user(engine, "s" * 64, "2026-01-01T12:00:00.000000Z")
    assert found is not None
    user, csrf = found
    assert (user["name"], csrf) == ("ada", "c" * 43)
    assert user_rows.session_user(engine, "s" * 64, "2026-01-02T00:00:00.000000Z") is None
    user_rows.delete_session(engine, "s" * 64)
    assert user_rows.session_user(engine, "s" * 64, "2026-01-01T12:00:00.000000Z") is None


def test_a_session_needs_a_user(engine: sa.Engine) -> None:
    with pytest.raises(sa.exc.IntegrityError):
        user_rows.insert_session(
            engine,
            {
                "session_hash": "s" * 64,
                "user_id": 999,
                "csrf_token": "c",
                "created_at": AT,
                "expires_at": AT,
            },
        )


def test_replacing_a_token_ends_the_users_sessions_only(engine: sa.Engine) -> None:
    user_rows.insert_user(engine, "ada", "admin", "a" * 64, AT)
    user_rows.insert_user(engine, "bob", "viewer", "b" * 64, AT)
    ada = user_rows.user_by_name(engine, "ada")
    bob = user_rows.user_by_name(engine, "bob")
    assert ada is not None and bob is not None
    for user, key in ((ada, "s1"), (bob, "s2")):
        user_rows.insert_session(
            engine,
            {
                "session_hash": key * 32,
                "user_id": user["user_id"],
                "csrf_token": "c",
                "created_at": AT,
                "expires_at": "2099-01-01T00:00:00.000000Z",
            },
        )
    replaced = user_rows.replace_token(engine, "ada", "d" * 64)
    assert replaced is not None and replaced["user_id"] == ada["user_id"]
    assert user_rows.user_by_token(engine, "a" * 64) is None
    found = user_rows.user_by_token(engine, "d" * 64)
    assert found is not None and found["name"] == "ada"
    assert user_rows.count_sessions(engine, ada["user_id"]) == 0
    assert user_rows.count_sessions(engine, bob["user_id"]) == 1


def test_replacing_the_token_of_no_such_user_changes_nothing(engine: sa.Engine) -> None:
    user_rows.insert_user(engine, "ada", "admin", "a" * 64, AT)
    assert user_rows.replace_token(engine, "nobody", "d" * 64) is None
    assert user_rows.user_by_token(engine, "a" * 64) is not None
