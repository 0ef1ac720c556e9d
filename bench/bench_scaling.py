"""Training throughput on 1 vs 2 processes on this CPU: does data parallelism pay on 2 cores?

Three arms train the offline warm start (`--model`, default minilm-bart) on the same 2,000
DialogSum training examples with the same global batch, seed, learning rate and steps, each
launched the way a user would, by the same `summarist train` code path:

* 1 process x 1 thread, batch B           (`summarist train`)
* 2 processes x 1 thread, batch B/2 each  (`torchrun --standalone --nproc_per_node 2 -m summarist train`)
* 1 process x 2 threads, batch B          (the other way to use both cores)

Throughput comes from each run's own train_log.jsonl (one line per step): real (non-padding)
tokens and examples per wall-second over the steps after `--warmup`, and rank 0's tokens per
CPU-second. The load average is printed before each arm: other jobs on the machine take cores
from the arms, and a 2-core machine shows it at once. Needs ../shared/data/dialogsum.

`--summarize N` then times `summarist summarize` of N validation dialogues with the first
arm's model (forced to 32 new tokens, greedy, so every arm decodes the same amount) on 1
process x 1 thread and on 2 processes x 1 thread (sharded, merged in order; the outputs are
checked equal).

    .venv/bin/python bench/bench_scaling.py --steps 20 --batch-size 8 --summarize 100
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "dialogsum"


def _cpu_model() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return platform.processor()
    return next((ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("model name")), "")


def _subset(out: Path, n_train: int) -> Path:
    """The first n_train training dialogues and 20 validation ones, as a corpus folder."""
    out.mkdir(parents=True, exist_ok=True)
    for name, n in (("train.jsonl", n_train), ("dev.jsonl", 20)):
        with open(DATA / name, encoding="utf-8") as src:
            lines = [next(src) for _ in range(n)]
        (out / name).write_text("".join(lines), "utf-8")
    return out


def run_arm(a: argparse.Namespace, data: Path, procs: int, threads: int) -> dict:
    out = Path(tempfile.mkdtemp(prefix="bench-scaling-")) / "run"
    batch = a.batch_size // procs  # per rank: the global batch stays a.batch_size
    args = ["train", "--data", str(data), "--model", a.model, "--output-dir", str(out),
            "--max-steps", str(a.steps), "--batch-size", str(batch), "--threads", str(threads),
            "--log-every", "1", "--eval-every", "0", "--eval-split", "validation",
            "--final-eval-samples", "2", "--num-beams", "1", "--max-new-tokens", "8",
            "--no-report", "--precision", a.precision, "--learning-rate", "1e-4"]  # fmt: skip
    if procs == 1:
        cmd = [sys.executable, "-m", "summarist", *args]
    else:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               f"--nproc_per_node={procs}", "-m", "summarist", *args]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "TOKENIZERS_PARALLELISM": "false"}
    load = os.getloadavg()[0]
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if res.returncode != 0:
        raise SystemExit(f"arm {procs}x{threads} failed:\n{res.stderr[-3000:]}")
    rows = [json.loads(x) for x in (out / "train_log.jsonl").read_text().splitlines()]
    rows = [r for r in rows if "loss" in r]
    start = rows[a.warmup - 1]  # measure from the end of the warm-up steps
    timed = rows[a.warmup :]
    wall = timed[-1]["elapsed_s"] - start["elapsed_s"]
    cpu = timed[-1]["cpu_s"] - start["cpu_s"]
    prev, tokens = start["elapsed_s"], 0.0
    for r in timed:  # each line's rate covers its own step (log_every 1)
        tokens += r["tokens_per_second"] * (r["elapsed_s"] - prev)
        prev = r["elapsed_s"]
    resolved = json.loads(json.dumps(_yaml(out / "config.yaml")["resolved"]))
    return {
        "arm": f"{procs} proc x {threads} thread(s), batch {batch} per rank",
        "world_size": resolved["world_size"], "launcher": resolved["launcher"],
        "global_batch": resolved["global_batch"], "load_before": round(load, 2),
        "steps_timed": len(timed), "wall_s": round(wall, 2),
        "examples_per_s": round(len(timed) * a.batch_size / wall, 3),
        "tokens_per_s": round(tokens / wall, 1),
        "rank0_tokens_per_cpu_s": round(tokens / procs / max(cpu, 1e-9), 1),
        "losses": [r["loss"] for r in rows], "model_dir": out / "model",
    }  # fmt: skip


def run_summarize(a: argparse.Namespace, model: Path, texts: Path, procs: int) -> dict:
    import time

    out = Path(tempfile.mkdtemp(prefix="bench-scaling-sum-")) / "out.jsonl"
    args = ["summarize", "--model", str(model), str(texts), "--output", str(out),
            "--max-new-tokens", "32", "--min-new-tokens", "32", "--num-beams", "1",
            "--batch-size", "16", "--shard-size", "25"]  # fmt: skip
    if procs == 1:
        cmd = [sys.executable, "-m", "summarist", *args]
    else:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               f"--nproc_per_node={procs}", "-m", "summarist", *args]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    load, start = os.getloadavg()[0], time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - start  # start-up included: both arms pay it
    if res.returncode != 0:
        raise SystemExit(f"summarize on {procs} failed:\n{res.stderr[-3000:]}")
    n = len(out.read_text("utf-8").splitlines())
    return {"arm": f"summarize, {procs} proc x 1 thread", "texts": n, "wall_s": round(wall, 2),
            "texts_per_s": round(n / wall, 3), "load_before": round(load, 2),
            "output": out.read_text("utf-8")}  # fmt: skip


def _yaml(path: Path) -> dict:
    import yaml

    return yaml.safe_load(path.read_text("utf-8"))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--model", default="minilm-bart")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3, help="first steps left out of the rates")
    p.add_argument("--batch-size", type=int, default=8, help="global batch (even)")
    p.add_argument("--n-train", type=int, default=2000)
    p.add_argument("--precision", default="fp32")
    p.add_argument("--arms", default="1x1,2x1,1x2", help="PROCSxTHREADS, comma-separated")
    p.add_argument("--summarize", type=int, default=0, help="also time summarizing N texts")
    a = p.parse_args()
    if not DATA.exists():
        print(f"skip: {DATA} not found")
        return 0
    import torch

    print(f"CPU: {_cpu_model()}; {os.cpu_count()} logical CPUs; torch {torch.__version__}; "
          f"model {a.model}, {a.precision}, global batch {a.batch_size}, {a.steps} steps "
          f"({a.warmup} warm-up)")  # fmt: skip
    data = _subset(Path(tempfile.mkdtemp(prefix="bench-scaling-data-")), a.n_train)
    results: list[dict] = []
    model_dirs: list[Path] = []
    for arm in a.arms.split(","):
        procs, threads = (int(x) for x in arm.split("x"))
        r = run_arm(a, data, procs, threads)
        model_dirs.append(r.pop("model_dir"))
        results.append(r)
        print(json.dumps({k: v for k, v in r.items() if k != "losses"}))
    base = results[0]
    print("\narm | examples/s | real tokens/s | rank-0 tokens/CPU-s | vs first arm | load before")
    for r in results:
        print(f"{r['arm']} | {r['examples_per_s']} | {r['tokens_per_s']} | "
              f"{r['rank0_tokens_per_cpu_s']} | {r['tokens_per_s'] / base['tokens_per_s']:.2f}x | "
              f"{r['load_before']}")  # fmt: skip
    first = [r["losses"][:3] for r in results]
    print(f"first losses per arm (same global batch, so about equal): {first}")
    if a.summarize:
        texts = data / "summarize.jsonl"
        with open(DATA / "dev.jsonl", encoding="utf-8") as src:
            texts.write_text("".join(next(src) for _ in range(a.summarize)), "utf-8")
        sums = [run_summarize(a, model_dirs[0], texts, procs) for procs in (1, 2)]
        assert sums[0]["output"] == sums[1]["output"], "sharded output differs from 1 process"
        for r in sums:
            print(json.dumps({k: v for k, v in r.items() if k != "output"}))
        print(f"summarize, 2 procs vs 1: {sums[1]['texts_per_s'] / sums[0]['texts_per_s']:.2f}x "
              "(outputs equal)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
