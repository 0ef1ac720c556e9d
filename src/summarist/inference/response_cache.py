"""An on-disk cache of an endpoint's answers: one JSON file per request, written atomically.

The key is the SHA-256 of the request as sent, less what does not change the answer (the key,
timeouts, concurrency): the endpoint's base URL, the model, the messages and the decoding
settings. Only answers are stored, never errors (promptfoo's rule), so a rerun asks again
exactly what failed. Each file is written to a temporary name and renamed (`rundir.write_json`),
so concurrent writers, or Ctrl-C mid-write, never leave a torn file: at worst two runs write the
same answer twice.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from pathlib import Path
from typing import Any

from summarist import rundir

log = logging.getLogger(__name__)

VERSION = 1  # bump when what a key means changes: old files are then simply not found


def cache_key(base_url: str, model: str, messages: list[dict[str, Any]], settings: dict[str, Any]) -> str:  # fmt: skip
    """The SHA-256 (hex) of the request's answer-deciding parts, in canonical JSON."""
    material = {
        "v": VERSION,
        "base_url": base_url.rstrip("/"),
        "model": model,
        "messages": messages,
        "settings": settings,
    }
    canonical = json.dumps(material, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class ResponseCache:
    """Answers under `root/<first two hex digits>/<key>.json`."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored answer, or None (absent, or unreadable: then it is asked again)."""
        path = self.path(key)
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as err:
            log.warning("ignoring unreadable cache entry %s (%s)", path, err)
            return None
        answer = entry.get("answer") if isinstance(entry, dict) else None
        return answer if isinstance(answer, dict) and "content" in answer else None

    def put(self, key: str, answer: dict[str, Any], request: dict[str, Any]) -> None:
        """Store an answer (atomically); `request` is kept beside it for whoever reads the file."""
        rundir.write_json(
            self.path(key), {"answer": answer, "request": request, "saved_at": time.time()}
        )
