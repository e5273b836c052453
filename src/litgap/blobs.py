"""Input files the workspace already holds, kept once by content: a new job's copy of
one is a hard link, so nothing is written or fsynced but the job's folder.

`<workspace>/blobs/<sha256>` is written atomically and never changed (like every input:
nothing is written in place), so a job's input that is a second name of it reads the
same bytes for as long as the job exists. A blob that no job names any more (one link
left) is removed by `sweep`.
"""

import hashlib
import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from litgap.atomic import write_atomic

PRIVATE_DIR = 0o700
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Blob:
    sha256: str
    size: int
    path: Path


def hold(blobs_dir: Path, source: Path) -> Blob:
    """`source`'s content as a blob of `blobs_dir`, stored (durably) unless it is there."""
    data = source.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    path = blobs_dir / sha
    if not path.is_file():
        blobs_dir.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
        write_atomic(path, data)  # two holding it at once rename the same bytes
    return Blob(sha, len(data), path)


def link(blob: Blob, target: Path) -> bool:
    """Give `blob` the new name `target`; True when it is a link (durable once its
    folder is fsynced), False when the disk has no hard links and it was copied (its
    data still to be fsynced). FileNotFoundError when the blob was swept meanwhile."""
    try:
        os.link(blob.path, target)
        return True
    except FileNotFoundError:
        raise
    except OSError:
        if not blob.path.is_file():
            raise FileNotFoundError(blob.path) from None
        shutil.copyfile(blob.path, target)
        return False


def sweep(blobs_dir: Path, min_age: float) -> list[Path]:
    """Remove the blobs no job links to whose links have not changed for `min_age` s
    (ctime moves with each link made or removed: the blob of a job created or deleted a
    moment ago is left alone). A blob removed while a job links it loses only its name
    here; the job's link keeps the bytes, and the next job holds it again."""
    if not blobs_dir.is_dir():
        return []
    cutoff = time.time() - min_age
    removed = []
    for path in sorted(blobs_dir.iterdir()):
        if not _SHA256.fullmatch(path.name):
            continue  # a temp file: stale ones are cleanup's
        try:
            stat = path.lstat()
        except OSError:
            continue
        if stat.st_nlink == 1 and stat.st_ctime < cutoff and path.is_file():
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed
