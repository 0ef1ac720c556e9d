"""`make demo`'s plumbing, end to end, with a tiny warm start instead of MiniLM (seconds)."""

from __future__ import annotations

from pathlib import Path

import pytest

from summarist.rundir import read_json
from tests.tiny_models import tiny_model


def test_demo_runs_every_stage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("aclsum")
    from summarist import demo

    # The demo's default is `minilm-bart`: the same mapping, from a tiny BERT.
    # Two steps of a tiny model cannot summarize: the demo must say so (exit 1, FAIL lines).
    bert = tiny_model("bert")
    capsys.readouterr()  # building the tiny model is not the demo's output
    assert demo.main(out=tmp_path, model=f"bert2bart:{bert}", steps=2) == 1
    captured = capsys.readouterr()
    printed = captured.out
    assert "FAIL" in printed and "distinct" in printed and "constant" in printed
    assert "Loading weights" not in captured.err and "Writing model shards" not in captured.err
    run = tmp_path / "run"
    metrics = read_json(run / "metrics.json")["splits"]["test"]
    assert "lead-3" in metrics["baselines"]  # abstracts are prose: lead-3 sentences
    assert "constant" in metrics["baselines"] and "degenerate" in metrics
    for stage in ("1. data stats", "2. fine-tune", "3. final evaluation", "4. summarize",
                  "artefacts"):  # fmt: skip
        assert stage in printed
    assert str(run / "model") in printed
    assert (run / "README.md").exists() and (run / "model" / "generation_config.json").exists()
