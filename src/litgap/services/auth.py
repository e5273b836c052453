"""Users, roles, tokens and sessions. Viewers read; operators and admins also act.

A token can be revoked or rotated; either ends the user's sessions at once and, through
the token stamp (below), empties every process's token cache before its next lookup.
"""

import contextlib
import hashlib
import os
import re
import secrets
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import sqlalchemy as sa

from litgap.atomic import write_atomic
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


def _check_name(name: str) -> None:
    if not _NAME.fullmatch(name):
        raise InvalidInput(f"invalid user name {name[:100]!r}: use 1-100 of A-Z a-z 0-9 _ . @ -")


def _new_token() -> str:
    return "lg_" + secrets.token_urlsafe(32)


def create_user(engine: sa.Engine, name: str, role: Role) -> tuple[User, str]:
    """Create a user and return it with its token (shown once, stored hashed)."""
    _check_name(name)
    if user_rows.user_by_name(engine, name) is not None:
        raise InvalidInput(f"user {name!r} already exists")
    token = _new_token()
    user_rows.insert_user(engine, name, role.value, hash_token(token), now_iso())
    row = user_rows.user_by_name(engine, name)
    assert row is not None
    return User(row["user_id"], row["name"], Role(row["role"])), token


def _replace_token(engine: sa.Engine, name: str, token_hash: str) -> User:
    _check_name(name)
    row = user_rows.replace_token(engine, name, token_hash)
    if row is None:
        raise InvalidInput(f"no user {name!r}")
    _token_cache.clear()
    touch_stamp(engine)
    return User(row["user_id"], row["name"], Role(row["role"]))


def revoke_user(engine: sa.Engine, name: str) -> User:
    """Make the token of user `name` worthless and end its sessions. Raises
    InvalidInput for an unknown user. `rotate_token` gives it a token again."""
    # Not a SHA-256 hex digest (it has a colon), so no token ever hashes to it; the
    # random part keeps the column unique.
    return _replace_token(engine, name, "revoked:" + secrets.token_hex(28))


def rotate_token(engine: sa.Engine, name: str) -> tuple[User, str]:
    """Give user `name` a new token (returned, shown once); the old one and the
    user's sessions stop working at once. Raises InvalidInput for an unknown user."""
    token = _new_token()
    return _replace_token(engine, name, hash_token(token)), token


# -- the token cache ------------------------------------------------------------------
# Token lookups are on every request; users change rarely. A known token is trusted
# for a few seconds without asking the store again (unknown tokens are never cached).
# Revoking or rotating rewrites a stamp file beside a SQLite database; a cache entry
# made under an older stamp is dropped, so another process's change is seen on the
# next request (one stat, no store read). A server database has no such file: there
# the entry lives only _TOKEN_TTL seconds.
_TOKEN_TTL = 10.0
_SERVER_TOKEN_TTL = 2.0
_token_cache: dict[str, tuple[float, User, Path | None, int]] = {}


def stamp_path(engine: sa.Engine) -> Path | None:
    """The token stamp of a SQLite file database (beside it), else None."""
    url = engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database + "-tokens")


def _stamp_version(path: Path | None) -> int:
    if path is None:
        return 0
    try:
        info = os.stat(path)
    except OSError:
        return 0
    # Each rewrite is a new file (atomic rename), so the inode changes even when two
    # rewrites fall within one mtime tick.
    return hash((info.st_ino, info.st_mtime_ns))


def touch_stamp(engine: sa.Engine) -> None:
    """Tell every process on this database that tokens changed."""
    path = stamp_path(engine)
    if path is not None:
        with contextlib.suppress(OSError):
            write_atomic(path, secrets.token_hex(8).encode())


def tokens_version(engine: sa.Engine) -> int:
    """Changes whenever a token of this database is revoked or rotated (SQLite)."""
    return _stamp_version(stamp_path(engine))


def cached_user(token: str) -> User | None:
    """The user of a token seen in the last few seconds, without asking the store."""
    if not token or len(token) > 200:
        return None
    key = hash_token(token)
    cached = _token_cache.get(key)
    if cached is None:
        return None
    at, user, stamp, version = cached
    ttl = _TOKEN_TTL if stamp is not None else _SERVER_TOKEN_TTL
    if time.monotonic() - at >= ttl or _stamp_version(stamp) != version:
        _token_cache.pop(key, None)
        return None
    return user


def user_for_token(engine: sa.Engine, token: str) -> User | None:
    if not token or len(token) > 200:
        return None
    if (user := cached_user(token)) is not None:
        return user
    key = hash_token(token)
    now = time.monotonic()
    stamp = stamp_path(engine)
    # Read before the store: a change that lands in between makes this entry stale.
    version = _stamp_version(stamp)
    row = user_rows.user_by_token(engine, key)
    if row is None:
        return None
    user = User(row["user_id"], row["name"], Role(row["role"]))
    if len(_token_cache) > 10_000:
        _token_cache.clear()
    _token_cache[key] = (now, user, stamp, version)
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
