"""Builds the web app; nothing else lives here."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from litgap import __version__
from litgap.executor.inprocess import InProcessExecutor
from litgap.runtime import Runtime, open_runtime
from litgap.services.jobs import import_job_folders, repair_documents
from litgap.settings import Settings
from litgap.web import errors
from litgap.web.headers import SecurityHeaders
from litgap.web.limits import BodyLimits
from litgap.web.routes import audit, docs, jobs, pages, prompts, session, ws

STATIC = Path(__file__).parent / "static"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime: Runtime = open_runtime(settings)
        import_job_folders(runtime)
        repair_documents(runtime)
        app.state.runtime = runtime
        if settings.executor == "queue":
            # Cluster mode: workers run the jobs; this process defers and relays events.
            from litgap.executor.queue import queue_executor

            try:
                async with queue_executor(runtime) as app.state.executor:
                    yield
            finally:
                runtime.close()
            return
        executor = InProcessExecutor(runtime)
        app.state.executor = executor
        executor.recover()
        try:
            yield
        finally:
            await executor.shutdown()
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
        session.router,
        ws.router,
        docs.router,
        pages.router,
    ):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.mount(docs.ASSETS, StaticFiles(directory=swagger_ui_path), name="docs-assets")
    return app
