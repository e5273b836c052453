"""OpenAPI and its browsable page, both behind authentication, with Swagger UI served
from the installed package (no CDN)."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from litgap.web.deps import CurrentUser

router = APIRouter(include_in_schema=False)
ASSETS = "/docs-assets"


@router.get("/openapi.json")
async def openapi(request: Request, user: CurrentUser) -> dict[str, Any]:
    return request.app.openapi()


@router.get("/docs")
async def docs(user: CurrentUser) -> HTMLResponse:
    page = get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="litgap API",
        swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
    )
    # Swagger UI starts itself with an inline script; this page holds no user data.
    page.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:"
    )
    return page
