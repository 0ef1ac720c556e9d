"""Fixtures of the integration tests that share one real server process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

SERVED_KEY = "test-key-1"
"""The API key of `served_t5`."""


@pytest.fixture(scope="session")
def served_t5() -> Iterator[object]:
    """`summarist serve` as a real uvicorn process: a tiny random T5 named t5, the key
    `SERVED_KEY`, at most 16 new tokens and 20 kB bodies (shared by the OpenAI tests)."""
    pytest.importorskip("uvicorn", reason="the serve extra is not installed")
    pytest.importorskip("httpx", reason="httpx is not installed")
    from tests.openai_servers import summarist_server
    from tests.tiny_models import tiny_model

    server = summarist_server(tiny_model("t5"), "--api-key", SERVED_KEY, "--max-new-tokens",
                              "16", "--max-body-bytes", "20000")  # fmt: skip
    yield server
    server.stop()
