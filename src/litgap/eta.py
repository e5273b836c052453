"""How long a running job has left, from the measured rate of its current stage.

Each progress report (`JobContext.progress`) is noted here: the stage, when it began
and the progress it began at. The rate is the progress the stage has made per second
since it began; when a new stage begins, the stage that just ended gives the rate (its
whole progress over its whole time), so a job has an estimate from its second report
on. The estimate is live state of the process that runs the job, kept in memory and
never stored: a job whose progress is recorded elsewhere (a queue worker) has none.
"""

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

KEPT_JOBS = 10_000  # a job that ends without a final report is dropped, oldest first


@dataclass
class _Stage:
    name: str
    started: float  # time.monotonic() when the stage began
    progress: float  # percent at its start
    eta: float | None = None  # seconds left, as of `noted`
    noted: float = 0.0
    paused: float | None = None  # when the job began to wait for a decision


_stages: OrderedDict[str, _Stage] = OrderedDict()
_lock = threading.Lock()


def estimate(started: float, start_progress: float, now: float, progress: float) -> float | None:
    """Seconds until 100 % at the rate from (started, start_progress) to (now, progress),
    or None when no progress was made or no time has passed."""
    elapsed = now - started
    gained = progress - start_progress
    if elapsed <= 0 or gained <= 0:
        return None
    return max(0.0, (100.0 - progress) * elapsed / gained)


def note_progress(job_id: str, progress: float, stage: str, now: float | None = None) -> int | None:
    """Note a progress report (percent, stage name); returns the job's ETA in seconds
    (None while unknown). 100 % ends the job's entry."""
    now = time.monotonic() if now is None else now
    with _lock:
        if progress >= 100.0:
            _stages.pop(job_id, None)
            return None
        current = _stages.get(job_id)
        if current is not None and current.paused is not None:
            current.started += now - current.paused  # a report means it runs again
            current.paused = None
        if current is None:
            _stages[job_id] = _Stage(stage, now, progress, None, now)
            _trim()
            return None
        eta = estimate(current.started, current.progress, now, progress)
        if stage != current.name:
            current = _stages[job_id] = _Stage(stage, now, progress)
        current.eta, current.noted = eta, now
        _stages.move_to_end(job_id)
        return None if eta is None else round(eta)


def eta_seconds(job_id: str, now: float | None = None) -> int | None:
    """The job's ETA now: the last estimate less the time since it was made."""
    now = time.monotonic() if now is None else now
    with _lock:
        current = _stages.get(job_id)
        if current is None or current.eta is None:
            return None
        return round(max(0.0, current.eta - (now - current.noted)))


def pause(job_id: str, now: float | None = None) -> None:
    """The job waits for a human: the wait is not the stage's work."""
    now = time.monotonic() if now is None else now
    with _lock:
        current = _stages.get(job_id)
        if current is not None and current.paused is None:
            current.paused = now


def resume(job_id: str, now: float | None = None) -> None:
    """The job runs again: its stage's clock leaves the wait out."""
    now = time.monotonic() if now is None else now
    with _lock:
        current = _stages.get(job_id)
        if current is not None and current.paused is not None:
            waited = now - current.paused
            current.started += waited
            current.noted += waited
            current.paused = None


def forget(job_id: str) -> None:
    with _lock:
        _stages.pop(job_id, None)


def _trim() -> None:
    while len(_stages) > KEPT_JOBS:
        _stages.popitem(last=False)
