"""Quality per CPU budget on DialogSum: summarist's defaults vs the tutorial recipe vs lead-3.

Two parts:

* `--arm tutorial --minutes M`: the tutorial recipe (Seq2SeqTrainer + DataCollatorForSeq2Seq,
  lr 5e-5 over 3 epochs, no added speaker tokens, no length grouping) on the same offline
  MiniLM warm start (`--model`: minilm-bart, the default, or minilm-bert2bert), stopped after M
  minutes of training or `--steps` steps, then scored with greedy decoding on the same 100
  validation dialogues (same seeded sample, same max_new_tokens, same generation code) that
  summarist's evaluation during training uses.
* `--summarize RUN_DIR [--tutorial JSON]`: the summarist run's curve (train_log.jsonl), its
  final validation metrics next to lead-3-utterances, and the tutorial arm; writes
  bench/NAME.json and bench/NAME.md (`--name`, default quality_budget).

The summarist run itself is a plain `summarist train` (the command is in the markdown):

    OMP_NUM_THREADS=1 summarist train --model minilm-bart --data ../shared/data/dialogsum \\
        --threads 1 --max-steps 1440 --max-cpu-minutes 57 \\
        --output-dir runs/quality-dialogsum-minilm-bart --no-report
    python bench/quality_budget.py --arm tutorial --steps 240 --model minilm-bart \\
        --out runs/tutorial-240-minilm-bart.json
    python bench/quality_budget.py --summarize runs/quality-dialogsum-minilm-bart \\
        --tutorial runs/tutorial-240-minilm-bart.json --name quality_budget_minilm_bart

A decoder-only record (bench/quality_budget_smollm2_full.md) is a plain `summarist train
--model smollm2-135m ...` summarized with `--command` (the command as run: the default one is
the minilm template) and `--name`; its final rows add the zero-shot model and the paired
difference the fine-tune made.

The BERT2BERT record (bench/quality_budget.md) is the same three commands with
`--model minilm-bert2bert`, output runs/quality-dialogsum-bf16 and runs/tutorial-240.json, and
the default `--name`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[1] / "shared" / "data" / "dialogsum"
TRAIN_COMMAND = (
    "OMP_NUM_THREADS=1 summarist train --model {model} --data ../shared/data/dialogsum "
    "--threads 1 --max-steps 1440 --max-cpu-minutes 57 --output-dir {run} --no-report"
)


def eval_indices(n_val: int, n: int = 100, seed: int = 42) -> list[int]:
    """The validation sample summarist's in-training evaluation uses (same seed, same rule)."""
    return sorted(random.Random(seed).sample(range(n_val), min(n, n_val)))


def tutorial_arm(
    minutes: float, threads: int, max_new_tokens: int, steps: int | None, model_name: str
) -> dict:
    import tempfile

    import torch
    from datasets import Dataset
    from transformers import (
        DataCollatorForSeq2Seq,
        Seq2SeqTrainer,
        Seq2SeqTrainingArguments,
        TrainerCallback,
    )

    from summarist.config.data import DataConfig
    from summarist.config.generation import GenerationSettings
    from summarist.data.loading import load_corpus
    from summarist.inference.batching import generate_batched
    from summarist.metrics.rouge import compute_rouge
    from summarist.models.loading import load_for_training

    torch.set_num_threads(threads)
    corpus = load_corpus(DataConfig([str(DATA)]))
    train, val = corpus.split("train"), corpus.split("validation")
    loaded = load_for_training(model_name)
    tok, model = loaded.tokenizer, loaded.model

    def preprocess(batch: dict) -> dict:
        enc = tok(batch["text"], max_length=512, truncation=True)
        enc["labels"] = tok(text_target=batch["summary"], max_length=128, truncation=True)[
            "input_ids"
        ]
        return enc

    ds = Dataset.from_dict({"text": train.texts, "summary": train.summaries})
    ds = ds.map(preprocess, batched=True, remove_columns=["text", "summary"])

    class StopAfter(TrainerCallback):
        """Stop after `minutes` of CPU time (robust on a shared machine) or `steps` steps."""

        def __init__(self) -> None:
            self.start = time.process_time()

        def on_step_end(self, args, state, control, **kw):  # type: ignore[no-untyped-def]
            if time.process_time() - self.start >= minutes * 60 or (
                steps is not None and state.global_step >= steps
            ):
                control.should_training_stop = True
            return control

    args = Seq2SeqTrainingArguments(
        output_dir=tempfile.mkdtemp(prefix="tutorial-"), per_device_train_batch_size=8,
        learning_rate=5e-5, num_train_epochs=3, weight_decay=0.01, logging_steps=50,
        save_strategy="no", eval_strategy="no", report_to=[], seed=42, use_cpu=True,
        disable_tqdm=True, dataloader_num_workers=0,
    )  # fmt: skip
    trainer = Seq2SeqTrainer(model=model, args=args, train_dataset=ds,
                             data_collator=DataCollatorForSeq2Seq(tok, model=model),
                             processing_class=tok, callbacks=[StopAfter()])  # fmt: skip
    start, cpu = time.perf_counter(), time.process_time()
    trainer.train()
    train_s, train_cpu = time.perf_counter() - start, time.process_time() - cpu
    subset = val.select(eval_indices(len(val)))
    settings = GenerationSettings(max_new_tokens=max_new_tokens).for_eval()
    preds, _ = generate_batched(model, tok, subset.texts, settings, batch_size=32)
    rouge = compute_rouge(preds, subset.references, bootstrap=0).summary()
    return {
        "arm": "tutorial", "train_minutes": round(train_s / 60, 2),
        "train_cpu_minutes": round(train_cpu / 60, 2),
        "steps": trainer.state.global_step, "threads": threads,
        "losses": [r["loss"] for r in trainer.state.log_history if "loss" in r],
        "eval": {k: round(v["fmeasure"]["mid"], 3) for k, v in rouge.items()},
        "distinct_share": len(set(preds)) / len(preds), "n": len(preds),
        "examples": preds[:5],
    }  # fmt: skip


