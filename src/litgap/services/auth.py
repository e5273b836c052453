"""Users, roles, tokens and sessions. Viewers read; operators and admins also act."""

import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from enum import StrEnum

import sqlalchemy as sa

from litgap.clock import after, iso, now_iso, utcnow
from litgap.exceptions import InvalidInput, PermissionDenied
from litgap.store import users as user_rows

SESSION_HOURS = 12
_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,100}$")


class Role(StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"


@dataclass(frozen=True)
class User:
    user_id: int
    name: str
    role: Role

    @property
    def can_operate(self) -> bool:
        return self.role in (Role.OPERATOR, Role.ADMIN)

    def require_operator(self, action: str) -> None:
        if not self.can_operate:
            raise PermissionDenied(
                f"user {self.name!r} is a {self.role}: only operators and admins can {action}"
            )


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(engine: sa.Engine, name: str, role: Role) -> tuple[User, str]:
    """Create a user and return it with its token (shown once, stored hashed)."""
    if not _NAME.fullmatch(name):
        raise InvalidInput(f"invalid user name {name[:100]!r}: use 1-100 of A-Z a-z 0-9 _ . @ -")
    if user_rows.user_by_name(engine, name) is not None:
        raise InvalidInput(f"user {name!r} already exists")
    token = "lg_" + secrets.token_urlsafe(32)
    user_rows.insert_user(engine, name, role.value, hash_token(token), now_iso())
    row = user_rows.user_by_name(engine, name)
    assert row is not None
    return User(row["user_id"], row["name"], Role(row["role"])), token


# Token lookups are on every request; users change rarely. A known token is trusted
# for a few seconds without asking the store again (unknown tokens are never cached).
_TOKEN_TTL = 10.0
_token_cache: dict[str, tuple[float, User]] = {}


def cached_user(token: str) -> User | None:
    """The user of a token seen in the last few seconds, without asking the store."""
    if not token or len(token) > 200:
        return None
    cached = _token_cache.get(hash_token(token))
    if cached is not None and time.monotonic() - cached[0] < _TOKEN_TTL:
        return cached[1]
    return None


def user_for_token(engine: sa.Engine, token: str) -> User | None:
    if not token or len(token) > 200:
        return None
    if (user := cached_user(token)) is not None:
        return user
    key = hash_token(token)
    now = time.monotonic()
    row = user_rows.user_by_token(engine, key)
    if row is None:
        return None
    user = User(row["user_id"], row["name"], Role(row["role"]))
    if len(_token_cache) > 10_000:
        _token_cache.clear()
    _token_cache[key] = (now, user)
    return user


def open_session(engine: sa.Engine, user: User) -> tuple[str, str]:
    """Return (session token for the cookie, CSRF token for the page)."""
    session, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = utcnow()
    user_rows.insert_session(
        engine,
        {
            "session_hash": hash_token(session),
            "user_id": user.user_id,
            "csrf_token": csrf,
            "created_at": iso(now),
            "expires_at": iso(after(now, SESSION_HOURS * 3600)),
        },
    )
    return session, csrf


def session_for(engine: sa.Engine, session: str) -> tuple[User, str] | None:
    if not session or len(session) > 200:
        return None
    found = user_rows.session_user(engine, hash_token(session), now_iso())
    if found is None:
        return None
    row, csrf = found
    return User(row["user_id"], row["name"], Role(row["role"])), csrf


def close_session(engine: sa.Engine, session: str) -> None:
    user_rows.delete_session(engine, hash_token(session))


def has_users(engine: sa.Engine) -> bool:
    return user_rows.count_users(engine) > 0
