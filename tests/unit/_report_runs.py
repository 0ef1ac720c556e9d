"""Synthetic run directories for the report tests, written to the contract in summarist.rundir.

Scores are simple n-gram F1s computed here (the report must not care how they were made);
sources contain `<`, `&` and quotes so escaping is exercised on every render.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np

from summarist import rundir

NAMES = ["Anna", "Ben", "Cara", "Dan", "Eve", "Finn", "Gus", "Hana"]
THINGS = ["the report", "lunch", "the train tickets", "a gift", "the keys", "dinner", "R&D <notes>"]
FILLER = [
    "ok",
    "sure",
    "maybe",
    "later",
    "thanks",
    "see",
    "you",
    "then",
    "sounds",
    "good",
    "why",
    "not",
]


def _f1(pred: list[str], ref: list[str], n: int) -> float:
    grams = lambda ws: [tuple(ws[i : i + n]) for i in range(len(ws) - n + 1)]  # noqa: E731
    p, r = grams(pred), grams(ref)
    if not p or not r:
        return 0.0
    overlap = sum(min(p.count(g), r.count(g)) for g in set(p))
    if overlap == 0:
        return 0.0
    prec, rec = overlap / len(p), overlap / len(r)
    return 100 * 2 * prec * rec / (prec + rec)


def _scores(pred: str, ref: str) -> dict[str, float]:
    pw, rw = pred.lower().split(), ref.lower().split()
    r1, r2 = _f1(pw, rw, 1), _f1(pw, rw, 2)
    return {"rouge1": r1, "rouge2": r2, "rougeL": 0.9 * r1, "rougeLsum": 0.92 * r1}


def _ci(values: list[float], seed: int = 0) -> dict[str, float]:
    arr = np.array(values)
    rng = np.random.default_rng(seed)
    means = arr[rng.integers(0, len(arr), (200, len(arr)))].mean(axis=1)
    low, high = np.quantile(means, [0.025, 0.975])
    return {"low": float(low), "mid": float(arr.mean()), "high": float(high)}


def examples(n: int, seed: int = 0) -> list[dict[str, Any]]:
    """(source, reference) pairs with varied lengths; the same for every run of one seed."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        a, b = rng.sample(NAMES, 2)
        thing = rng.choice(THINGS)
        turns = [f"{a}: Did you get {thing}?", f"{b}: Yes, I got {thing} today & it's fine."]
        turns += [f"{rng.choice([a, b])}: {' '.join(rng.choices(FILLER, k=rng.randint(2, 9)))}"
                  for _ in range(rng.randint(0, 4 + i % 20))]  # fmt: skip
        out.append({"source": "\n".join(turns), "reference": f"{b} got {thing} for {a}."})
    return out


def predictions(pairs: list[dict[str, Any]], quality: float, seed: int) -> list[str]:
    """Predictions that copy each reference word with probability `quality`."""
    rng = random.Random(seed)
    preds = []
    for pair in pairs:
        words = [
            w if rng.random() < quality else rng.choice(FILLER) for w in pair["reference"].split()
        ]
        preds.append(" ".join(words + rng.choices(FILLER, k=rng.randint(0, 3))))
    return preds


def write_run(
    path: Path,
    *,
    name: str,
    kind: str = "evaluate",
    n: int = 40,
    quality: float = 0.7,
    seed: int = 1,
    splits: tuple[str, ...] = ("validation", "test"),
    train_log: bool = True,
    baselines: bool = True,
) -> Path:
    """A complete run directory; `train_log=False` makes it look like a baseline run."""
    rows, split_metrics = [], {}
    for s_i, split in enumerate(splits):
        pairs = examples(n, seed=100 + s_i)  # same examples in every run
        preds = predictions(pairs, quality, seed=seed + s_i)
        split_rows = []
        for i, (pair, pred) in enumerate(zip(pairs, preds, strict=True)):
            split_rows.append({
                "split": split, "index": i, "id": f"{split}-{i}", "source": pair["source"],
                "prediction": pred, "references": [pair["reference"]],
                "scores": _scores(pred, pair["reference"]), "new_tokens": len(pred.split()) + 2,
                "hit_cap": i % 17 == 0,
            })  # fmt: skip
        rows += split_rows
        rouge = {
            key: {"fmeasure": _ci([r["scores"][key] for r in split_rows]),
                  "precision": _ci([r["scores"][key] for r in split_rows], 1),
                  "recall": _ci([r["scores"][key] for r in split_rows], 2)}
            for key in ("rouge1", "rouge2", "rougeL", "rougeLsum")
        }  # fmt: skip
        split_metrics[split] = {
            "n": n,
            "rouge": rouge,
            "rouge_settings": {
                "multi_ref": "max",
                "stemmer": True,
                "tokenizer": "rouge-score",
                "sentence_splitter": "punkt",
                "bootstrap": 1000,
                "confidence": 0.95,
                "seed": 0,
            },
            "diagnostics": {
                "prediction_words": {"mean": float(np.mean([len(p.split()) for p in preds]))},
                "empty_predictions": 0,
            },
        }
        if baselines:
            split_metrics[split]["baselines"] = {
                "lead-3": {k: {"fmeasure": {"low": 20.0 + j, "mid": 22.04 + j, "high": 24.06 + j}}
                           for j, k in enumerate(("rouge1", "rouge2", "rougeL", "rougeLsum"))}
            }  # fmt: skip
    data = {"data": ["synthetic"], "preset": None, "seed": 42}
    rundir.write_yaml(path / rundir.CONFIG, {"kind": kind, "name": name, "summarist_version": "0.1.0",
                                            "data": data, "quality": quality})  # fmt: skip
    rundir.write_json(
        path / rundir.METRICS, {"kind": kind, "name": name, "data": data, "splits": split_metrics}
    )
    rundir.write_jsonl(path / rundir.PREDICTIONS, rows)
    if train_log:
        log = []
        for step in range(10, 210, 10):
            log.append({"step": step, "epoch": step / 100, "loss": 3.0 * np.exp(-step / 80) + 0.5,
                        "learning_rate": 5e-4 * (1 - step / 220), "tokens_per_second": 900.0,
                        "elapsed_s": step * 0.5})  # fmt: skip
            if step % 50 == 0:
                log.append({"step": step, "epoch": step / 100,
                            "eval": {"rouge1": 20 + step / 10, "rouge2": 8 + step / 25,
                                     "rougeL": 18 + step / 12, "rougeLsum": 19 + step / 11,
                                     "hit_cap_share": 0.05, "n": n}})  # fmt: skip
        rundir.write_jsonl(path / rundir.TRAIN_LOG, log)
    return path