def summarize(run: Path, tutorial: Path | None, command: str | None = None) -> dict:
    from summarist.rundir import read_json, read_jsonl, read_yaml

    log = read_jsonl(run / "train_log.jsonl")
    cfg = read_yaml(run / "config.yaml")
    times = {r["step"]: r["elapsed_s"] for r in log if "elapsed_s" in r}
    cpu = {r["step"]: r["cpu_s"] for r in log if "cpu_s" in r}
    curve = []
    for r in log:
        if "eval" in r:
            before = [t for s, t in times.items() if s <= r["step"]]
            minute = round(max(before) / 60, 1) if before else None
            cpu_before = [t for s, t in cpu.items() if s <= r["step"]]
            cpu_minute = round(max(cpu_before) / 60, 1) if cpu_before else None
            curve.append({"step": r["step"], "minutes": minute, "cpu_minutes": cpu_minute,
                          **r["eval"]})  # fmt: skip
    out: dict = {
        "model": cfg["model"],
        "command": command or TRAIN_COMMAND.format(model=cfg["model"], run=run),
        "lora": bool(cfg.get("lora")),
        "threads": cfg["resolved"]["threads"],
        "steps_done": max(times) if times else 0,
        "train_minutes": round(max(times.values()) / 60, 1) if times else 0,
        "train_cpu_minutes": round(max(cpu.values()) / 60, 1) if cpu else None,
        "precision": cfg["resolved"].get("precision"),
        "curve_greedy_100_validation": curve,
    }
    if (run / "metrics.json").exists():
        val = read_json(run / "metrics.json")["splits"]["validation"]
        base = next(iter(val["baselines"].values()))
        r1 = val["rouge"]["rouge1"]["fmeasure"]
        b1 = base["rouge1"]["fmeasure"]
        out["final_validation"] = {
            "n": val["n"], "decoding": cfg["generation"],
            "model": {k: v["fmeasure"] for k, v in val["rouge"].items()},
            **{name: {k: v["fmeasure"] for k, v in scores.items() if isinstance(v, dict) and "fmeasure" in v}
               for name, scores in val["baselines"].items()},
            "rouge1_margin": round(r1["mid"] - b1["mid"], 2),
            "target_met (margin >= 5)": r1["mid"] - b1["mid"] >= 5,
        }  # fmt: skip
        if "zero-shot" in val.get("paired", {}):
            out["final_validation"]["paired_vs_zero_shot_rouge1"] = val["paired"]["zero-shot"][
                "rouge1"
            ]
        preds = [r["prediction"] for r in read_jsonl(run / "predictions.jsonl")]
        out["final_validation"]["distinct_predictions"] = f"{len(set(preds))} of {len(preds)}"
    if tutorial is not None and tutorial.exists():
        out["tutorial"] = json.loads(tutorial.read_text("utf-8"))
    return out


