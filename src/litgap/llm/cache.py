"""Model answers kept in the workspace by (model, request hash): the same question to the
same model is never paid for twice, in any job of the workspace.

One small JSON file per answer under `cache/llm/`, written atomically. A lost or torn
entry costs one call, never a wrong verdict: an entry that cannot be read is a miss.
Only answers that are a model's decision are kept (a verdict or a refusal); a malformed
answer is asked again next time.
"""

import hashlib
import json
from pathlib import Path
from typing import Any

from litgap.atomic import write_atomic

Entry = dict[str, Any]


class AnswerCache:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, model: str, request_hash: str) -> Path:
        key = hashlib.sha256(f"{model}\n{request_hash}".encode()).hexdigest()
        return self.root / key[:2] / f"{key}.json"

    def get(self, model: str, request_hash: str) -> Entry | None:
        """The kept answer, or None (none kept, or unreadable)."""
        try:
            data = json.loads(self._path(model, request_hash).read_bytes())
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("request_hash") != request_hash:
            return None
        return data

    def put(self, model: str, request_hash: str, entry: Entry) -> None:
        """Keep an answer (not fsynced: a lost entry costs a call, nothing more)."""
        path = self._path(model, request_hash)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = json.dumps({**entry, "request_hash": request_hash}, ensure_ascii=False)
        write_atomic(path, data.encode(), durable=False)
