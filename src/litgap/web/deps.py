"""Typed dependencies for routes: the runtime, the executor, and who is asking.

A request is authenticated by `Authorization: Bearer <token>`, `X-API-Key: <token>`
(the original dashboard's header) or the browser's session cookie. A cookie-borne
request that changes state must also carry the page's CSRF token in `X-CSRF-Token`.
"""

import asyncio
import secrets
from typing import Annotated

from fastapi import Depends, Request, WebSocket

from litgap.exceptions import AuthenticationRequired, PermissionDenied
from litgap.executor import Executor
from litgap.runtime import Runtime
from litgap.services.auth import User, cached_user, session_for, user_for_token

SESSION_COOKIE = "litgap_session"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


# Dependencies are coroutines: FastAPI would run plain functions in its thread pool,
# a thread hop per dependency per request.


async def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


async def get_executor(request: Request) -> Executor:
    return request.app.state.executor


def _bearer(authorization: str | None) -> str | None:
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    return None


def _token(request: Request | WebSocket) -> str | None:
    return _bearer(request.headers.get("authorization")) or request.headers.get("x-api-key")


def authenticate(rt: Runtime, request: Request | WebSocket) -> tuple[User, str | None]:
    """The user behind a request, and the session's CSRF token when a cookie was used."""
    token = _token(request)
    if token:
        user = user_for_token(rt.engine, token)
        if user is None:
            raise AuthenticationRequired("invalid token")
        return user, None
    session = request.cookies.get(SESSION_COOKIE)
    if session:
        found = session_for(rt.engine, session)
        if found is not None:
            return found
        raise AuthenticationRequired("session expired: sign in again")
    raise AuthenticationRequired(
        "authentication required: send Authorization: Bearer <token> or X-API-Key, or sign in"
    )


async def authenticate_request(request: Request) -> tuple[User, str | None]:
    """`authenticate` from the headers alone: a token seen lately costs no store read;
    otherwise the store is asked in a thread, not on the event loop."""
    token = _token(request)
    known = cached_user(token) if token else None
    if known is not None:
        return known, None
    return await asyncio.to_thread(authenticate, request.app.state.runtime, request)


async def current_user(request: Request) -> User:
    # BodyLimits authenticated a request with a body before reading it.
    found: tuple[User, str | None] | None = getattr(request.state, "auth", None)
    user, csrf = found if found is not None else await authenticate_request(request)
    if csrf is not None and request.method not in SAFE_METHODS:
        sent = request.headers.get("x-csrf-token", "")
        if not secrets.compare_digest(sent.encode(), csrf.encode()):
            raise PermissionDenied("missing or wrong CSRF token (X-CSRF-Token)")
    request.state.csrf = csrf
    return user


async def operator_user(user: Annotated[User, Depends(current_user)]) -> User:
    if not user.can_operate:
        raise PermissionDenied(
            f"user {user.name!r} is a {user.role}: only operators and admins can do this"
        )
    return user


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
ExecutorDep = Annotated[Executor, Depends(get_executor)]
CurrentUser = Annotated[User, Depends(current_user)]
OperatorUser = Annotated[User, Depends(operator_user)]
