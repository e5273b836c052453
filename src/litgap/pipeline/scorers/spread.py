"""Embedding one run's passages on many machines, meeting in the embedding cache.

When a run lacks many chunk vectors, it writes what it lacks as a plan beside the
cache (`embedding-plans/<key>.json`): the papers in shares of about SHARE_GROUPS chunk
groups, each paper with its cache key and the texts of the groups to embed. It asks
its helpers (in queue mode: idle `litgap worker`s, `executor/queue.py`) to work on the
shares, and works through them itself.

A share is worked under a lock (`flock` on its lock file): who cannot take it at once
leaves it to whoever holds it. The run takes every free share in turn, then waits for
the lock of each share a helper held, and embeds whatever that share's papers still
lack. A helper that is killed drops its lock with its process, so its share is taken
by the run and redone. A group's vector depends only on its texts and the model
(`semantic.CHUNK_GROUP`), and the plan names the model's files, which a helper checks:
who embeds a group changes no byte of the result.
"""

import contextlib
import fcntl
import functools
import hashlib
import json
import logging
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from litgap.atomic import write_atomic
from litgap.pipeline.cache import PLANS, FileCache
from litgap.pipeline.scorers import chunk_vectors
from litgap.pipeline.scorers.encoders import Embedder

log = logging.getLogger(__name__)

# Chunk groups per share: ~4 s of one core for bge-small, long enough that asking and
# locking cost nothing beside it, short enough that 4 helpers each get several shares
# of a corpus that takes a minute.
SHARE_GROUPS = 256
MIN_SHARES = 2  # fewer groups than two shares: the run embeds them alone
_KEY = re.compile(r"[0-9a-f]{64}")

Progress = Callable[[int, int], None]  # (shares done, shares in the plan)


class Helpers(Protocol):
    """Who else can work on a plan's shares (a picklable handle: it travels to the
    worker process that scores)."""

    def ask(self, cache_dir: Path, plan: str, shares: int) -> None: ...


@dataclass(frozen=True)
class PaperWork:
    key: str  # the paper's entry in the embedding cache
    chunks: int  # how many chunks the paper has
    groups: tuple[tuple[int, int], ...]  # [lo, hi) chunk spans to embed, within the paper
    texts: tuple[tuple[str, ...], ...]  # each group's chunk texts


@dataclass(frozen=True)
class Plan:
    model: str  # the digest of the model's files
    shares: tuple[tuple[PaperWork, ...], ...]


def split(model: str, papers: Sequence[PaperWork], size: int = SHARE_GROUPS) -> Plan:
    """The papers in shares of about `size` groups (a paper is never split: its cache
    entry is written whole by whoever works its share)."""
    shares: list[tuple[PaperWork, ...]] = []
    current: list[PaperWork] = []
    groups = 0
    for paper in papers:
        current.append(paper)
        groups += len(paper.groups)
        if groups >= size:
            shares.append(tuple(current))
            current, groups = [], 0
    if current:
        shares.append(tuple(current))
    return Plan(model, tuple(shares))


def _share_bytes(share: Sequence[PaperWork]) -> bytes:
    papers = [
        {"key": p.key, "chunks": p.chunks, "groups": p.groups, "texts": p.texts} for p in share
    ]
    return json.dumps(papers, ensure_ascii=False).encode("utf-8", "surrogatepass")


def _share_of(data: bytes) -> tuple[PaperWork, ...]:
    return tuple(
        PaperWork(
            p["key"],
            p["chunks"],
            tuple((lo, hi) for lo, hi in p["groups"]),
            tuple(tuple(texts) for texts in p["texts"]),
        )
        for p in json.loads(data.decode("utf-8", "surrogatepass"))
    )


def write_plan(cache_dir: Path, plan: Plan) -> str:
    """Write `plan` beside the cache, a file per share and then its header (whose file
    says the plan is open); returns its key (a sha256 of the whole)."""
    shares = [_share_bytes(share) for share in plan.shares]
    digest = hashlib.sha256(plan.model.encode())
    for data in shares:
        digest.update(hashlib.sha256(data).digest())
    key = digest.hexdigest()
    folder = cache_dir / PLANS
    folder.mkdir(parents=True, exist_ok=True)
    # Not fsynced, like the cache: a plan lost in a crash is a run that embeds alone.
    for index, data in enumerate(shares):
        write_atomic(folder / f"{key}.{index}.share", data, durable=False)
    header = json.dumps({"model": plan.model, "shares": len(shares)}).encode()
    write_atomic(folder / f"{key}.json", header, durable=False)
    return key


