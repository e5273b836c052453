"""Embedding shared with helpers: real helper processes, the real model, real files.
Whoever embeds a share, the cache ends up with the same bytes; a share whose helper
died is redone by the run; a finished plan leaves nothing behind."""

import fcntl
import multiprocessing
import os
import pickle
import signal
import threading
from pathlib import Path
from typing import Any

import pytest

from litgap.pipeline import load_corpus, sample_corpus_paths
from litgap.pipeline.cache import FileCache
from litgap.pipeline.scorers import chunk_vectors, spread
from litgap.pipeline.scorers.encoders import Embedder

SPAWN = multiprocessing.get_context("spawn")  # a helper is a process of its own


def _papers() -> list[spread.PaperWork]:
    """The sample corpus's texts, cut into 25-word chunks embedded in groups of three."""
    papers = []
    for n, paper in enumerate(load_corpus(sample_corpus_paths()).papers):
        words = " ".join(page.text for page in paper.pages).split()
        chunks = [" ".join(words[i : i + 25]) for i in range(0, len(words), 25)][:12]
        groups = tuple((lo, min(lo + 3, len(chunks))) for lo in range(0, len(chunks), 3))
        texts = tuple(tuple(chunks[lo:hi]) for lo, hi in groups)
        papers.append(spread.PaperWork(f"{n:064x}", len(chunks), groups, texts))
    return papers


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder()


@pytest.fixture(scope="module")
def plan(embedder: Embedder) -> spread.Plan:
    return spread.split(embedder.files.digest, _papers(), size=4)


def _entries(cache_dir: Path, plan: spread.Plan) -> dict[str, bytes | None]:
    cache = FileCache(cache_dir)
    return {
        p.key: cache.get(chunk_vectors.NAMESPACE, p.key) for share in plan.shares for p in share
    }


class NoHelpers:
    def ask(self, cache_dir: Path, plan: str, shares: int) -> None:
        pass


def _alone(tmp_path: Path, plan: spread.Plan, embedder: Embedder) -> dict[str, bytes | None]:
    cache_dir = tmp_path / "alone"
    spread.run_plan(cache_dir, plan, embedder, NoHelpers())
    return _entries(cache_dir, plan)


def _help(cache_dir: Path, key: str, share: int, results: Any) -> None:
    results.put(spread.help_with(cache_dir, key, share))


class HelperProcesses:
    """Real helper processes for the plan's last shares, done before the run goes on
    (helpers that are quicker than the run: their shares are the run's to skip)."""

    def __init__(self, shares: int) -> None:
        self.shares = shares
        self.results = SPAWN.Queue()
        self.worked: list[dict[str, Any]] = []

    def ask(self, cache_dir: Path, plan: str, shares: int) -> None:
        processes = [
            SPAWN.Process(target=_help, args=(cache_dir, plan, share, self.results))
            for share in range(shares - self.shares, shares)
        ]
        for process in processes:
            process.start()
        for process in processes:
            process.join(timeout=120)
        self.worked = [self.results.get(timeout=10) for _ in processes]


def test_a_plan_shared_with_helpers_stores_what_embedding_alone_stores(
    tmp_path: Path, plan: spread.Plan, embedder: Embedder
) -> None:
    assert len(plan.shares) >= 3
    helpers = HelperProcesses(shares=2)
    cache_dir = tmp_path / "shared"
    embedded_before = embedder.texts_run
    spread.run_plan(cache_dir, plan, embedder, helpers)
    last = len(plan.shares)
    assert sorted(r["share"] for r in helpers.worked if r["worked"]) == [last - 2, last - 1]
    # The run embedded only the shares no helper had done.
    mine = sum(hi - lo for share in plan.shares[:-2] for p in share for lo, hi in p.groups)
    assert embedder.texts_run - embedded_before == mine
    assert _entries(cache_dir, plan) == _alone(tmp_path, plan, embedder)
    assert all(entry is not None for entry in _entries(cache_dir, plan).values())


def _hold_and_hang(lock: Path, held: Any) -> None:
    """A helper that took its share and died in the middle (it is killed here)."""
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    held.set()
    threading.Event().wait()


