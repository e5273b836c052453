"""/ws: live events. On connect a snapshot (recent jobs, pending prompts), then
job_update, prompt_request and prompt_resolved as they happen."""

import asyncio
import contextlib
from urllib.parse import urlsplit

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from litgap.exceptions import LitgapError
from litgap.services import jobs as job_service
from litgap.web.deps import authenticate

router = APIRouter()
SNAPSHOT_JOBS = 100


def _origin_allowed(websocket: WebSocket) -> bool:
    origin = websocket.headers.get("origin")
    if origin is None:
        return True  # not a browser: the token or cookie is the whole check
    return urlsplit(origin).netloc == websocket.headers.get("host")


@router.websocket("/ws")
async def events(websocket: WebSocket) -> None:
    rt = websocket.app.state.runtime
    if not _origin_allowed(websocket):
        await websocket.close(code=4403, reason="origin not allowed")
        return
    try:
        authenticate(rt, websocket)
    except LitgapError as err:
        await websocket.close(code=4401, reason=err.detail[:120])
        return
    await websocket.accept()
    async with rt.events.subscribe() as queue:
        jobs, _ = job_service.list_jobs(rt, limit=SNAPSHOT_JOBS)
        await websocket.send_json(
            {"type": "snapshot", "data": {"jobs": jobs, "pending_prompts": rt.broker.pending()}}
        )

        async def pump() -> None:
            while True:
                await websocket.send_json(await queue.get())

        async def drain() -> None:
            # Notices a closed client at once, not at the next event.
            while True:
                await websocket.receive_text()

        tasks = [asyncio.create_task(pump()), asyncio.create_task(drain())]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
                    await task
