"""What a crash leaves behind, removed at start-up (and logged).

- An orphan job folder: under workspace/jobs, named like a job, with no job row and
  no readable job_data.json (a crash while the job was being created). A folder with
  a row is the store's; one with a valid document and no row is a legacy job, which
  `import_job_folders` imports: neither is ever touched.
- A stale temp file: `.<name>.<random>.tmp`, what `atomic.write_atomic` writes before
  its rename, left by a crash between the two.
- A blob no job links to any more (`blobs.sweep`).
- An embedding plan a killed run left in the cache (`scorers/spread.py`), unchanged
  for PLAN_AGE_SECONDS: a helper would otherwise work its shares for no one.

Only what has not changed for `min_age` seconds is removed, so a job another process
is creating at this moment, or a write under way, is left alone.
"""

import json
import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from litgap.blobs import sweep
from litgap.exceptions import InvalidJobId
from litgap.ids import validate_job_id
from litgap.pipeline.cache import PLANS
from litgap.runtime import Runtime
from litgap.store import jobs as job_rows

log = logging.getLogger(__name__)
MIN_AGE_SECONDS = 300.0
PLAN_AGE_SECONDS = 3600.0  # a run's plan changes only when it starts: give it an hour


@dataclass
class Cleanup:
    """What was removed."""

    job_folders: list[Path] = field(default_factory=list)
    temp_files: list[Path] = field(default_factory=list)
    blobs: list[Path] = field(default_factory=list)
    plans: list[Path] = field(default_factory=list)


def _newest_mtime(folder: Path) -> float:
    newest = folder.lstat().st_mtime
    for root, dirs, files in os.walk(folder):
        for name in (*dirs, *files):
            try:
                newest = max(newest, os.lstat(os.path.join(root, name)).st_mtime)
            except OSError:
                continue
    return newest


def _has_document(folder: Path) -> bool:
    try:
        data = json.loads((folder / "job_data.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict)


def orphan_job_folders(rt: Runtime, min_age: float = MIN_AGE_SECONDS) -> list[Path]:
    """Job folders with no row and no valid job_data.json, unchanged for `min_age` s."""
    jobs_dir = rt.workspace.jobs_dir
    if not jobs_dir.is_dir():
        return []
    known = {job_id for job_id, _updated, _legacy in job_rows.document_states(rt.engine)}
    cutoff = time.time() - min_age
    found = []
    for folder in sorted(jobs_dir.iterdir()):
        try:
            job_id = validate_job_id(folder.name)
        except InvalidJobId:
            continue  # not a job's folder: not ours to judge
        if job_id in known or folder.is_symlink() or not folder.is_dir():
            continue
        if _has_document(folder) or job_rows.job_exists(rt.engine, job_id):
            continue  # a legacy job, or one created since the listing
        try:
            if _newest_mtime(folder) > cutoff:
                continue
        except OSError:
            continue
        found.append(folder)
    return found


def stale_temp_files(root: Path, min_age: float = MIN_AGE_SECONDS) -> list[Path]:
    """`.*.tmp` files under `root` (links not followed) unchanged for `min_age` s."""
    cutoff = time.time() - min_age
    found = []
    for folder, _dirs, files in os.walk(root):
        for name in files:
            if not (name.startswith(".") and name.endswith(".tmp")):
                continue
            path = Path(folder, name)
            try:
                info = path.lstat()
            except OSError:
                continue
            if path.is_file() and not path.is_symlink() and info.st_mtime <= cutoff:
                found.append(path)
    return found


def remove_leftovers(rt: Runtime, min_age: float = MIN_AGE_SECONDS) -> Cleanup:
    """Remove orphan job folders and stale temp files from the workspace; each removal
    is logged. Run at start-up, after old job folders were imported."""
    done = Cleanup()
    for folder in orphan_job_folders(rt, min_age):
        shutil.rmtree(folder, ignore_errors=True)
        if not folder.exists():
            log.warning("removed orphan job folder %s: no job row and no job_data.json", folder)
            done.job_folders.append(folder)
    root = rt.workspace.root
    if root.is_dir():
        for path in stale_temp_files(root, min_age):
            try:
                path.unlink()
            except OSError:
                continue
            log.warning("removed stale temp file %s", path)
            done.temp_files.append(path)
    done.blobs = sweep(rt.workspace.blobs_dir, min_age)
    for path in done.blobs:
        log.info("removed blob %s: no job links to it", path.name)
    done.plans = _old_files(root / "cache" / PLANS, max(min_age, PLAN_AGE_SECONDS))
    for path in done.plans:
        log.warning("removed %s: an embedding plan no run finished", path)
    return done


def _old_files(folder: Path, min_age: float) -> list[Path]:
    """Remove the files of `folder` unchanged for `min_age` s; the ones removed."""
    if not folder.is_dir():
        return []
    cutoff = time.time() - min_age
    removed = []
    for path in sorted(folder.iterdir()):
        try:
            if path.is_file() and not path.is_symlink() and path.stat().st_mtime <= cutoff:
                path.unlink()
                removed.append(path)
        except OSError:
            continue
    return removed
