"""LoRA against full fine-tuning at the same CPU budget, on DialogSum with the offline default.

Both arms train `minilm-bart` with the same data, batch, seed and one thread until the same
CPU-time budget runs out (`--max-cpu-minutes`; the step target is out of reach, so both stop on
the budget, and with no warm-up the rate decays the same negligible amount in both), each in a
child process of its own so that its peak RSS is its own. Then each run's final evaluation
(the same dev examples, the same decoding) and a paired bootstrap of the two
(`summarist evaluate --compare`), trainable parameters, peak memory, optimizer steps per
CPU-second, and the adapter's size against the merged model's.

    .venv/bin/python bench/bench_lora.py [--cpu-minutes 6] [--eval-samples 200]
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from summarist.hardware import cpu_model
from training_child import arm_parser, child, missing, run_arm


def summary(run: Path, peak: float) -> dict[str, object]:
    from summarist.rundir import read_json, read_jsonl, read_yaml
    from summarist.training.save import adapter_size

    cfg = read_yaml(run / "config.yaml")
    steps = [r for r in read_jsonl(run / "train_log.jsonl") if "loss" in r]
    last = steps[-1]
    lora = cfg["resolved"]["lora"]
    model_bytes = (run / "model" / "model.safetensors").stat().st_size
    metrics = read_json(run / "metrics.json")["splits"]["validation"]
    rouge = metrics["rouge"]
    params = lora["trainable_params"] if lora else None
    return {
        "steps": last["step"], "cpu_s": last["cpu_s"], "loss": last["loss"],
        "steps_per_cpu_s": last["step"] / last["cpu_s"],
        "trainable_params": params, "peak_rss_gb": peak,
        "adapter_mb": adapter_size(run) / 1e6, "model_mb": model_bytes / 1e6,
        "rouge": {k: v["fmeasure"]["mid"] for k, v in rouge.items()},
        "distinct_share": metrics["diagnostics"]["distinct_share"],
        "degenerate": metrics["degenerate"]["flagged"],
    }  # fmt: skip


def main() -> int:
    parser = arm_parser()
    parser.add_argument("--cpu-minutes", type=float, default=6.0)
    parser.add_argument("--eval-samples", type=int, default=200)
    parser.add_argument("--out", default=None, help="keep the runs here (default: a temp dir)")
    args = parser.parse_args()
    if args.child:
        return child(args.child)
    if missing(args.data):
        return 0
    print(f"CPU: {cpu_model()}; threads: 1 (torch), {os.cpu_count()} cores; budget "
          f"{args.cpu_minutes} CPU-minutes per arm; {args.eval_samples} dev examples")  # fmt: skip
    root = Path(args.out or tempfile.mkdtemp(prefix="bench-lora-"))
    results = {}
    for arm, extra in (("full", {}), ("lora", {"lora": True})):
        spec = {"data": args.data, "model": "minilm-bart", "output_dir": str(root / arm),
                "max_steps": 100_000, "max_cpu_minutes": args.cpu_minutes, "warmup_ratio": 0.0,
                "threads": 1, "precision": "fp32", "batch_size": 8, "eval_every": 0,
                "eval_splits": ["validation"], "final_eval_samples": args.eval_samples,
                "report": False, "seed": 42, "log_every": 1, **extra}  # fmt: skip
        got, stderr = run_arm(__file__, spec)
        if got is None:
            print(f"{arm} failed:\n{stderr[-2000:]}")
            return 1
        results[arm] = summary(root / arm, got["peak_rss_gb"])
        print(arm, json.dumps(results[arm]), flush=True)

    from summarist.evaluation.run_comparison import CompareRunsConfig, compare_runs

    cmp = compare_runs(CompareRunsConfig(root / "lora", root / "full", split="validation"))
    print(f"paired bootstrap, lora - full (runs in {root}):")
    print(json.dumps(cmp.get("rouge", cmp) if isinstance(cmp, dict) else cmp, indent=1,
                     default=str)[:3000])  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
