"""summarist's console carries summarist's output: library progress bars only with --debug."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")

BARS = ("Loading weights", "Writing model shards")


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests import tiny_models as tiny

    root = tmp_path_factory.mktemp("quiet")
    return tiny.save(tiny.tiny_seq2seq("t5"), tiny.t5_tokenizer(), root / "t5" / "model",
                     max_new_tokens=4, num_beams=1)  # fmt: skip


def test_no_library_progress_bars_without_debug(model: Path, tmp_path: Path) -> None:
    src = tmp_path / "in.txt"
    src.write_text("Anna: Did you book the train? Ben: Yes, for Friday.\n", encoding="utf-8")
    args = [sys.executable, "-m", "summarist", "summarize", str(src), "--model", str(model)]
    res = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    shown = [bar for bar in BARS if bar in res.stderr + res.stdout]
    assert shown == [], res.stderr
