"""/ws: live events. On connect a snapshot (recent jobs, pending prompts), then
job_update, prompt_request and prompt_resolved as they happen.

A connection lives only while its credentials do: they are checked again every
second (a revoked or rotated token, or an ended session, closes it with 1008, policy
violation). A client that falls QUEUE_LIMIT events behind is closed with 1013 (try
again later): the dashboard reconnects and starts from a fresh snapshot.
"""

import asyncio
import contextlib
import time
from urllib.parse import urlsplit

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from litgap.exceptions import LitgapError
from litgap.runtime import Runtime
from litgap.services import jobs as job_service
from litgap.services.auth import cached_user, tokens_version
from litgap.web.deps import authenticate

router = APIRouter()
SNAPSHOT_JOBS = 100
QUEUE_LIMIT = 1000
RECHECK_SECONDS = 1.0
# Sessions are not cached: without a token change they are read again this seldom.
SESSION_RECHECK_SECONDS = 5.0
CLOSE_TIMEOUT = 1.0
POLICY_VIOLATION = 1008
TRY_AGAIN_LATER = 1013


def _origin_allowed(websocket: WebSocket) -> bool:
    origin = websocket.headers.get("origin")
    if origin is None:
        return True  # not a browser: the token or cookie is the whole check
    return urlsplit(origin).netloc == websocket.headers.get("host")


def _token(websocket: WebSocket) -> str | None:
    authorization = websocket.headers.get("authorization") or ""
    if authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    return websocket.headers.get("x-api-key")


async def _watch_credentials(rt: Runtime, websocket: WebSocket) -> str:
    """Returns (the reason) once the connection's credentials stop being valid."""
    token = _token(websocket)
    version = tokens_version(rt.engine)
    checked = time.monotonic()
    while True:
        await asyncio.sleep(RECHECK_SECONDS)
        if token and cached_user(token) is not None:
            continue  # still valid, and no token of this database changed
        now_version = tokens_version(rt.engine)
        recent = time.monotonic() - checked < SESSION_RECHECK_SECONDS
        if not token and now_version == version and recent:
            continue
        try:
            await asyncio.to_thread(authenticate, rt, websocket)
        except LitgapError as err:
            return err.detail
        version, checked = now_version, time.monotonic()


async def _close(websocket: WebSocket, code: int, reason: str) -> None:
    # A client that reads nothing may never take the close frame either.
    with contextlib.suppress(Exception):
        await asyncio.wait_for(websocket.close(code=code, reason=reason[:120]), CLOSE_TIMEOUT)


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
    async with rt.events.subscribe(limit=QUEUE_LIMIT) as subscription:
        jobs, _ = job_service.list_jobs(rt, limit=SNAPSHOT_JOBS)
        await websocket.send_json(
            {"type": "snapshot", "data": {"jobs": jobs, "pending_prompts": rt.broker.pending()}}
        )

        async def pump() -> None:
            while True:
                await websocket.send_json(await subscription.get())

        async def drain() -> None:
            # Notices a closed client at once, not at the next event.
            while True:
                await websocket.receive_text()

        pumping = asyncio.create_task(pump())
        draining = asyncio.create_task(drain())
        overflow = asyncio.create_task(subscription.overflowed.wait())
        watch = asyncio.create_task(_watch_credentials(rt, websocket))
        tasks = [pumping, draining, overflow, watch]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
                    await task
        if watch.done() and not watch.cancelled() and watch.exception() is None:
            await _close(websocket, POLICY_VIOLATION, watch.result())
        elif overflow.done() and not overflow.cancelled():
            await _close(websocket, TRY_AGAIN_LATER, "too slow: reconnect for a fresh snapshot")