class HelperKilledInItsShare:
    def __init__(self, share: int) -> None:
        self.share = share
        self.held = SPAWN.Event()
        self.process: Any = None

    def ask(self, cache_dir: Path, plan: str, shares: int) -> None:
        lock = cache_dir / spread.PLANS / f"{plan}.{self.share}.lock"
        self.process = SPAWN.Process(target=_hold_and_hang, args=(lock, self.held))
        self.process.start()
        assert self.held.wait(timeout=60)
        # It dies while the run works the other shares, the lock still held.
        threading.Timer(1.0, os.kill, (self.process.pid, signal.SIGKILL)).start()


def test_the_share_of_a_helper_killed_in_it_is_redone_by_the_run(
    tmp_path: Path, plan: spread.Plan, embedder: Embedder
) -> None:
    helper = HelperKilledInItsShare(share=1)
    cache_dir = tmp_path / "shared"
    spread.run_plan(cache_dir, plan, embedder, helper)
    helper.process.join(timeout=10)
    assert helper.process.exitcode == -signal.SIGKILL
    assert _entries(cache_dir, plan) == _alone(tmp_path, plan, embedder)


def test_a_helper_finds_nothing_to_do_once_the_plan_is_finished(
    tmp_path: Path, plan: spread.Plan, embedder: Embedder
) -> None:
    cache_dir = tmp_path / "cache"
    key = spread.write_plan(cache_dir, plan)
    assert spread.read_share(cache_dir, key, 0) == (plan.model, plan.shares[0])
    spread.remove_plan(cache_dir, key, len(plan.shares))
    assert spread.help_with(cache_dir, key, 0) == {
        "share": 0, "worked": False, "why": "the plan is finished",
    }  # fmt: skip
    assert list((cache_dir / spread.PLANS).iterdir()) == []


def test_a_helper_with_another_model_embeds_nothing(tmp_path: Path, plan: spread.Plan) -> None:
    cache_dir = tmp_path / "cache"
    other = spread.Plan("0" * 64, plan.shares)  # the run's model is not the one here
    key = spread.write_plan(cache_dir, other)
    done = spread.help_with(cache_dir, key, 0)
    assert done == {"share": 0, "worked": False, "why": "a different model is installed"}
    assert all(entry is None for entry in _entries(cache_dir, plan).values())


def test_a_share_another_holds_is_left_to_it(
    tmp_path: Path, plan: spread.Plan, embedder: Embedder
) -> None:
    cache_dir = tmp_path / "cache"
    key = spread.write_plan(cache_dir, plan)
    fd = os.open(cache_dir / spread.PLANS / f"{key}.0.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        assert not spread.work_share(cache_dir, key, 0, plan.shares[0], embedder)
    finally:
        os.close(fd)
    assert all(
        FileCache(cache_dir).get(chunk_vectors.NAMESPACE, p.key) is None for p in plan.shares[0]
    )


def test_bad_plan_keys_and_shares_read_as_finished(tmp_path: Path, plan: spread.Plan) -> None:
    key = spread.write_plan(tmp_path, plan)
    assert spread.read_share(tmp_path, "../" + key[3:], 0) is None
    assert spread.read_share(tmp_path, key, len(plan.shares)) is None
    assert spread.read_share(tmp_path, key, -1) is None


def test_the_semantic_scorer_shares_a_large_embedding_and_scores_the_same(
    tmp_path: Path,
) -> None:
    from litgap.pipeline import Analyzer, load_framework, sample_framework_path
    from tests.big_inputs import sentence_papers

    framework = load_framework(sample_framework_path())
    echoes = [
        s.text for p in framework.select(framework.pillar_names()) for _, s in p.sub_requirements()
    ]
    paths = []
    for n, text in enumerate(sentence_papers(60, 1500, echoes)):
        paths.append(tmp_path / f"paper-{n:02d}.txt")
        paths[-1].write_text(text, encoding="utf-8")
    corpus = load_corpus(paths)

    def analyse(cache_dir: Path, helpers: Any) -> bytes:
        analyzer = Analyzer(
            corpus,
            framework,
            framework.pillar_names(),
            scorer="semantic",
            cache=FileCache(cache_dir),
            helpers=helpers,
        )
        return pickle.dumps(analyzer.iterate(None))

    helpers = HelperProcesses(shares=1)
    shared = analyse(tmp_path / "shared", helpers)
    alone = analyse(tmp_path / "alone", None)
    assert shared == alone
    assert [r["worked"] for r in helpers.worked] == [True]  # it was shared, and helped
    left = list((tmp_path / "shared" / spread.PLANS).iterdir())
    assert left == []  # the plan is removed once the run is done with it
