"""A real HTTP server that speaks the chat-completions protocol, with deterministic
answers: the protocol boundary of the model reviewer, not a mock of our code.

Every answer is a function of the request: the verdict is chosen by the sha256 of the
user message (so the same passage always gets the same verdict), unless a rule (a
substring of the user message) or the script (behaviours taken by the next calls, in
order) says otherwise. Behaviours: "ok", "malformed" (not JSON), "fenced" (JSON in a
``` fence), "badlabel" (JSON with an unknown verdict), "refuse", "429", "500", "slow"
(sleeps `slow_seconds` first), "broken" (a 200 that is not a completion).
"""

import hashlib
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

VERDICTS = ("supports", "supports", "does_not_support", "does_not_support", "unclear")


def expected_label(user_message: str) -> str:
    """The verdict an "ok" answer gives for this user message."""
    digest = hashlib.sha256(user_message.encode()).digest()
    return VERDICTS[digest[0] % len(VERDICTS)]


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    raw: bytes
    behaviour: str


@dataclass
class ChatServer:
    """Start with `chat_server(...)`; `url` is the base URL to configure (…/v1)."""

    api_key: str | None = None
    model: str = "fixture-model-q4"
    latency: float = 0.0
    slow_seconds: float = 5.0
    script: list[str] = field(default_factory=list)
    rules: dict[str, str] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    port: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def calls(self) -> int:
        with self._lock:
            return len(self.received)

    def user_messages(self) -> list[str]:
        with self._lock:
            return [r.body["messages"][-1]["content"] for r in self.received]

    def behaviour_for(self, user: str) -> str:
        with self._lock:
            if self.script:
                return self.script.pop(0)
        for needle, behaviour in self.rules.items():
            if needle in user:
                return behaviour
        return "ok"

    def start(self) -> "ChatServer":
        server = ThreadingHTTPServer(("127.0.0.1", self.port), _handler(self))
        server.daemon_threads = True
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@contextmanager
def chat_server(**options: Any) -> Iterator[ChatServer]:
    server = ChatServer(**options).start()
    try:
        yield server
    finally:
        server.stop()


def _completion(server: ChatServer, content: str | None, refusal: str | None = None) -> bytes:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if refusal is not None:
        message["refusal"] = refusal
    return json.dumps(
        {
            "id": "chatcmpl-fixture",
            "object": "chat.completion",
            "created": 0,
            "model": server.model,
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
        }
    ).encode()


def _handler(server: ChatServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # as real servers do: no 40 ms delayed-ACK stalls

        def log_message(self, format: str, *args: Any) -> None:
            return  # quiet

        def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

        def _error(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
            self._send(status, json.dumps({"error": {"message": message}}).encode(), headers)

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path != "/v1/chat/completions":
                self._error(404, f"no route {self.path}")
                return
            body = json.loads(raw)
            user = body["messages"][-1]["content"]
            behaviour = server.behaviour_for(user)
            with server._lock:
                server.received.append(
                    Received(self.path, dict(self.headers.items()), body, raw, behaviour)
                )
            if server.api_key is not None and (
                self.headers.get("Authorization") != f"Bearer {server.api_key}"
            ):
                self._error(401, "Incorrect API key provided")
                return
            if server.latency:
                time.sleep(server.latency)
            if behaviour == "slow":
                time.sleep(server.slow_seconds)
                behaviour = "ok"
            if behaviour == "429":
                self._error(429, "rate limited", {"Retry-After": "0"})
            elif behaviour == "500":
                self._error(500, "internal error")
            elif behaviour == "broken":
                self._send(200, b'{"choices": "nope"}')
            elif behaviour == "refuse":
                self._send(200, _completion(server, None, refusal="I cannot help with that."))
            elif behaviour == "malformed":
                self._send(200, _completion(server, "Sure! The passage supports it."))
            elif behaviour == "badlabel":
                self._send(200, _completion(server, '{"verdict": "maybe", "reason": "hm"}'))
            else:
                label = expected_label(user)
                answer = json.dumps({"verdict": label, "reason": f"fixture says {label}"})
                if behaviour == "fenced":
                    answer = f"```json\n{answer}\n```"
                self._send(200, _completion(server, answer))

    return Handler


def main() -> None:
    """Run the fixture server alone (the benchmark runs it in a process of its own):
    `python -m tests.llm_server --port N --latency S`; prints the port, serves forever."""
    import argparse
    import sys

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0)
    args = parser.parse_args()
    server = ChatServer(latency=args.latency, port=args.port).start()
    print(server.port, flush=True)
    try:
        sys.stdin.read()  # until the parent closes our stdin
    finally:
        server.stop()


if __name__ == "__main__":
    main()
