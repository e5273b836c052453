"""Who may send a body, and how much, decided before the body is read (plain ASGI
middleware, like `headers.py`).

A request that can carry a body (anything but GET, HEAD, OPTIONS) to the API is
authenticated from its headers first: an unknown token gets 401 while the body is
still unread, and the connection is closed so the rest is never taken in. Then the
body is counted as it arrives, with or without Content-Length: an upload
(multipart/form-data) up to `max_upload_bytes`, anything else up to `max_json_bytes`;
past the limit the answer is 413. A JSON body (small by then) is read whole and
checked at the edge: bytes that are not UTF-8, nesting past `text.MAX_DEPTH`, or text
that cannot be stored (`text.check_json`) get a 422 naming the place, before any route
sees it.
"""

import json
from typing import Any

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from litgap.exceptions import InvalidInput, LitgapError, PayloadTooLarge
from litgap.settings import Settings
from litgap.text import check_json
from litgap.web.deps import SAFE_METHODS, authenticate_request

# Room for multipart framing (part headers, boundaries) on top of the files' bytes.
MULTIPART_SLACK = 1024 * 1024


def _needs_auth(path: str) -> bool:
    # Pages (sign-in, sign-out) answer a browser with a redirect; their bodies are
    # small forms, bounded below like any other.
    return path.startswith("/api/")


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "" or media == "application/json" or media.endswith("+json")


async def _answer(send: Send, status: int, detail: str, *, close: bool) -> None:
    """A JSON error; `close` ends the connection, so an unread body is never read."""
    body = json.dumps({"detail": detail}, ensure_ascii=True).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    if status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class BodyLimits:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if _needs_auth(path):
            try:
                auth = await authenticate_request(Request(scope))
            except LitgapError as err:
                await _answer(send, err.status_code, err.detail, close=True)
                return
            scope.setdefault("state", {})["auth"] = auth
        headers = Headers(scope=scope)
        content_type = headers.get("content-type", "")
        upload = content_type.lower().startswith("multipart/form-data")
        limit = (
            self.settings.max_upload_bytes + MULTIPART_SLACK
            if upload
            else self.settings.max_json_bytes
        )
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > limit:
            await _answer(send, 413, _too_large(limit, upload, int(length)), close=True)
            return
        if not upload and _is_json(content_type):
            await self._json(scope, receive, send, limit)
            return
        await self._counted(scope, receive, send, limit, upload)

    async def _json(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _answer(send, 413, _too_large(limit, False), close=True)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        try:
            _check_json_body(body)
        except InvalidInput as err:
            await _answer(send, err.status_code, err.detail, close=False)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()  # waits for the disconnect, as a server would
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _counted(
        self, scope: Scope, receive: Receive, send: Send, limit: int, upload: bool
    ) -> None:
        size = 0
        exceeded = False
        started = False

        async def counted() -> Message:
            nonlocal size, exceeded
            if exceeded:
                raise PayloadTooLarge(_too_large(limit, upload))
            message = await receive()
            if message["type"] == "http.request":
                size += len(message.get("body", b""))
                if size > limit:
                    # Raised inside the reader: the form parser closes (and so deletes)
                    # every file it spooled so far.
                    exceeded = True
                    raise PayloadTooLarge(_too_large(limit, upload))
            return message

        async def guarded(message: Message) -> None:
            nonlocal started
            if exceeded:
                # Whatever the route made of the error, the answer is 413.
                if not started:
                    started = True
                    await _answer(send, 413, _too_large(limit, upload), close=True)
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, guarded)
        except Exception:
            if not exceeded:
                raise
        if exceeded and not started:
            await _answer(send, 413, _too_large(limit, upload), close=True)


def _too_large(limit: int, upload: bool, length: int | None = None) -> str:
    what = "upload" if upload else "request body"
    size = f" of {length} bytes" if length is not None else ""
    limit_shown = limit - MULTIPART_SLACK if upload else limit
    setting = "LITGAP_MAX_UPLOAD_BYTES" if upload else "LITGAP_MAX_JSON_BYTES"
    return f"{what}{size} exceeds the limit of {limit_shown} bytes ({setting}); nothing was saved"


def _check_json_body(body: bytes) -> None:
    """422 for a JSON body that no route could store; malformed JSON is left to the
    route, whose message names the place."""
    if not body:
        return
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InvalidInput(
            f"body: not UTF-8 text (byte 0x{body[err.start : err.start + 1].hex()} "
            f"at offset {err.start})"
        ) from err
    try:
        value: Any = json.loads(text)
    except json.JSONDecodeError:
        return
    except RecursionError as err:
        raise InvalidInput("body: JSON nested too deeply") from err
    check_json(value, "")
