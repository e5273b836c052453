"""The workspace folder: one folder per job, paths built only from validated ids."""

from dataclasses import dataclass
from pathlib import Path

from litgap.ids import validate_job_id

PRIVATE_DIR = 0o700


@dataclass(frozen=True)
class Workspace:
    root: Path

    @property
    def jobs_dir(self) -> Path:
        return self.root / "jobs"

    @property
    def blobs_dir(self) -> Path:
        return self.root / "blobs"

    def job_dir(self, job_id: str) -> Path:
        return self.jobs_dir / validate_job_id(job_id)

    def inputs_dir(self, job_id: str) -> Path:
        return self.job_dir(job_id) / "inputs"

    def results_dir(self, job_id: str) -> Path:
        return self.job_dir(job_id) / "results"

    def document(self, job_id: str) -> Path:
        return self.job_dir(job_id) / "job_data.json"

    def create_job_dirs(self, job_id: str) -> Path:
        """The job's folder with inputs/ and results/, private to this user (0700).
        Raises FileExistsError when the folder exists."""
        folder = self.job_dir(job_id)
        folder.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=False)
        (folder / "inputs").mkdir(mode=PRIVATE_DIR)
        (folder / "results").mkdir(mode=PRIVATE_DIR)
        return folder
