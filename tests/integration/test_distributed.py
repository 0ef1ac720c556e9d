"""Data-parallel training under `torchrun` on this CPU (gloo): really two ranks, the same
update as one process with the same global batch, evaluation gathered in order, resume after
`kill -9`. `accelerate launch --cpu --num_processes 2` would start ONE process here (its simple
launcher), so the tests launch with torchrun, which is what accelerate uses for real multi-GPU.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from summarist.rundir import read_json, read_jsonl, read_yaml
from tests.integration.test_train import dialogues  # noqa: F401  (fixture)
from tests.tiny_models import tiny_model

ROOT = Path(__file__).resolve().parents[2]
PROBE = ROOT / "tests" / "integration" / "_rank_probe.py"


def launch(n: int, *args: str, ranks: Path | None = None, env: dict | None = None,
           timeout: float = 300, accelerate: bool = False) -> subprocess.CompletedProcess:  # fmt: skip
    """`summarist ARGS` on `n` ranks (torchrun, gloo), or as one plain process when n == 1
    (`accelerate launch --cpu` with `accelerate`: one process, through Accelerate's launcher)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", **(env or {})}
    if ranks is not None:
        env["SUMMARIST_TEST_RANKS_DIR"] = str(ranks)
        target = [str(PROBE)]
    else:
        target = ["-m", "summarist"]
    if accelerate:
        assert n == 1, "accelerate's CPU launcher starts one process (see the module docstring)"
        cmd = [sys.executable, "-m", "accelerate.commands.launch", "--cpu", "--num_processes",
               "1", "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
               *target, *args]  # fmt: skip
    elif n == 1:
        cmd = [sys.executable, *target, *args]
    else:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               f"--nproc_per_node={n}", *target, *args]  # fmt: skip
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=timeout)


def run_here(*args: str) -> int:
    """`summarist ARGS` in this process (one rank; no interpreter start-up to pay)."""
    from summarist.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(list(args))
    return int(exit_.value.code or 0)


def train_args(data: Path, out: Path, batch: int, steps: int = 9) -> list[str]:
    return ["train", "--data", str(data), "--model", str(tiny_model("t5-nodropout")),
            "--output-dir", str(out), "--max-steps", str(steps), "--batch-size", str(batch),
            "--threads", "1", "--eval-every", "3", "--eval-samples", "6", "--log-every", "1",
            "--learning-rate", "1e-3", "--no-report", "--num-beams", "1", "--precision", "fp32",
            "--eval-split", "validation", "--max-batch-tokens", "0"]  # fmt: skip


def losses(run: Path) -> list[tuple[int, float]]:
    return [(r["step"], r["loss"]) for r in read_jsonl(run / "train_log.jsonl") if "loss" in r]


def predictions(run: Path) -> list[tuple[str, str]]:
    rows = read_jsonl(run / "predictions.jsonl")
    return [(r.get("id"), r["prediction"]) for r in rows if r.get("system", "model") == "model"]


