"""100 jobs x 100 answers through HTTP against a live server (`--mode users` and
`--mode big`: real jobs from real users, see bench/load_users.py).

The server runs in a child process (uvicorn, SQLite, fsync on). In it, 100 running jobs
each ask 100 prompts in a row through `JobContext.ask`, as a job's flow does: the
prompt, the job's move to waiting_input and back, and their events (the analysis
between prompts is left out). This process watches /ws for prompt_request events and
answers each one with POST /api/prompts/{id}/respond, 100 jobs at once. Prints answers
per second (goal >= 1,000/s), the POST round trip p50/p99, and answer -> next prompt
p50/p99; then checks that all 10,000 records are in the job documents.
"""

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
JOBS, ANSWERS = int(os.environ.get("LOAD_JOBS", 100)), int(os.environ.get("LOAD_ANSWERS", 100))


def run_server(workspace: Path, port: int) -> None:
    """Child process: the app as `litgap serve` runs it (same settings, same event loop),
    plus 100 jobs whose flows only ask."""
    from litgap.settings import Settings
    from litgap.web.server import freeze_startup_objects, server_config

    config = server_config(Settings(workspace=workspace, port=port))
    freeze_startup_objects()
    with asyncio.Runner(loop_factory=config.get_loop_factory()) as runner:
        runner.run(serve(config))


async def serve(config: Any) -> None:
    import uvicorn

    from litgap.config import StoredConfig
    from litgap.context import JobContext
    from litgap.responses import PromptSpec
    from litgap.status import JobStatus
    from litgap.store import jobs as job_rows
    from tests.helpers import new_job

    app = config.app
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    rt = app.state.runtime

    async def flow(job_id: str) -> None:
        for status in (JobStatus.QUEUED, JobStatus.RUNNING):  # as a start does
            job_rows.transition(rt.engine, job_id, status)
        ctx = JobContext(rt, job_id, StoredConfig())
        for seq in range(ANSWERS):
            spec = PromptSpec(
                type="continue",
                message=f"Step {seq}: continue?",
                options=["yes", "no"],
                default="no",
                context={"iteration": seq},
            )
            await ctx.ask(spec)

    job_ids = [new_job(rt) for _ in range(JOBS)]
    print(json.dumps(job_ids), flush=True)
    await asyncio.gather(*(flow(j) for j in job_ids))
    rt.docs.flush()
    print("done", flush=True)
    await task


class Connection:
    """One keep-alive HTTP/1.1 connection speaking just enough HTTP to POST an answer.
    A general client (httpx) costs more CPU per request than the server does, and on
    two cores the load generator would measure itself."""

    def __init__(self, port: int, token: str) -> None:
        self.port, self.token = port, token
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        # The job may ask again before this answer's response is read: one at a time.
        self.lock = asyncio.Lock()

    async def post(self, path: str, body: bytes) -> int:
        async with self.lock:
            return await self._post(path, body)

    async def _post(self, path: str, body: bytes) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {self.token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        status_line = await self.reader.readline()
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        await self.reader.readexactly(length)
        return int(status_line.split()[1])


async def drive(port: int, token: str, job_ids: list[str]) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    posts: list[float] = []
    trips: list[float] = []
    answered_at: dict[str, float] = {}
    connections = {job_id: Connection(port, token) for job_id in job_ids}
    body = json.dumps({"response": "yes"}).encode()

    async def answer(prompt_id: str, job_id: str) -> None:
        started = time.perf_counter()
        status = await connections[job_id].post(f"/api/prompts/{prompt_id}/respond", body)
        assert status == 200, status
        posts.append(time.perf_counter() - started)
        answered_at[job_id] = started

    remaining = JOBS * ANSWERS
    pending: set[asyncio.Task[None]] = set()
    async with connect(
        f"ws://127.0.0.1:{port}/ws", additional_headers=headers, max_size=None, close_timeout=1
    ) as ws:
        snapshot = json.loads(await ws.recv())
        queue = [(p["prompt_id"], p["job_id"]) for p in snapshot["data"]["pending_prompts"]]
        for prompt_id, job_id in queue:
            pending.add(asyncio.create_task(answer(prompt_id, job_id)))
            remaining -= 1
        seen = {p for p, _ in queue}
        while remaining:
            event = json.loads(await ws.recv())
            if event["type"] != "prompt_request":
                continue
            data = event["data"]
            if data["prompt_id"] in seen:
                continue
            seen.add(data["prompt_id"])
            if data["job_id"] in answered_at:
                trips.append(time.perf_counter() - answered_at[data["job_id"]])
            pending.add(asyncio.create_task(answer(data["prompt_id"], data["job_id"])))
            remaining -= 1
        await asyncio.gather(*pending)
        # The clock stops at the last acknowledged answer, not after the close handshake:
        # events this client no longer reads fill its queue and delay the close frame.
        finished = time.perf_counter()
    return {"posts": posts, "trips": trips, "finished": finished}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--serve":
        run_server(Path(sys.argv[2]), int(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--mode",
        choices=["answers", "users", "big"],
        default="answers",
        help="answers: 100 jobs x 100 answers (below); users, big: see bench/load_users.py",
    )
    parser.add_argument("--seconds", type=float, default=60.0, help="users, big: duration")
    parser.add_argument("--users", type=int, default=50, help="users: concurrent users")
    options = parser.parse_args()
    if options.mode != "answers":
        import load_users

        if options.mode == "users":
            load_users.run_users(options.users, options.seconds)
        else:
            load_users.run_big(options.seconds)
        return
    from litgap.runtime import open_runtime
    from litgap.services.auth import Role, create_user
    from litgap.settings import Settings
    from tests.live import free_port

    with tempfile.TemporaryDirectory() as tmp:
        workspace = Path(tmp) / "ws"
        rt = open_runtime(Settings(workspace=workspace))
        token = create_user(rt.engine, "load", Role.OPERATOR)[1]
        rt.close()
        port = free_port()
        child = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(workspace), str(port)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        assert child.stdout is not None
        job_ids = json.loads(child.stdout.readline())
        started = time.perf_counter()
        try:
            figures = asyncio.run(drive(port, token, job_ids))
            elapsed = figures["finished"] - started
            assert child.stdout.readline().strip() == "done"
        finally:
            child.terminate()
            child.wait()
        rate = JOBS * ANSWERS / elapsed
        print(f"{JOBS} jobs x {ANSWERS} answers over HTTP in {elapsed:.1f} s")
        print(f"answers per second: {rate:.0f}  (goal >= 1000; ratio {rate / 1000:.2f})")
        print(
            f"POST respond: p50 {pct(figures['posts'], 0.5):.1f} ms, "
            f"p99 {pct(figures['posts'], 0.99):.1f} ms"
        )
        print(
            f"answer -> next prompt: p50 {pct(figures['trips'], 0.5):.1f} ms, "
            f"p99 {pct(figures['trips'], 0.99):.1f} ms"
        )
        total = 0
        for job_id in job_ids:
            records = json.loads((workspace / "jobs" / job_id / "job_data.json").read_text())[
                "prompts"
            ]
            assert [r["seq"] for r in records] == list(range(ANSWERS)), job_id
            total += len(records)
    print(f"records in job_data.json files: {total} (expected {JOBS * ANSWERS})")


if __name__ == "__main__":
    main()
