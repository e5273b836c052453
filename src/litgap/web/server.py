"""How `litgap serve` runs the app under uvicorn; the load benchmark uses the same."""

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