def read_share(cache_dir: Path, key: str, share: int) -> tuple[str, tuple[PaperWork, ...]] | None:
    """(the plan's model, the share's papers), or None once its run has finished with
    the plan (or for a key or share that is not one)."""
    if not _KEY.fullmatch(key):
        return None
    folder = cache_dir / PLANS
    try:
        header = json.loads((folder / f"{key}.json").read_bytes())
        if not 0 <= share < header["shares"]:
            return None
        return header["model"], _share_of((folder / f"{key}.{share}.share").read_bytes())
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return None


def remove_plan(cache_dir: Path, key: str, shares: int) -> None:
    folder = cache_dir / PLANS
    names = [f"{key}.json"]  # first: a helper that comes later finds the plan closed
    names += [f"{key}.{i}.{end}" for i in range(shares) for end in ("share", "lock")]
    for name in names:
        with contextlib.suppress(FileNotFoundError):
            (folder / name).unlink()


@contextlib.contextmanager
def _share_lock(cache_dir: Path, key: str, share: int, *, wait: bool) -> Iterator[bool]:
    """Hold the share's lock (True), or yield False when another holds it and not `wait`."""
    fd = os.open(cache_dir / PLANS / f"{key}.{share}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # the lock goes with the descriptor (and with a killed process)


def work_share(
    cache_dir: Path,
    key: str,
    share: int,
    papers: Sequence[PaperWork],
    embedder: Embedder,
    *,
    wait: bool = False,
) -> bool:
    """Embed what the share's papers lack and store their entries; False when another
    holds the share (and not `wait`). Groups already in the cache are not embedded
    again: a share redone after its helper was killed costs only what it had left."""
    cache = FileCache(cache_dir)
    with _share_lock(cache_dir, key, share, wait=wait) as held:
        if not held:
            return False
        for paper in papers:
            mask, vectors = chunk_vectors.load(cache, paper.key, paper.chunks)
            todo = [i for i, (lo, hi) in enumerate(paper.groups) if not mask[lo:hi].all()]
            if not todo:
                continue
            embedded = embedder.embed_groups([list(paper.texts[i]) for i in todo])
            for i, group in zip(todo, embedded, strict=True):
                lo, hi = paper.groups[i]
                vectors[lo:hi] = group
                mask[lo:hi] = True
            chunk_vectors.store(cache, paper.key, mask, vectors)
    return True


def run_plan(
    cache_dir: Path,
    plan: Plan,
    embedder: Embedder,
    helpers: Helpers,
    progress: Progress | None = None,
) -> None:
    """The run's side: write the plan, ask the helpers, work every free share, then wait
    for the rest; the plan is removed at the end (a late helper finds nothing to do)."""
    key = write_plan(cache_dir, plan)
    count = len(plan.shares)
    done = 0
    try:
        try:
            helpers.ask(cache_dir, key, count)
        except Exception:  # the run can embed it all alone: asking is only an offer
            log.exception("could not ask for help with embedding; embedding alone")
        left = []
        for share in range(count):
            if not work_share(cache_dir, key, share, plan.shares[share], embedder):
                left.append(share)
                continue
            done += 1
            if progress is not None:
                progress(done, count)
        for share in left:  # held by a helper: wait for it (or take it, if it died)
            work_share(cache_dir, key, share, plan.shares[share], embedder, wait=True)
            done += 1
            if progress is not None:
                progress(done, count)
    finally:
        remove_plan(cache_dir, key, count)


@functools.cache
def _embedder(model: str) -> Embedder | None:
    """This process's embedder, if its files are the plan's model."""
    embedder = Embedder()
    return embedder if embedder.files.digest == model else None


def help_with(cache_dir: Path, key: str, share: int) -> dict[str, Any]:
    """A helper's side (a top-level function: it runs in a worker's analysis process):
    work one share of plan `key` if it is still open and free. Returns what it did."""
    found = read_share(cache_dir, key, share)
    if found is None:
        return {"share": share, "worked": False, "why": "the plan is finished"}
    model, papers = found
    embedder = _embedder(model)
    if embedder is None:
        # Another model here than the run's: its vectors would not be the run's.
        return {"share": share, "worked": False, "why": "a different model is installed"}
    worked = work_share(cache_dir, key, share, papers, embedder)
    if not (cache_dir / PLANS / f"{key}.json").exists():  # closed meanwhile: no lock kept
        with contextlib.suppress(FileNotFoundError):
            (cache_dir / PLANS / f"{key}.{share}.lock").unlink()
    return {"share": share, "worked": worked, "why": "" if worked else "taken by another"}
