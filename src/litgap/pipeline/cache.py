"""The one thing the pipeline touches besides its inputs: a content-addressed cache.

The pipeline only sees the `Cache` protocol; the flow hands it a `FileCache` in the
workspace (or nothing). A value is bytes under (namespace, key), where the key already
names everything the value depends on (a file's sha256 and the extractor's version, a
model's hash and a passage's hash...), so an entry is never stale: it is only missing.
"""

import hashlib
import re
from pathlib import Path
from typing import Protocol

from litgap.atomic import write_atomic

_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
# Beside the entries: the embedding plans that runs share with helpers (scorers/spread.py).
PLANS = "embedding-plans"


class Cache(Protocol):
    def get(self, namespace: str, key: str) -> bytes | None: ...

    def put(self, namespace: str, key: str, data: bytes) -> None: ...


def cache_key(*parts: str) -> str:
    """A fixed-length key naming every part a cached value depends on."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\x00")
    return digest.hexdigest()


class FileCache:
    """Entries as files under `root/<namespace>/<key[:2]>/<key>`, each written atomically.

    Not fsynced: a lost entry after a crash is recomputed, never wrong.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, namespace: str, key: str) -> Path:
        if not _NAME.match(namespace) or not _NAME.match(key):
            raise ValueError(f"bad cache name {namespace!r}/{key!r}")
        return self.root / namespace / key[:2] / key

    def get(self, namespace: str, key: str) -> bytes | None:
        try:
            return self._path(namespace, key).read_bytes()
        except FileNotFoundError:
            return None

    def put(self, namespace: str, key: str, data: bytes) -> None:
        path = self._path(namespace, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, data, durable=False)
