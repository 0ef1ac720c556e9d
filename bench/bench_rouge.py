"""Benchmark ROUGE scoring against `rouge_score.RougeScorer` (the HF tutorials' scorer).

20,000 prediction/reference pairs from DialogSum + SAMSum train (prediction = the first three
dialogue lines, reference = the human summary), all four ROUGE types with stemming. Both scorers
get the same sentence-split text (one sentence per line), results are asserted identical, and
the ratio is printed for one process and for worker processes. The bootstrap (1,000 resamples)
and the end-to-end `compute_rouge` (Punkt splitting included) are timed too.

    .venv/bin/python bench/bench_rouge.py [--pairs 20000] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from summarist.metrics import bootstrap_ci, compute_rouge, score_examples, to_lsum_text
from summarist.metrics import sentences as sent_mod
from summarist.metrics import tokenizers as tok_mod

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
TYPES = ["rouge1", "rouge2", "rougeL", "rougeLsum"]


def load_pairs(n: int) -> tuple[list[str], list[str]]:
    preds, refs = [], []
    for name in ("dialogsum/train.jsonl", "samsum/train.jsonl"):
        with open(DATA / name, encoding="utf-8") as fh:
            for line in fh:
                row = json.loads(line)
                lines = [x for x in row["dialogue"].replace("\r\n", "\n").split("\n") if x.strip()]
                preds.append("\n".join(lines[:3]))
                refs.append(row["summary"])
                if len(preds) == n:
                    return preds, refs
    return preds, refs


def rouge_score_reference(preds: list[str], refs: list[str]) -> np.ndarray:
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(TYPES, use_stemmer=True)
    out = np.empty((len(preds), 4, 3))
    for k, (p, r) in enumerate(zip(preds, refs, strict=True)):
        s = scorer.score(r, p)
        out[k] = [[s[t].precision, s[t].recall, s[t].fmeasure] for t in TYPES]
    return out


def timed(fn, *args, **kw):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = fn(*args, **kw)
    return result, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if not (DATA / "dialogsum" / "train.jsonl").exists():
        print(f"skip: reference data not found at {DATA}")
        return 0
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    print(
        f"cpus={os.cpu_count()} OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']} pairs={args.pairs}"
    )

    raw_preds, raw_refs = load_pairs(args.pairs)
    (preds, refs), split_s = timed(
        lambda: ([to_lsum_text(p) for p in raw_preds], [to_lsum_text(r) for r in raw_refs])
    )
    print(f"Punkt sentence splitting of {2 * len(preds):,} texts: {split_s:.2f} s")

    theirs, rs_s = timed(rouge_score_reference, preds, refs)
    print(f"rouge_score.RougeScorer:            {rs_s:6.2f} s  ({len(preds) / rs_s:,.0f} pairs/s)")

    tok_mod._STEM_CACHE.clear()  # a cold cache, as in a fresh process
    ours, one_s = timed(score_examples, preds, [[r] for r in refs], splitter="newline", workers=1)
    assert np.array_equal(ours, theirs), f"results differ: max {np.abs(ours - theirs).max()}"
    print(f"summarist, 1 process (cold cache):  {one_s:6.2f} s  -> {rs_s / one_s:.1f}x  identical")

    if args.workers > 1:
        ours_w, w_s = timed(
            score_examples, preds, [[r] for r in refs], splitter="newline", workers=args.workers
        )
        assert np.array_equal(ours_w, theirs), "worker results differ"
        print(
            f"summarist, {args.workers} processes (fork, warm cache): {w_s:6.2f} s  -> "
            f"{rs_s / w_s:.1f}x  identical"
        )

    flat = ours.reshape(len(ours), 12) * 100
    _, boot_s = timed(bootstrap_ci, flat, 1000, 0.95, 0)
    print(f"bootstrap, 1,000 resamples x {len(ours):,} examples x 12 metrics: {boot_s:.2f} s")

    tok_mod._STEM_CACHE.clear()
    sent_mod._split_line.cache_clear()  # cold: split again, as a fresh process would
    result, e2e_s = timed(compute_rouge, raw_preds, [[r] for r in raw_refs], workers=1)
    assert np.array_equal(result.scores, theirs), "end-to-end results differ"
    result.summary()
    print(
        f"compute_rouge end to end (Punkt split + score, 1 process): {e2e_s:.2f} s; "
        f"vs rouge-score on pre-split text: {rs_s / e2e_s:.1f}x"
    )
    return 0 if rs_s / one_s >= 4 else 1


if __name__ == "__main__":
    raise SystemExit(main())
