"""Training arms of a benchmark, each in a child process of its own so that its peak RSS is its own.

A benchmark script re-runs itself as `SCRIPT --child SPEC` (SPEC: JSON of `TrainConfig` fields)
through `run_arm`; the child (`child`) trains and prints one `RESULT {...}` line: peak RSS
(`ru_maxrss`: loading, training and the final evaluation together) and the run's pre-load
memory estimate. Used by bench_memory.py and bench_lora.py.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

DIALOGSUM = Path(__file__).resolve().parents[2] / "shared" / "data" / "dialogsum"
CHILD_ENV = {"OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
RESULT = "RESULT "


def arm_parser(**data: Any) -> argparse.ArgumentParser:
    """`--data` (default: ../shared/data/dialogsum) and the hidden `--child SPEC`."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default=str(DIALOGSUM), **data)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    return parser


def child(spec: str) -> int:
    """Train as `spec` says; print peak RSS (GB) and the memory estimate of its config.yaml."""
    from summarist.config.train import TrainConfig
    from summarist.rundir import read_yaml
    from summarist.training.loop import train

    run = train(TrainConfig.from_dict(json.loads(spec)))
    plan = read_yaml(run / "config.yaml")["resolved"]["memory_estimate"]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1024**3  # KiB on Linux
    estimate = plan["total_gb"] if plan else None
    print(RESULT + json.dumps({"estimate_gb": estimate, "peak_rss_gb": peak, "plan": plan}))
    return 0


def run_arm(script: str, spec: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
    """`script --child SPEC` on one thread: (its RESULT, None on failure; its stderr)."""
    env = {**os.environ, **CHILD_ENV}
    proc = subprocess.run([sys.executable, script, "--child", json.dumps(spec)],
                          capture_output=True, text=True, env=env)  # fmt: skip
    lines = [x for x in proc.stdout.splitlines() if x.startswith(RESULT)]
    if proc.returncode or not lines:
        return None, proc.stderr
    return json.loads(lines[-1][len(RESULT) :]), proc.stderr


def missing(data: str) -> bool:
    """True (after saying so) when the corpus is not here: the benchmark skips."""
    if Path(data).exists():
        return False
    print(f"skip: {data} not found")
    return True
