"""The memory estimate against the measured peak RSS of a real (small) training run.

One arm of bench/bench_memory.py, in a child process of its own: the offline `minilm-bart`,
batch 8 of dialogues long enough to fill the 512-token source limit, one step. The estimate
must be within 25% of `ru_maxrss` (issue 19); docs/lora.md has the full table.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import write_jsonl

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_memory.py"


@pytest.mark.slow
def test_estimate_is_within_25_percent_of_the_measured_peak(tmp_path: Path) -> None:
    pytest.importorskip("psutil")
    turn = "#Person1#: Could you book the train for Friday morning, please? #Person2#: Sure. "
    rows = [{"dialogue": f"{turn * 30} case {i}", "summary": f"Person2 books train {i}."}
            for i in range(16)]  # fmt: skip
    write_jsonl(tmp_path / "data" / "train.jsonl", rows[:12])
    write_jsonl(tmp_path / "data" / "validation.jsonl", rows[12:])
    spec = {"data": str(tmp_path / "data"), "model": "minilm-bart", "max_steps": 1,
            "output_dir": str(tmp_path / "run"), "threads": 1, "precision": "fp32",
            "eval_every": 0, "eval_splits": ["validation"], "report": False, "num_beams": 1,
            "final_eval_samples": 2}  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run([sys.executable, str(BENCH), "--child", json.dumps(spec)],
                          capture_output=True, text=True, env=env, timeout=600)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    line = next(x for x in proc.stdout.splitlines() if x.startswith("RESULT "))
    result = json.loads(line[len("RESULT ") :])
    assert result["plan"]["batch"][1] == 512  # the source limit: activations matter here
    ratio = result["estimate_gb"] / result["peak_rss_gb"]
    assert 0.75 <= ratio <= 1.25, result
