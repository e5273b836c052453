"""A posted write (a job's progress) is committed without its caller waiting, in the
order it was queued."""

from pathlib import Path

from litgap.runtime import open_runtime
from litgap.settings import Settings
from litgap.status import JobStatus
from litgap.store import jobs as job_rows
from tests.helpers import new_job


def test_progress_posted_before_a_transition_is_committed_with_it(tmp_path: Path) -> None:
    rt = open_runtime(Settings(workspace=tmp_path / "ws"))
    job_id = new_job(rt)
    job_rows.set_progress(rt.engine, job_id, 42.0, "scoring")
    # The transition waits for its commit; the progress queued before it is in it, or
    # in an earlier one.
    job_rows.transition(rt.engine, job_id, JobStatus.QUEUED)
    row = job_rows.get_job(rt.engine, job_id)
    assert (row["progress"], row["stage"]) == (42.0, "scoring")
    rt.close()
