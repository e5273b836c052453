"""A dashboard and two workers: many jobs wait for people at once while every worker
is free, and all of them finish, their histories complete, once they are answered."""

import json
from typing import Any

from tests.cluster.conftest import Cluster

JOBS = 50


class Watcher:
    """Follows /ws: the latest pending prompt and status of each job."""

    def __init__(self, ws: Any, job_ids: set[str]) -> None:
        self.ws = ws
        self.job_ids = job_ids
        self.asked: dict[str, dict[str, Any]] = {}
        self.status: dict[str, str] = {}

    def wait_for(self, done: Any, timeout: float = 90) -> None:
        import time

        deadline = time.monotonic() + timeout
        while not done():
            event = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            data = event["data"]
            if data.get("job_id") not in self.job_ids:
                continue
            if event["type"] == "prompt_request":
                self.asked[data["job_id"]] = data
            elif event["type"] == "job_update" and "status" in data:
                self.status[data["job_id"]] = data["status"]

    def all_asked(self, prompt_type: str) -> bool:
        return all(self.asked.get(j, {}).get("type") == prompt_type for j in self.job_ids)

    def all_status(self, status: str) -> bool:
        return all(self.status.get(j) == status for j in self.job_ids)


def test_fifty_waiting_jobs_hold_no_worker_and_all_finish(cluster: Cluster) -> None:
    for _ in range(2):
        cluster.start_worker()
    with cluster.server.client() as http, cluster.server.events() as ws:
        job_ids = [
            http.post("/api/jobs", json={"sample": True}).json()["job_id"] for _ in range(JOBS)
        ]
        watcher = Watcher(ws, set(job_ids))
        for job_id in job_ids:
            assert http.post(f"/api/jobs/{job_id}/start").status_code == 202

        # Every job asks on a worker; each question reaches this browser by itself.
        watcher.wait_for(
            lambda: watcher.all_asked("pillar_selection") and watcher.all_status("waiting_input")
        )
        # No run is doing or waiting: the suspended runs have let go of their workers.
        cluster.wait_until(lambda: not cluster.runs("todo", "doing"), "every run to end", 10)
        rows = cluster.queue_rows()
        timeouts = [r for r in rows if r["task_name"] == "litgap.expire_prompt"]
        assert len(timeouts) == JOBS and all(r["status"] == "todo" for r in timeouts)
        listed = http.get("/api/jobs", params={"status": "waiting_input", "limit": 100}).json()
        assert {j["job_id"] for j in listed["jobs"]} == set(job_ids)

        for job_id in job_ids:
            prompt_id = watcher.asked[job_id]["prompt_id"]
            answer = http.post(f"/api/prompts/{prompt_id}/respond", json={"response": "ALL"})
            assert answer.status_code == 200, answer.text
        watcher.wait_for(lambda: watcher.all_asked("run_mode"))
        for job_id in job_ids:
            prompt_id = watcher.asked[job_id]["prompt_id"]
            answer = http.post(f"/api/prompts/{prompt_id}/respond", json={"response": "ONCE"})
            assert answer.status_code == 200, answer.text
        watcher.wait_for(lambda: watcher.all_status("completed"))

    for job_id in job_ids:
        folder = cluster.workspace / "jobs" / job_id
        document = json.loads((folder / "job_data.json").read_text())
        assert document["status"] == "completed", document
        assert [
            (p["type"], p["response"], p["source"], p["answered_by"]) for p in document["prompts"]
        ] == [
            ("pillar_selection", "ALL", "user", "operator"),
            ("run_mode", "ONCE", "user", "operator"),
        ]
        assert (folder / "results" / "gap_analysis_report.json").is_file()
