"""One chat-completions call to an OpenAI-compatible server, with bounded retries and a
per-job budget of calls.

httpx against the documented protocol (`POST {base_url}/chat/completions`) rather than
the `openai` package: httpx is already a dependency, the protocol we use is one request
and one response, and we need what a client library hides — the exact request bytes
(their hash is recorded), the raw response text and the server's own model name — on
every server that speaks the protocol (llama.cpp, vLLM, Ollama, hosted APIs), none of
which the `openai` package's version churn should decide.

Errors: `LLMUnreachable` (no connection after the retries) and `LLMRejected` (the key is
wrong, the URL or model unknown: 400/401/403/404) stop a whole review; `LLMFailed`
(429, 5xx, timeouts after the retries) fails one passage; `BudgetExhausted` when the
job's calls are spent. No message ever holds the API key.
"""

import asyncio
import json
import socket
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from litgap.exceptions import LitgapError
from litgap.llm.settings import LLMNotConfigured, LLMSettings

RETRY_AFTER_CAP = 30.0
MAX_SHOWN = 200  # characters of a server's error text kept in a message


class LLMError(LitgapError):
    """A model call that gave no answer."""


class LLMUnreachable(LLMError):
    """The server could not be reached (connection refused, DNS, TLS)."""


class LLMRejected(LLMError):
    """The server refused the request itself: the key, the URL or the model is wrong."""


class LLMFailed(LLMError):
    """No answer after the retries (429, 5xx, timeouts, a broken response)."""


class BudgetExhausted(LLMError):
    """The job's budget of calls is spent."""


class Budget:
    """Calls a job may still make; every HTTP attempt counts (a retry costs a call)."""

    def __init__(self, limit: int, used: int = 0) -> None:
        self.limit = limit
        self.used = used

    def take(self) -> None:
        """Count one call. Raises BudgetExhausted when none is left."""
        if self.used >= self.limit:
            raise BudgetExhausted(f"the job's budget of {self.limit} model calls is spent")
        self.used += 1


@dataclass(frozen=True)
class Completion:
    """What one answered call returned."""

    content: str | None
    refusal: str | None
    finish_reason: str | None
    model: str  # as the server reported it (the requested name when it says none)
    prompt_tokens: int
    completion_tokens: int
    latency_ms: float
    attempts: int


def server_name(base_url: str) -> str:
    """scheme://host:port of the URL: what a message may show (no credentials, no path)."""
    parts = urlsplit(base_url)
    host = parts.hostname or "?"
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")


class ChatClient:
    """An httpx client for one review; use as `async with ChatClient(...) as client`."""

    def __init__(
        self,
        settings: LLMSettings,
        budget: Budget,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not settings.base_url or not settings.model:
            raise LLMNotConfigured(
                "no model server configured: set LITGAP_LLM_BASE_URL and LITGAP_LLM_MODEL"
            )
        self.settings = settings
        self.model = settings.model
        self.budget = budget
        self._server = server_name(settings.base_url)
        self._key = settings.key()
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        self._http = httpx.AsyncClient(
            base_url=settings.base_url.rstrip("/") + "/",
            headers=headers,
            timeout=httpx.Timeout(settings.timeout_seconds),
            limits=httpx.Limits(max_connections=settings.concurrency),
            # Headers and body leave in two writes: without TCP_NODELAY the second
            # waits for the server's delayed ACK (~40 ms a call on Linux).
            transport=transport
            or httpx.AsyncHTTPTransport(
                socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
                limits=httpx.Limits(max_connections=settings.concurrency),
            ),
            follow_redirects=False,
        )

    async def __aenter__(self) -> "ChatClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._http.aclose()

    def _shown(self, text: str) -> str:
        text = " ".join(text.split())[:MAX_SHOWN]
        return text.replace(self._key, "***") if self._key else text

    async def complete(self, body: bytes) -> Completion:
        """POST one request (its exact bytes) and return the answer. Raises as the
        module says; a retry waits retry_seconds, doubled each time, or Retry-After."""
        retries = self.settings.retries
        last = ""
        for attempt in range(retries + 1):
            self.budget.take()
            started = time.perf_counter()
            pause = self.settings.retry_seconds * (2**attempt)
            try:
                response = await self._http.post("chat/completions", content=body)
            except httpx.TimeoutException:
                last = f"no answer within {self.settings.timeout_seconds:g} s"
            except httpx.TransportError as err:
                if attempt == retries:
                    raise LLMUnreachable(
                        f"the model server {self._server} is unreachable "
                        f"({type(err).__name__}: {self._shown(str(err)) or 'no detail'})"
                    ) from None
                last = f"connection failed ({type(err).__name__})"
            except httpx.HTTPError as err:  # a broken response (decoding, protocol)
                last = f"a broken response ({type(err).__name__})"
            else:
                latency = (time.perf_counter() - started) * 1000
                status = response.status_code
                if status == 200:
                    try:
                        return self._completion(response.text, latency, attempt + 1)
                    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
                        last = "the response is not a chat completion"
                elif status in (401, 403):
                    raise LLMRejected(
                        f"the model server {self._server} refused the API key (HTTP {status}): "
                        "check LITGAP_LLM_API_KEY or LITGAP_LLM_API_KEY_FILE"
                    )
                elif status in (400, 404, 422):
                    raise LLMRejected(
                        f"the model server {self._server} refused the request (HTTP {status}): "
                        f"{self._error_text(response)} (check LITGAP_LLM_BASE_URL and "
                        "LITGAP_LLM_MODEL)"
                    )
                else:
                    last = f"HTTP {status}: {self._error_text(response)}"
                    if status == 429:
                        pause = max(pause, _retry_after(response))
            if attempt < retries:
                await asyncio.sleep(pause)
        raise LLMFailed(f"{last} (after {retries + 1} attempts)")

    def _error_text(self, response: httpx.Response) -> str:
        try:
            data = response.json()
            error = data.get("error", data) if isinstance(data, dict) else data
            text = error.get("message", "") if isinstance(error, dict) else str(error)
        except ValueError:
            text = response.text
        return self._shown(str(text)) or "no detail"

    def _completion(self, text: str, latency_ms: float, attempts: int) -> Completion:
        data: dict[str, Any] = json.loads(text)
        choice = data["choices"][0]
        message = choice.get("message") or {}
        usage = data.get("usage") or {}
        content = message.get("content")
        refusal = message.get("refusal")
        if content is not None and not isinstance(content, str):
            raise TypeError("content is not a string")
        return Completion(
            content=content,
            refusal=str(refusal) if refusal else None,
            finish_reason=choice.get("finish_reason"),
            model=str(data.get("model") or self.model)[:200],
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=int(usage.get("completion_tokens") or 0),
            latency_ms=round(latency_ms, 1),
            attempts=attempts,
        )


def _retry_after(response: httpx.Response) -> float:
    try:
        return min(RETRY_AFTER_CAP, max(0.0, float(response.headers.get("retry-after", 0))))
    except ValueError:
        return 0.0
