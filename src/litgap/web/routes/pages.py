"""HTML pages: sign-in, dashboard, job details, diff and analytics.

A page renders a template and hands its script the data it needs as JSON in a
`<script type="application/json">` block (the CSP forbids inline scripts). Everything
live — job progress, prompts, decisions — the page's script fetches from the JSON API
and the `/ws` event stream, so these routes stay thin.
"""

from pathlib import Path
from typing import Any, get_args

import jinja2
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from litgap import __version__
from litgap.config import RunMode
from litgap.exceptions import InvalidJobId, UnknownJob
from litgap.ids import validate_job_id
from litgap.records import NO_HISTORY_MESSAGE
from litgap.responses import SPECIAL_VALUES
from litgap.services import jobs as job_service
from litgap.services.auth import User
from litgap.services.inputs import CORPUS_SUFFIXES
from litgap.settings import PROMPT_TYPES
from litgap.web.deps import CurrentUser, RuntimeDep

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

# Autoescape everything: templates only ever show data as text.
_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
templates = Jinja2Templates(env=_env)

router = APIRouter(include_in_schema=False)


def _render(
    request: Request,
    template: str,
    *,
    title: str,
    page: str,
    user: User | None,
    data: dict[str, Any] | None = None,
    status_code: int = 200,
    **extra: Any,
) -> HTMLResponse:
    """Render a page; `data` reaches the page's script, `context` the shared ones."""
    rt = request.app.state.runtime
    context: dict[str, Any] = {
        "me": None,
        "limits": {"note": rt.settings.max_note_chars},
        "special_values": sorted(SPECIAL_VALUES),
        "no_history": NO_HISTORY_MESSAGE,
    }
    if user is not None:
        context["me"] = {
            "name": user.name,
            "role": str(user.role),
            "can_operate": user.can_operate,
            "csrf_token": getattr(request.state, "csrf", None),
        }
    return templates.TemplateResponse(
        request,
        template,
        {
            "title": title,
            "page": page,
            "me": context["me"],
            "context": context,
            "data": data or {},
            "version": __version__,
            "prompt_types": list(PROMPT_TYPES),
            **extra,
        },
        status_code=status_code,
    )


def _not_found(request: Request, user: User, detail: str) -> HTMLResponse:
    return _render(
        request,
        "not_found.html",
        title="Not found",
        page="",
        user=user,
        detail=detail,
        status_code=404,
    )


@router.get("/login")
async def login_page(request: Request) -> HTMLResponse:
    return _render(request, "login.html", title="Sign in", page="login", user=None)


@router.get("/")
async def dashboard(request: Request, user: CurrentUser) -> HTMLResponse:
    return _render(
        request,
        "dashboard.html",
        title="Dashboard",
        page="dashboard",
        user=user,
        run_modes=list(get_args(RunMode)),
        accept=",".join(CORPUS_SUFFIXES),
    )


@router.get("/jobs/{job_id}")
async def job_page(
    job_id: str, request: Request, rt: RuntimeDep, user: CurrentUser
) -> HTMLResponse:
    try:
        job = job_service.get_job(rt, job_id)
    except (InvalidJobId, UnknownJob) as err:
        return _not_found(request, user, err.detail)
    return _render(
        request,
        "job.html",
        title=f"Job {job_id}",
        page="job",
        user=user,
        data={"job": job},
        job_id=job_id,
    )


@router.get("/jobs/{job_id}/agreement")
async def agreement_page(
    job_id: str, request: Request, rt: RuntimeDep, user: CurrentUser
) -> HTMLResponse:
    try:
        job_service.get_job(rt, job_id)
    except (InvalidJobId, UnknownJob) as err:
        return _not_found(request, user, err.detail)
    return _render(
        request,
        "agreement.html",
        title=f"Reviewer agreement for {job_id}",
        page="agreement",
        user=user,
        data={"job_id": job_id},
        job_id=job_id,
    )


@router.get("/diff/{a}/{b}")
async def diff_page(a: str, b: str, request: Request, user: CurrentUser) -> HTMLResponse:
    try:
        validate_job_id(a)
        validate_job_id(b)
    except InvalidJobId as err:
        return _not_found(request, user, err.detail)
    return _render(
        request,
        "diff.html",
        title=f"Compare {a} and {b}",
        page="diff",
        user=user,
        data={"a": a, "b": b},
        job_a=a,
        job_b=b,
    )


@router.get("/analytics")
async def analytics_page(request: Request, user: CurrentUser) -> HTMLResponse:
    return _render(
        request,
        "analytics.html",
        title="Decision analytics",
        page="analytics",
        user=user,
        data={"prompt_types": list(PROMPT_TYPES)},
    )
