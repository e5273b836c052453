"""The embedded default runs without the `cluster` extra: nothing imports procrastinate
or psycopg until a cluster is asked for, and then the error says what to install."""

import os
import subprocess
import sys
from pathlib import Path

# Makes the cluster's packages unimportable in a child interpreter, as in an install
# without the extra.
BLOCK = """
import importlib.abc, runpy, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("procrastinate", "psycopg", "psycopg_pool"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, Block())
sys.argv = ["litgap", *sys.argv[1:]]
runpy.run_module("litgap", run_name="__main__")
"""


def _litgap(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BLOCK, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )


def test_the_embedded_default_runs_a_job_without_the_cluster_packages(tmp_path: Path) -> None:
    corpus = Path(__file__).parents[2] / "src" / "litgap" / "sample" / "corpus"
    done = _litgap(
        "run",
        "--workspace",
        str(tmp_path / "ws"),
        "--corpus",
        str(corpus),
        "--pillar-selection",
        "ALL",
        "--run-mode",
        "ONCE",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "completed" in done.stdout


def test_a_worker_without_the_cluster_packages_says_what_to_install(
    tmp_path: Path, database_url: str
) -> None:
    env = {**os.environ, "LITGAP_DATABASE_URL": database_url}
    done = _litgap("worker", "--workspace", str(tmp_path / "ws"), env=env)
    assert done.returncode != 0
    assert "pip install 'litgap[cluster]'" in done.stdout + done.stderr
