"""Two processes on one workspace never run the same job at once: the second leaves
it to the run that holds the job's lock."""

import subprocess
import sys
import time
from pathlib import Path

from litgap.runtime import open_runtime
from litgap.services.jobs import create_sample_job
from litgap.settings import Settings
from litgap.status import JobStatus
from litgap.store import jobs as job_rows

ROOT = Path(__file__).resolve().parents[2]

# Runs the job until its first decision is asked, then waits for an answer that never
# comes: "ran" after HOLD seconds (the run still going), "left" if run_job returned.
RUNNER = """
import asyncio, sys, time
from pathlib import Path
from litgap.executor.runner import run_job
from litgap.runtime import open_runtime
from litgap.settings import Settings

workspace, job_id, go = sys.argv[1:4]
rt = open_runtime(Settings(workspace=Path(workspace)))
while not Path(go).exists():
    time.sleep(0.002)

async def main() -> str:
    try:
        await asyncio.wait_for(run_job(rt, job_id), 8)
    except TimeoutError:
        return "ran"
    return "left"

print(asyncio.run(main()), flush=True)
"""


def test_two_processes_starting_one_job_at_once_run_it_once(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    rt = open_runtime(Settings(workspace=workspace))
    job_id = create_sample_job(rt)["job_id"]  # no presets: the run asks and waits
    job_rows.transition(rt.engine, job_id, JobStatus.QUEUED)
    go = tmp_path / "go"
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", RUNNER, str(workspace), job_id, str(go)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    time.sleep(2)  # both opened the workspace and wait for the signal
    go.touch()
    outcomes = sorted(run.communicate(timeout=60)[0].strip() for run in runs)
    assert [run.returncode for run in runs] == [0, 0]
    assert outcomes == ["left", "ran"]
    assert job_rows.get_job(rt.engine, job_id)["status"] == JobStatus.WAITING_INPUT.value
    rt.close()
