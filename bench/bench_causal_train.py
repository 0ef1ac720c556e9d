"""Decoder-only training: summarist's loop vs TRL's `SFTTrainer` (completion-only loss).

Both arms fine-tune the same model (`--model`, default smollm2-135m) on the same DialogSum
training examples (the first `--steps x --batch-size` of the split, no added tokens, the same
chat-template prompt: summarist's default instruction as the user turn), for the same steps,
batch size, learning rate, warm-up, precision and thread count, each in a child process of its
own so that peak RSS is per arm. The loss of both is the mean cross-entropy over the summary
tokens (TRL: `completion_only_loss=True`; summarist: the target tokens).

* trl: `SFTTrainer` on prompt-completion conversations (its collator pads right, every position
  reaches the LM head; random batches);
* summarist: `training.loop.setup` + `fit` (length-grouped batches, left padding, the LM head on
  the summary positions only, fused AdamW).

Real tokens = non-padding tokens of the sequences trained on (prompt + summary), per CPU-second
of the training loop (process time: the figure a shared machine disturbs least). Prints one JSON
line per arm (loss curve included), then the ratios; the arms must have trained the same model
on the same number of examples.

    OMP_NUM_THREADS=1 nice .venv/bin/python bench/bench_causal_train.py --steps 12 --batch-size 8
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[1] / "shared" / "data" / "dialogsum"
RESULT = "RESULT "


def pairs(data: str, n: int) -> tuple[list[str], list[str]]:
    from summarist.config.data import DataConfig
    from summarist.data.loading import load_corpus

    train = load_corpus(DataConfig([data])).split("train")
    return list(train.texts[:n]), list(train.summaries[:n])


def peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # KiB on Linux


def summarist_arm(args: argparse.Namespace) -> dict:
    import torch
    from tests.conftest import write_jsonl

    from summarist.config.data import DataConfig
    from summarist.config.train import TrainConfig
    from summarist.rundir import read_jsonl
    from summarist.training.loop import fit, setup
    from summarist.training.runtime import Runtime

    texts, summaries = pairs(args.data, args.steps * args.batch_size)
    tmp = Path(tempfile.mkdtemp(prefix="bench-causal-"))
    rows = [{"dialogue": t, "summary": s} for t, s in zip(texts, summaries, strict=True)]
    write_jsonl(tmp / "data" / "train.jsonl", rows)
    cfg = TrainConfig.from_dict({
        "data": DataConfig([str(tmp / "data")], dedupe="none"), "model": args.model,
        "output_dir": str(tmp / "run"), "max_steps": args.steps, "batch_size": args.batch_size,
        "learning_rate": args.lr, "warmup_ratio": args.warmup, "threads": args.threads,
        "precision": args.precision, "speaker_tokens": False, "eval_every": 0, "log_every": 1,
        "report": False, "max_source_length": args.max_source_length,
        "max_target_length": args.max_target_length, "memory_budget_gb": 0,
    })  # fmt: skip
    s = setup(cfg, tmp / "run", Runtime.create(cfg.precision, cfg.threads))
    params = sum(p.numel() for p in s.loaded.model.parameters())
    cpu0, wall0 = time.process_time(), time.perf_counter()
    progress = fit(s)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    losses = [r["loss"] for r in read_jsonl(tmp / "run" / "train_log.jsonl") if "loss" in r]
    return {"arm": "summarist", "params": params, "examples": len(s.examples),
            "tokens": progress.tokens_seen, "cpu_s": cpu, "wall_s": wall, "losses": losses,
            "threads": torch.get_num_threads(), "precision": s.runtime.precision}  # fmt: skip


def trl_arm(args: argparse.Namespace) -> dict:
    import torch
    from datasets import Dataset
    from transformers import TrainerCallback
    from trl import SFTConfig, SFTTrainer

    from summarist.config.prompt import PromptSettings
    from summarist.models.loading import load_for_training

    torch.set_num_threads(args.threads)
    texts, summaries = pairs(args.data, args.steps * args.batch_size)
    loaded = load_for_training(args.model)
    instruction = PromptSettings().instruction
    rows = [{"prompt": [{"role": "user", "content": f"{instruction}\n\n{t}"}],
             "completion": [{"role": "assistant", "content": s}]}
            for t, s in zip(texts, summaries, strict=True)]  # fmt: skip
    losses: list[float] = []
    tokens = [0]

    class Record(TrainerCallback):
        def on_log(self, _args, state, control, logs=None, **kw):
            if logs and "loss" in logs:
                losses.append(round(float(logs["loss"]), 5))
            if logs and "num_tokens" in logs:
                tokens[0] = int(logs["num_tokens"])

    config = SFTConfig(
        output_dir=tempfile.mkdtemp(prefix="bench-trl-"), max_steps=args.steps,
        per_device_train_batch_size=args.batch_size, learning_rate=args.lr,
        warmup_steps=int(args.steps * args.warmup), lr_scheduler_type="linear", logging_steps=1,
        save_strategy="no", report_to=[], completion_only_loss=True, use_cpu=True,
        bf16=args.precision == "bf16", max_length=args.max_source_length + args.max_target_length,
        dataloader_num_workers=0, seed=42, disable_tqdm=True,
    )  # fmt: skip
    trainer = SFTTrainer(model=loaded.model, args=config, train_dataset=Dataset.from_list(rows),
                         processing_class=loaded.tokenizer, callbacks=[Record()])  # fmt: skip
    cpu0, wall0 = time.process_time(), time.perf_counter()
    trainer.train()
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    params = sum(p.numel() for p in loaded.model.parameters())
    return {"arm": "trl", "params": params, "examples": len(rows), "tokens": tokens[0],
            "cpu_s": cpu, "wall_s": wall, "losses": losses, "threads": torch.get_num_threads(),
            "precision": args.precision}  # fmt: skip


def run_child(arm: str, argv: list[str]) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    proc = subprocess.run([sys.executable, __file__, "--child", arm, *argv],
                          capture_output=True, text=True, env=env)  # fmt: skip
    lines = [x for x in proc.stdout.splitlines() if x.startswith(RESULT)]
    if proc.returncode or not lines:
        sys.exit(f"{arm} arm failed:\n{proc.stderr[-3000:]}")
    return json.loads(lines[-1][len(RESULT) :])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--data", default=str(DATA))
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--warmup", type=float, default=0.05)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--precision", default="bf16", choices=["bf16", "fp32"])
    parser.add_argument("--max-source-length", type=int, default=512)
    parser.add_argument("--max-target-length", type=int, default=128)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, str(HERE.parent))
    if args.child:
        got = summarist_arm(args) if args.child == "summarist" else trl_arm(args)
        print(RESULT + json.dumps({**got, "peak_rss_gb": round(peak_gb(), 2)}))
        return 0
    if not Path(args.data).exists():
        print(f"skip: {args.data} not found")
        return 0
    from summarist.hardware import cpu_model

    print(f"CPU: {cpu_model()}; threads {args.threads}; load {os.getloadavg()[0]:.2f}")
    argv = [a for a in sys.argv[1:]]
    arms = {arm: run_child(arm, argv) for arm in ("trl", "summarist")}
    for got in arms.values():
        print(json.dumps(got))
    a, b = arms["summarist"], arms["trl"]
    assert a["params"] == b["params"] and a["examples"] == b["examples"], "arms differ"
    speed = {k: v["tokens"] / v["cpu_s"] for k, v in arms.items()}
    print(f"real tokens per CPU-second: summarist {speed['summarist']:.1f}, trl "
          f"{speed['trl']:.1f}, ratio {speed['summarist'] / speed['trl']:.2f}x; peak RSS "
          f"{a['peak_rss_gb']:.2f} vs {b['peak_rss_gb']:.2f} GB; last-3 mean loss "
          f"{sum(a['losses'][-3:]) / 3:.3f} vs {sum(b['losses'][-3:]) / 3:.3f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
