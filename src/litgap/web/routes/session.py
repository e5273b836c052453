"""Signing in from the browser: a token once, then an HttpOnly session cookie."""

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse

from litgap.exceptions import AuthenticationRequired
from litgap.services.auth import close_session, open_session, user_for_token
from litgap.web.deps import SESSION_COOKIE, CurrentUser, RuntimeDep

router = APIRouter(tags=["session"])


@router.post("/login", include_in_schema=False)
async def login(rt: RuntimeDep, token: Annotated[str, Form(max_length=200)]) -> RedirectResponse:
    user = user_for_token(rt.engine, token.strip())
    if user is None:
        raise AuthenticationRequired("invalid token")
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
