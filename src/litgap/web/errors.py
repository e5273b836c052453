"""One place that turns errors into answers: JSON `{"detail": ...}` for the API."""

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response

from litgap.config import error_place
from litgap.exceptions import AuthenticationRequired, LitgapError


class SafeJSONResponse(JSONResponse):
    """JSON that is always valid UTF-8: text that cannot be encoded (a lone surrogate
    quoted in a message) is sent as a JSON escape instead of failing the answer."""

    def render(self, content: Any) -> bytes:
        try:
            return super().render(content)
        except UnicodeEncodeError:
            return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode()


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api") and "text/html" in request.headers.get(
        "accept", ""
    )


def _place(error: dict[str, Any]) -> str:
    return error_place(tuple(p for p in error.get("loc", ()) if p != "body")) or "request"


async def litgap_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LitgapError)
    if isinstance(exc, AuthenticationRequired) and _wants_html(request):
        return RedirectResponse("/login", status_code=303)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
    return SafeJSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)


async def validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
    detail = f"{_place(first)}: {first['msg']}"
    return SafeJSONResponse({"detail": detail, "errors": _plain(errors)}, status_code=422)


def _plain(errors: Any) -> list[dict[str, Any]]:
    return [
        {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg")), "type": e.get("type")}
        for e in errors
    ]


def install(app: FastAPI) -> None:
    app.add_exception_handler(LitgapError, litgap_error)
    app.add_exception_handler(RequestValidationError, validation_error)
