"""Builds the web app; nothing else lives here."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from litgap import __version__
from litgap.executor import executor_for
from litgap.runtime import Runtime, open_runtime
from litgap.services.cleanup import remove_leftovers
from litgap.services.jobs import hold_sample, import_job_folders, repair_documents
from litgap.settings import Settings
from litgap.web import errors
from litgap.web.headers import SecurityHeaders
from litgap.web.limits import BodyLimits
from litgap.web.routes import (
    audit,
    docs,
    evidence,
    jobs,
    lineage,
    pages,
    prompts,
    screening,
    session,
    ws,
)

STATIC = Path(__file__).parent / "static"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime: Runtime = open_runtime(settings)
        import_job_folders(runtime)
        repair_documents(runtime)
        remove_leftovers(runtime)
        hold_sample(runtime)
        app.state.runtime = runtime
        # The database chooses who runs jobs: the queue's workers on PostgreSQL, this
        # process on SQLite (it first resumes what the last process left active).
        try:
            async with executor_for(runtime) as app.state.executor:
                yield
        finally:
            runtime.close()

    app = FastAPI(
        title="litgap",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    errors.install(app)

    # Added first, so it runs inside SecurityHeaders: its refusals get the headers too.
    app.add_middleware(BodyLimits, settings=settings)
    app.add_middleware(SecurityHeaders)

    for router in (
        jobs.router,
        prompts.router,
        audit.router,
        lineage.router,
        evidence.router,
        screening.router,
        session.router,
        ws.router,
        docs.router,
        pages.router,
    ):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.mount(docs.ASSETS, StaticFiles(directory=swagger_ui_path), name="docs-assets")
    return app
