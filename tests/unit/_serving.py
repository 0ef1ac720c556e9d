"""Helpers of the serving tests: a scripted summarizer and a ready TestClient."""

from __future__ import annotations

import threading
import time
from typing import Any

from summarist.config.generation import GenerationSettings
from summarist.config.serve import ServeConfig, ServedModel
from summarist.inference.summarizer import SummaryBatch


class ScriptedSummarizer:
    """Summarizer stand-in: records each batch; `gate` (when set) holds generation."""

    def __init__(self, delay: float = 0.0) -> None:
        self.settings = GenerationSettings(max_new_tokens=8, num_beams=1)
        self.source_limit = 512
        self.backend = type("B", (), {"name": "scripted"})()
        self.batches: list[tuple[list[str], GenerationSettings]] = []
        self.gate = threading.Event()
        self.gate.set()
        self.delay = delay

    def count_tokens(self, texts: list[str]) -> list[int]:
        return [len(t.split()) + 1 for t in texts]

    def summarize_detailed(self, texts: list[str], settings: GenerationSettings) -> SummaryBatch:
        self.gate.wait(10)
        time.sleep(self.delay)
        self.batches.append((list(texts), settings))
        summaries = [f"summary of {t[:20]}" for t in texts]
        n = len(texts)
        return SummaryBatch(summaries, [3] * n, self.count_tokens(texts), [0] * n, 0.0)


def config(*names: str, **kw: Any) -> ServeConfig:
    return ServeConfig(models=[ServedModel(n, f"/models/{n}") for n in names], **kw)


def wait_ready(client: Any, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while client.get("/readyz").status_code != 200:
        assert time.monotonic() < end, client.get("/readyz").json()
        time.sleep(0.05)
