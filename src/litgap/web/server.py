"""How `litgap serve` runs the app under uvicorn; the load benchmark uses the same."""

import gc

import uvicorn

from litgap.settings import Settings
from litgap.web.app import create_app


def server_config(settings: Settings) -> uvicorn.Config:
    return uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="warning",
        # Events are a few hundred bytes each: compressing them costs the event loop
        # more CPU than it saves on a loopback or LAN link.
        ws_per_message_deflate=False,
        # litgap is reached directly or behind a proxy the operator configures; it
        # does not rewrite client addresses from forwarded headers.
        proxy_headers=False,
    )


def freeze_startup_objects() -> None:
    """Hide what start-up built (the imported libraries alone are ~180,000 objects:
    scikit-learn, SciPy, SQLAlchemy) from the cyclic garbage collector. Each full
    collection would otherwise walk them all and stall the event loop for ~100 ms,
    every few seconds under load; they live as long as the process anyway."""
    gc.collect()
    gc.freeze()


def run(settings: Settings) -> None:
    config = server_config(settings)
    freeze_startup_objects()
    uvicorn.Server(config).run()