def to_markdown(res: dict) -> str:
    title = f"{res['model']}{' (LoRA)' if res.get('lora') else ''}"
    lines = [f"# Quality per budget: DialogSum, offline {title}, CPU", "",
             f"Command: `{res['command']}`", "",
             f"{res['steps_done']} steps in {res['train_cpu_minutes']} CPU-minutes of training "
             f"({res['train_minutes']} wall-clock) on {res['threads']} thread(s), precision "
             f"{res.get('precision')}, in one uninterrupted command.", "",
             "## Curve (greedy, 100 validation dialogues, evaluation during training)", "",
             "| step | CPU-minutes | ROUGE-1 | ROUGE-2 | ROUGE-L | distinct outputs | at cap |",
             "|---|---|---|---|---|---|---|"]  # fmt: skip
    for c in res["curve_greedy_100_validation"]:
        lines.append(f"| {c['step']} | {c.get('cpu_minutes')} | {c['rouge1']:.2f} | {c['rouge2']:.2f} | "
                     f"{c['rougeL']:.2f} | {c.get('distinct_share', 0):.2f} | "
                     f"{c['hit_cap_share']:.2f} |")  # fmt: skip
    if res.get("note"):
        lines += ["", res["note"]]
    fin = res.get("final_validation")
    if fin:
        beams = fin["decoding"].get("num_beams", 4)
        decoding = "greedy" if beams == 1 else f"beam search, {beams} beams"
        lines += ["", f"## Final evaluation ({decoding}, validation, n={fin['n']})", "",
                  "| system | ROUGE-1 | ROUGE-2 | ROUGE-L |", "|---|---|---|---|"]  # fmt: skip
        for name, scores in fin.items():
            if isinstance(scores, dict) and "rouge1" in scores:
                cells = [f"{scores[k]['mid']:.2f} [{scores[k]['low']:.2f}, {scores[k]['high']:.2f}]"
                         for k in ("rouge1", "rouge2", "rougeL")]  # fmt: skip
                lines.append(f"| {name} | " + " | ".join(cells) + " |")
        lines += ["", f"ROUGE-1 margin over the baseline: {fin['rouge1_margin']} points "
                  f"(target: >= 5; met: {fin['target_met (margin >= 5)']}); distinct predictions: "
                  f"{fin['distinct_predictions']}."]  # fmt: skip
        zs = fin.get("paired_vs_zero_shot_rouge1")
        if zs:
            lines += ["", f"What the fine-tune added over the zero-shot model (paired bootstrap, "
                      f"ROUGE-1): {zs['diff']:+.2f} [{zs['low']:+.2f}, {zs['high']:+.2f}], "
                      f"p={zs['p_value']:.3g}."]  # fmt: skip
    tut = res.get("tutorial")
    if tut:
        lines += ["", "## Tutorial recipe, same data and model", "",
                  f"{tut['steps']} steps in {tut['train_cpu_minutes']} CPU minutes "
                  f"({tut['train_minutes']} wall, {tut['threads']} "
                  f"thread(s)); greedy on the same 100 validation dialogues: ROUGE-1 "
                  f"{tut['eval']['rouge1']:.2f}, ROUGE-L {tut['eval']['rougeL']:.2f}, distinct "
                  f"outputs {tut['distinct_share']:.2f}."]  # fmt: skip
    return "\n".join(lines) + "\n"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--arm", choices=["tutorial"])
    p.add_argument("--minutes", type=float, default=60, help="CPU minutes of training")
    p.add_argument("--steps", type=int, default=None, help="stop after this many steps")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--max-new-tokens", type=int, default=72)
    p.add_argument("--model", default="minilm-bart", help="model of the tutorial arm")
    p.add_argument("--out", type=Path, default=Path("runs/tutorial.json"))
    p.add_argument("--summarize", type=Path)
    p.add_argument("--tutorial", type=Path)
    p.add_argument("--note", default="", help="a paragraph added to the markdown (how it ran)")
    p.add_argument("--name", default="quality_budget", help="bench/NAME.json and bench/NAME.md")
    p.add_argument("--command", help="the train command as run (default: the minilm template)")
    a = p.parse_args()
    if not DATA.exists():
        print(f"skip: {DATA} not found")
        return 0
    if a.arm == "tutorial":
        os.environ.setdefault("OMP_NUM_THREADS", str(a.threads))
        res = tutorial_arm(a.minutes, a.threads, a.max_new_tokens, a.steps, a.model)
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(json.dumps(res, indent=2), "utf-8")
        print(json.dumps(res, indent=2))
    if a.summarize:
        res = summarize(a.summarize, a.tutorial, a.command)
        res["note"] = a.note
        (HERE / f"{a.name}.json").write_text(json.dumps(res, indent=2) + "\n", "utf-8")
        (HERE / f"{a.name}.md").write_text(to_markdown(res), "utf-8")
        print(to_markdown(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