@pytest.mark.slow
def test_two_ranks_train_as_one_process_with_their_global_batch_and_resume_after_kill_9(
    dialogues: Path,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # 29 training examples in global batches of 4: one of the epoch's 8 batches holds a single
    # example, so at that step rank 1 has nothing (its zero-weight stand-in is checked by the
    # equal losses), and step 9 starts the next epoch.
    data = dialogues  # this test's own copy
    lines = (data / "train.jsonl").read_text("utf-8").splitlines(keepends=True)
    (data / "train.jsonl").write_text("".join(lines[:29]), "utf-8")
    # The 1-process reference, through `accelerate launch` (its launcher, one process).
    one = launch(1, *train_args(data, tmp_path / "one", batch=4), accelerate=True)
    assert one.returncode == 0, one.stderr[-3000:]

    # Two ranks of batch 2, killed (both, -9) after step 5; the checkpoint is step 3's.
    cut = tmp_path / "two"
    killed = launch(2, *train_args(data, cut, batch=2),
                    env={"SUMMARIST_TEST_KILL_AT_STEP": "5"})  # fmt: skip
    assert killed.returncode != 0
    assert (cut / "checkpoint.pt").exists() and not (cut / "metrics.json").exists()
    assert [s for s, _ in losses(cut)] == [1, 2, 3, 4, 5]  # one writer: each step once

    # A resume on another number of processes is refused in one line.
    capsys.readouterr()
    assert run_here("train", "--resume", str(cut)) == 2
    stderr = capsys.readouterr().err
    assert "written by 2 process(es), this run has 1" in stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "Traceback" not in stderr

    resumed = launch(2, "train", "--resume", str(cut), ranks=tmp_path / "ranks")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert resumed.stdout.count("run directory:") == 1  # one rank speaks
    seen = [json.loads(p.read_text()) for p in sorted((tmp_path / "ranks").glob("rank-*.json"))]
    assert [(r["rank"], r["world_size"], r["backend"]) for r in seen] == [
        (0, 2, "gloo"), (1, 2, "gloo"),
    ]  # fmt: skip
    assert seen[0]["pid"] != seen[1]["pid"]

    resolved = read_yaml(cut / "config.yaml")["resolved"]
    assert resolved["world_size"] == 2 and resolved["launcher"] == "torchrun"
    assert (resolved["per_rank_batch"], resolved["global_batch"]) == (2, 4)
    one_resolved = read_yaml(tmp_path / "one" / "config.yaml")["resolved"]
    assert (one_resolved["world_size"], one_resolved["launcher"]) == (1, "accelerate")

    # Same global batch, same update: the losses agree step by step (fp32, no dropout).
    a, b = losses(tmp_path / "one"), losses(cut)
    assert [s for s, _ in a] == [s for s, _ in b] == list(range(1, 10))
    assert max(abs(x - y) for (_, x), (_, y) in zip(a, b, strict=True)) < 1e-4, (a, b)
    assert len({x for _, x in a}) == 9  # the losses move: equal curves are not a constant
    # Evaluation: each rank decoded a shard, gathered in dataset order, nothing twice.
    assert predictions(cut) == predictions(tmp_path / "one")
    assert len(predictions(cut)) == 8  # the validation split, once each
    evals = [r["eval"] for r in read_jsonl(cut / "train_log.jsonl") if "eval" in r]
    assert [e["n"] for e in evals] == [6, 6, 6]
    m1 = read_json(tmp_path / "one" / "metrics.json")["splits"]["validation"]["rouge"]
    m2 = read_json(cut / "metrics.json")["splits"]["validation"]["rouge"]
    assert m1 == m2
    assert (cut / "README.md").exists() and not (cut / "checkpoint.pt").exists()


@pytest.mark.slow
def test_two_ranks_train_a_decoder_only_model_as_one_process(
    dialogues: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    """The causal path (left-padded batches, summary-only loss, the zero-shot baseline decoded
    in shards) under torchrun: the same update as one process with the same global batch."""
    from tests.tiny_models import tiny_causal_dir

    def args(out: Path, batch: int) -> list[str]:
        base = train_args(dialogues, out, batch=batch, steps=4)
        return [str(tiny_causal_dir("llama")) if a == str(tiny_model("t5-nodropout")) else a
                for a in base]  # fmt: skip

    one = launch(1, *args(tmp_path / "one", 4))
    assert one.returncode == 0, one.stderr[-3000:]
    two = launch(2, *args(tmp_path / "two", 2))
    assert two.returncode == 0, two.stderr[-3000:]
    a, b = losses(tmp_path / "one"), losses(tmp_path / "two")
    assert [s for s, _ in a] == [s for s, _ in b] == [1, 2, 3, 4]
    assert max(abs(x - y) for (_, x), (_, y) in zip(a, b, strict=True)) < 1e-4, (a, b)
    assert predictions(tmp_path / "one") == predictions(tmp_path / "two")
    m1 = read_json(tmp_path / "one" / "metrics.json")["splits"]["validation"]
    m2 = read_json(tmp_path / "two" / "metrics.json")["splits"]["validation"]
    assert (
        m1["rouge"] == m2["rouge"] and m1["baselines"]["zero-shot"] == m2["baselines"]["zero-shot"]
    )
