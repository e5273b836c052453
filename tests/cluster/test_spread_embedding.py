"""A large corpus's embedding spread over a cluster's workers: the run shares it out as
tasks on the queue, idle workers embed shares into the shared embedding cache, and the
report is byte for byte the one a single machine writes."""

import asyncio
import io
from pathlib import Path

from litgap.config import JobConfig
from litgap.pipeline import load_framework, sample_framework_path
from litgap.runtime import Runtime, open_runtime
from litgap.services import jobs as job_service
from litgap.services.inputs import InputFile
from tests.audit_helpers import run_job
from tests.big_inputs import sentence_papers
from tests.cluster.conftest import Cluster
from tests.conftest import make_settings

PRESET = {"pillar_selections": "ALL", "run_mode": "ONCE", "scorer": "semantic"}
REPORT = "results/gap_analysis_report.json"


def _papers() -> list[tuple[str, bytes]]:
    """60 papers of real sentences: about 600 chunk groups to embed, three shares."""
    framework = load_framework(sample_framework_path())
    echoes = [
        sub.text
        for pillar in framework.select(framework.pillar_names())
        for _, sub in pillar.sub_requirements()
    ]
    return [
        (f"paper-{n:02d}.txt", text.encode())
        for n, text in enumerate(sentence_papers(60, 1500, echoes))
    ]


def _create(rt: Runtime, papers: list[tuple[str, bytes]]) -> str:
    files = [InputFile(name, io.BytesIO(data)) for name, data in papers]
    row = job_service.create_job(rt, files=files, config=JobConfig(**PRESET))
    return str(row["job_id"])


def _single_machine_report(root: Path, papers: list[tuple[str, bytes]]) -> bytes:
    rt = open_runtime(make_settings(root))
    try:
        job_id = _create(rt, papers)
        assert asyncio.run(run_job(rt, job_id))["status"] == "completed"
        return (rt.workspace.job_dir(job_id) / REPORT).read_bytes()
    finally:
        rt.close()


def test_a_large_embedding_is_spread_over_the_workers_with_a_single_machines_result(
    cluster: Cluster, tmp_path: Path
) -> None:
    papers = _papers()
    alone = _single_machine_report(tmp_path / "alone", papers)
    rt = cluster.runtime()
    try:
        job_id = _create(rt, papers)
    finally:
        rt.close()
    workers = [cluster.start_worker("--verbose") for _ in range(2)]
    with cluster.server.client() as http:
        assert http.post(f"/api/jobs/{job_id}/start").status_code == 202
        cluster.wait_until(
            lambda: http.get(f"/api/jobs/{job_id}").json()["status"] == "completed",
            "the job to complete",
            timeout=180,
        )
    shared = (cluster.workspace / "jobs" / job_id / REPORT).read_bytes()
    assert shared == alone
    # A worker that did not run the job embedded a share of it.
    logs = [w.log.read_text(errors="replace") for w in workers]
    assert any("'worked': True" in log for log in logs), cluster.logs()
    assert list((cluster.workspace / "cache" / "embedding-plans").iterdir()) == []
