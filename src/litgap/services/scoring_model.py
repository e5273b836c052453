"""Whether the models installed here are the ones a job was scored with.

A replay or a revision promises the original's passages and scores again; with other
model files it would silently score differently. The original's report names every
model file it ran with its sha256 (`scorer.model.files`), which is compared with what
`scorer_info` finds installed now.
"""

import json
from typing import Any

from litgap.exceptions import NotReplayable
from litgap.runtime import Runtime

REPORT_JSON = "gap_analysis_report.json"


def recorded_scorer(rt: Runtime, job_id: str) -> dict[str, Any] | None:
    """The `scorer` entry of a job's report, or None without a readable report."""
    path = rt.workspace.results_dir(job_id) / REPORT_JSON
    try:
        scorer = json.loads(path.read_bytes()).get("scorer")
    except (OSError, ValueError, AttributeError):
        return None
    return scorer if isinstance(scorer, dict) else None


def check_same_models(rt: Runtime, job_id: str) -> None:
    """Raises NotReplayable when job `job_id` was scored by another version of its
    scorer, or naming the first model file that is missing or differs from the one it was
    scored with; a job without a report passes."""
    from litgap.pipeline import ModelUnavailable, scorer_info
    from litgap.pipeline.models import SCORER_VERSIONS

    recorded = recorded_scorer(rt, job_id) or {}
    name = str(recorded.get("name", "lexical"))
    version = recorded.get("version", 1)
    if name in SCORER_VERSIONS and (type(version) is not int or version != SCORER_VERSIONS[name]):
        # repr for anything but a plain number: a report's "2" must not read as 2.
        shown = version if type(version) is int else repr(version)
        raise NotReplayable(
            f"job {job_id!r} was scored by version {shown} of the {name} scorer, and this "
            f"litgap runs version {SCORER_VERSIONS[name]}: a re-run could not reproduce its scores"
        )
    model = recorded.get("model") or {}
    files = model.get("files")
    if not isinstance(files, dict) or not files:
        return
    try:
        now = (scorer_info(name, bool(recorded.get("rerank"))).get("model") or {}).get("files")
    except (ModelUnavailable, ValueError) as err:
        raise NotReplayable(
            f"job {job_id!r} was scored with {model.get('name')!r}, which cannot run here: {err}"
        ) from err
    now = now or {}
    for file, sha in sorted(files.items()):
        if now.get(file) != sha:
            found = f"sha256 {str(now[file])[:12]}…" if file in now else "not installed"
            raise NotReplayable(
                f"job {job_id!r} was scored with model file {file!r} (sha256 {str(sha)[:12]}…), "
                f"and here it is {found}: a re-run could not reproduce its scores"
            )
    extra = sorted(set(now) - set(files))
    if extra:
        raise NotReplayable(
            f"job {job_id!r} was scored without model file {extra[0]!r}, which this version's "
            f"{name} scorer runs: a re-run could not reproduce its scores"
        )
