"""Training throughput, evaluation cost and peak memory: summarist's loop vs the tutorial recipe.

Both arms train the same model (`--model`, built once per arm by the same
`load_for_training`, no added tokens) on the same DialogSum training examples for the same
number of steps, with the same batch size, learning rate, seed and thread count, each in its
own subprocess so peak RSS is per arm. Each arm reports what it trained (name, model type,
parameter count) and the benchmark stops with an error when the arms differ: a ratio between
two different models is not a speed-up. By default it runs both offline warm starts,
minilm-bart (the default model) and minilm-bert2bert, one after the other:

* tutorial: `Seq2SeqTrainer` + `DataCollatorForSeq2Seq` (dynamic padding, random batches, no
  length grouping), evaluation = `trainer.evaluate()` with `predict_with_generate` on the full
  validation split (greedy, generation_max_length = our max_new_tokens so both decode as long);
* summarist: `training.loop.fit` (length-grouped dynamic batches, labels padded with -100),
  evaluation during training = greedy, length-sorted, on `--eval-samples` validation examples.

Real tokens = non-padding source tokens + label tokens. Prints one JSON line per arm and the
ratios. Needs ../shared/data/dialogsum.

    .venv/bin/python bench/bench_train.py --steps 40 --threads 1 --also-fp32
    .venv/bin/python bench/bench_train.py --model minilm-bart

summarist runs with its default precision (`auto`: bf16 autocast on CPUs with native bf16, as
here; fp32 elsewhere); `--also-fp32` adds a third arm in the tutorial's precision.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "dialogsum"


# Public names present before and after the config layer moved (so the same benchmark can
# measure an older checkout: PYTHONPATH=OLD/src python bench/bench_train.py).
WARM_STARTS = ("minilm-bart", "minilm-bert2bert")


def _corpus(n_train: int) -> tuple:
    from summarist.data import DataConfig
    from summarist.data.loading import load_corpus

    corpus = load_corpus(DataConfig([str(DATA)]))
    return corpus.split("train").select(range(n_train)), corpus.split("validation")


def _train_config(a: argparse.Namespace, out: str) -> object:
    from summarist.data import DataConfig
    from summarist.training import TrainConfig

    # from_dict: a flat max_new_tokens is read by every version of TrainConfig
    return TrainConfig.from_dict(dict(
        data=DataConfig([str(DATA)]), model=a.model, output_dir=out, max_steps=a.steps,
        batch_size=a.batch_size, learning_rate=1e-4, new_params_lr_scale=1.0, threads=a.threads,
        speaker_tokens=False, eval_every=0, report=False, warmup_ratio=0.0,
        max_new_tokens=a.max_new_tokens, eval_samples=a.eval_samples, precision=a.precision,
    ))  # fmt: skip


def _what(name: str, model: object) -> dict:
    """What an arm trained, to check that both arms did the same work."""
    return {"model": name, "model_type": model.config.model_type,  # type: ignore[attr-defined]
            "parameters": sum(p.numel() for p in model.parameters())}  # type: ignore[attr-defined]  # fmt: skip


def arm_summarist(a: argparse.Namespace) -> dict:
    import tempfile

    from summarist.training import loop

    out = tempfile.mkdtemp(prefix="bench-train-")
    cfg = _train_config(a, out)
    s = loop.setup(cfg, Path(out))
    s.examples = s.examples[: a.n_train]  # same examples as the tutorial arm
    start, cpu = time.perf_counter(), time.process_time()
    progress = loop.fit(s)
    train_s, train_cpu = time.perf_counter() - start, time.process_time() - cpu
    losses = [r["loss"] for r in _read_log(Path(out)) if "loss" in r]
    subset = s.eval_split.select(range(a.eval_samples))
    start, cpu = time.perf_counter(), time.process_time()
    scores = loop.evaluate_greedy(s, subset)
    eval_s, eval_cpu = time.perf_counter() - start, time.process_time() - cpu
    return {"arm": "summarist", **_what(cfg.model, s.loaded.model),
            "precision": s.runtime.precision, "train_s": train_s, "train_cpu_s": train_cpu,
            "eval_cpu_s": eval_cpu, "real_tokens": progress.tokens_seen,
            "losses": losses, "eval_s": eval_s, "eval_examples": a.eval_samples,
            "eval_rougeL": scores["rougeL"]}  # fmt: skip


def _read_log(run: Path) -> list[dict]:
    from summarist.rundir import read_jsonl

    return read_jsonl(run / "train_log.jsonl")


def arm_tutorial(a: argparse.Namespace) -> dict:
    import tempfile

    import numpy as np
    import torch
    from datasets import Dataset
    from rouge_score import rouge_scorer
    from transformers import DataCollatorForSeq2Seq, Seq2SeqTrainer, Seq2SeqTrainingArguments

    from summarist.models.loading import load_for_training

    torch.set_num_threads(a.threads)
    train_split, val_split = _corpus(a.n_train)
    loaded = load_for_training(a.model)
    tok, model = loaded.tokenizer, loaded.model
    what = _what(a.model, model)
    model.generation_config.max_new_tokens = a.max_new_tokens
    model.generation_config.max_length = None

    def preprocess(batch: dict) -> dict:
        enc = tok(batch["text"], max_length=512, truncation=True)
        labels = tok(text_target=batch["summary"], max_length=128, truncation=True)["input_ids"]
        enc["labels"] = [ids[1:] for ids in labels]  # same labels as summarist: no leading [CLS]
        return enc

    train_ds = Dataset.from_dict({"text": train_split.texts, "summary": train_split.summaries})
    train_ds = train_ds.map(preprocess, batched=True, remove_columns=["text", "summary"])
    n_eval = a.tutorial_eval_samples or len(val_split)
    val = val_split.select(range(n_eval))
    val_ds = Dataset.from_dict({"text": val.texts, "summary": val.summaries})
    val_ds = val_ds.map(preprocess, batched=True, remove_columns=["text", "summary"])
    counted = {"tokens": 0}
    base = DataCollatorForSeq2Seq(tok, model=model)

    def collator(features: list) -> dict:
        batch = base(features)
        if model.training:
            real = int(batch["attention_mask"].sum()) + int((batch["labels"] != -100).sum())
            counted["tokens"] += real
        return batch

    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)

    def compute_metrics(pred: object) -> dict:
        ids = np.where(pred.predictions != -100, pred.predictions, tok.pad_token_id)
        preds = tok.batch_decode(ids, skip_special_tokens=True)
        scores = [scorer.score(r, p)["rougeL"].fmeasure for r, p in zip(val.summaries, preds)]
        return {"rougeL": 100 * float(np.mean(scores))}

    args = Seq2SeqTrainingArguments(
        output_dir=tempfile.mkdtemp(prefix="bench-tutorial-"), per_device_train_batch_size=a.batch_size,
        per_device_eval_batch_size=a.batch_size, learning_rate=1e-4, max_steps=a.steps,
        warmup_steps=0, weight_decay=0.01, logging_steps=10, save_strategy="no",
        eval_strategy="no", report_to=[], seed=42, use_cpu=True, predict_with_generate=True,
        generation_max_length=None, disable_tqdm=True, dataloader_num_workers=0,
    )  # fmt: skip
    trainer = Seq2SeqTrainer(model=model, args=args, train_dataset=train_ds, eval_dataset=val_ds,
                             data_collator=collator, processing_class=tok,
                             compute_metrics=compute_metrics)  # fmt: skip
    start, cpu = time.perf_counter(), time.process_time()
    trainer.train()
    train_s, train_cpu = time.perf_counter() - start, time.process_time() - cpu
    losses = [r["loss"] for r in trainer.state.log_history if "loss" in r]
    start, cpu = time.perf_counter(), time.process_time()
    metrics = trainer.evaluate()
    eval_s, eval_cpu = time.perf_counter() - start, time.process_time() - cpu
    return {"arm": "tutorial", **what, "train_s": train_s, "train_cpu_s": train_cpu,
            "eval_cpu_s": eval_cpu, "real_tokens": counted["tokens"],
            "losses": losses, "eval_s": eval_s, "eval_examples": n_eval,
            "full_validation": len(val_split), "eval_rougeL": metrics.get("eval_rougeL")}  # fmt: skip


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--model", choices=WARM_STARTS,
                   help="the model both arms train (default: each warm start in turn)")  # fmt: skip
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--n-train", type=int, default=2000)
    p.add_argument("--eval-samples", type=int, default=100)
    p.add_argument("--tutorial-eval-samples", type=int, default=0,
                   help="examples the tutorial evaluates on (0: the full validation split; a "
                   "smaller number is measured and scaled linearly to the full split)")  # fmt: skip
    p.add_argument("--max-new-tokens", type=int, default=72)
    p.add_argument("--arm", choices=["summarist", "tutorial"])
    p.add_argument(
        "--precision",
        default="auto",
        help="summarist's precision (auto: bf16 autocast on CPUs with native bf16)",
    )
    p.add_argument("--also-fp32", action="store_true",
                   help="also run summarist in fp32 (the tutorial's precision on CPU)")  # fmt: skip
    a = p.parse_args()
    if not DATA.exists():
        print(f"skip: {DATA} not found")
        return 0
    if a.arm:
        os.environ["OMP_NUM_THREADS"] = str(a.threads)
        result = arm_summarist(a) if a.arm == "summarist" else arm_tutorial(a)
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print("RESULT " + json.dumps(result))
        return 0
    import platform

    import summarist

    print(f"CPU: {_cpu_model() or platform.processor()}; summarist from {summarist.__file__}")
    for model in [a.model] if a.model else WARM_STARTS:
        a.model = model
        if compare_arms(a) != 0:
            return 1
    return 0


def _cpu_model() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return ""
    return next((ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("model name")), "")


def compare_arms(a: argparse.Namespace) -> int:
    """Run every arm on `a.model` in its own process, check they trained the same, print."""
    print(f"\n== {a.model}: threads={a.threads} steps={a.steps} batch={a.batch_size} "
          f"n_train={a.n_train}")  # fmt: skip
    results = {}
    arms = [("tutorial", []), ("summarist", [])]
    if a.also_fp32:
        arms.append(("summarist-fp32", ["--precision", "fp32"]))
    for arm, extra in arms:
        env = {**os.environ, "OMP_NUM_THREADS": str(a.threads), "TOKENIZERS_PARALLELISM": "false"}
        argv = [x for x in _without_model(sys.argv[1:]) if x != "--also-fp32"]
        cmd = [sys.executable, __file__, "--arm", arm.split("-")[0], "--model", a.model, *argv,
               *extra]  # fmt: skip
        out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
        line = next((x for x in out.stdout.splitlines() if x.startswith("RESULT ")), None)
        if line is None:
            print(out.stderr[-3000:])
            return 1
        results[arm] = json.loads(line[len("RESULT ") :])
        r = results[arm]
        print(f"{arm:>14} ({r.get('precision', 'fp32')}): "
              f"{r['real_tokens'] / r['train_cpu_s']:8.1f} real tokens/CPU-s "
              f"({r['real_tokens'] / r['train_s']:.1f}/wall-s), train "
              f"{r['train_s']:.1f}s, mean loss {sum(r['losses']) / len(r['losses']):.3f}, "
              f"eval {r['eval_s']:.1f}s on {r['eval_examples']} ex, "
              f"peak RSS {r['peak_rss_mb']:.0f} MB")  # fmt: skip
    t = results["tutorial"]
    keys = ("model", "model_type", "parameters")
    for arm, r in results.items():
        if tuple(r[k] for k in keys) != tuple(t[k] for k in keys):
            raise SystemExit(
                f"arms differ: tutorial trained {[t[k] for k in keys]}, {arm} trained "
                f"{[r[k] for k in keys]}; the ratios would compare different models"
            )
    print(f"both arms trained {a.model} ({t['model_type']}, {t['parameters']:,} parameters)")
    for arm in results:
        if arm != "tutorial":
            print(f"\n{arm} vs tutorial:")
            print(json.dumps(_ratios(t, results[arm]), indent=2))
    return 0


def _without_model(argv: list[str]) -> list[str]:
    out, skip = [], False
    for x in argv:
        if skip:
            skip = False
        elif x == "--model":
            skip = True
        elif not x.startswith("--model="):
            out.append(x)
    return out


def _ratios(t: dict, s: dict) -> dict:
    scale = t["full_validation"] / t["eval_examples"]
    tut_eval, tut_eval_cpu = t["eval_s"] * scale, t["eval_cpu_s"] * scale
    return {
        # CPU time is what a shared machine cannot steal from a single-threaded process.
        "throughput_ratio_cpu": (s["real_tokens"] / s["train_cpu_s"])
        / (t["real_tokens"] / t["train_cpu_s"]),
        "throughput_ratio_wall": (s["real_tokens"] / s["train_s"])
        / (t["real_tokens"] / t["train_s"]),
        "eval_time_ratio_cpu": tut_eval_cpu / s["eval_cpu_s"],
        "eval_time_ratio_wall": tut_eval / s["eval_s"],
        "peak_rss_ratio": s["peak_rss_mb"] / t["peak_rss_mb"],
        "tutorial_eval_full_split_s": tut_eval,
        "mean_loss": {
            "tutorial": sum(t["losses"]) / len(t["losses"]),
            "summarist": sum(s["losses"]) / len(s["losses"]),
        },
        "losses": {"tutorial": t["losses"], "summarist": s["losses"]},
    }


if __name__ == "__main__":
    sys.exit(main())
