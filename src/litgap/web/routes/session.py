"""Signing in from the browser: a token once, then an HttpOnly session cookie.

Sign-in is refused from a foreign page (its Origin, or Referer, must name this host:
no login CSRF) and, after LOGIN_FAILURES wrong tokens from one address within
LOGIN_WINDOW seconds, answers 429 with Retry-After until the oldest failure ages out.
"""

from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse

from litgap.exceptions import AuthenticationRequired, PermissionDenied
from litgap.services.auth import close_session, open_session, user_for_token
from litgap.web.deps import SESSION_COOKIE, CurrentUser, RuntimeDep
from litgap.web.ratelimit import FailureLimiter

router = APIRouter(tags=["session"])
LOGIN_FAILURES = 10
LOGIN_WINDOW = 60.0


def _limiter(request: Request) -> FailureLimiter:
    # One per app (not per module), so two apps in one process count apart.
    limiter = getattr(request.app.state, "login_limiter", None)
    if limiter is None:
        limiter = request.app.state.login_limiter = FailureLimiter(LOGIN_FAILURES, LOGIN_WINDOW)
    return limiter


def _same_origin(request: Request) -> bool:
    """A browser names the page that posts (Origin, else Referer); it must be ours.
    A client that names none (curl, scripts) is not a browser a page can drive."""
    source = request.headers.get("origin") or request.headers.get("referer")
    if source is None:
        return True
    return bool(source != "null" and urlsplit(source).netloc == request.headers.get("host"))


@router.post("/login", include_in_schema=False)
async def login(
    request: Request, rt: RuntimeDep, token: Annotated[str, Form(max_length=200)]
) -> RedirectResponse:
    if not _same_origin(request):
        raise PermissionDenied("sign-in from another site is not allowed (Origin)")
    client = request.client.host if request.client else "unknown"
    limiter = _limiter(request)
    wait = limiter.retry_after(client)
    if wait:
        raise HTTPException(
            429,
            f"too many failed sign-ins from {client}: try again in {wait} s",
            headers={"Retry-After": str(wait)},
        )
    user = user_for_token(rt.engine, token.strip())
    if user is None:
        limiter.failed(client)
        raise AuthenticationRequired("invalid token")
    limiter.clear(client)
    session, _csrf = open_session(rt.engine, user)
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        session,
        httponly=True,
        samesite="strict",
        secure=rt.settings.secure_cookies,
        max_age=12 * 3600,
    )
    return response


@router.post("/logout", include_in_schema=False)
async def logout(request: Request, rt: RuntimeDep, user: CurrentUser) -> RedirectResponse:
    session = request.cookies.get(SESSION_COOKIE)
    if session:
        close_session(rt.engine, session)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/api/me", tags=["session"])
async def me(request: Request, user: CurrentUser) -> dict[str, Any]:
    """Who is signed in, and the CSRF token the page sends with changes."""
    return {
        "name": user.name,
        "role": user.role,
        "can_operate": user.can_operate,
        "csrf_token": getattr(request.state, "csrf", None),
    }
