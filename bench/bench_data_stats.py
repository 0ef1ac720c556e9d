"""Benchmark `summarist data stats` on SAMSum train (14.7k rows).

Target (issue 2): under 10 s without --model. With a tokenizer, batched fast tokenization is
compared in the same process against the tutorial habit of tokenizing one text at a time.

    .venv/bin/python bench/bench_data_stats.py [--data ../shared/data/samsum]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import torch

from summarist.data import DataConfig, load_corpus
from summarist.data.stats import compute_stats, token_lengths
from summarist.models.pretrained import load_tokenizer

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "samsum"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default=str(DEFAULT))
    parser.add_argument("--model", default="minilm", help="tokenizer for the token-count part")
    args = parser.parse_args()
    if not Path(args.data).exists():
        print(f"skip: {args.data} not found")
        return 0
    torch.set_num_threads(1)
    print(f"threads: torch={torch.get_num_threads()} cpus={os.cpu_count()}")

    start = time.perf_counter()
    corpus = load_corpus(DataConfig(data=[args.data]))
    stats = compute_stats(corpus)
    words_s = time.perf_counter() - start
    rows = sum(s["rows"] for s in stats["splits"].values())
    print(f"data stats without --model: {words_s:.2f} s for {rows:,} rows (target < 10 s)")

    tok = load_tokenizer(args.model)
    texts = corpus["train"].texts
    start = time.perf_counter()
    batched = token_lengths(tok, texts)
    batched_s = time.perf_counter() - start
    start = time.perf_counter()
    single = [len(tok(t, verbose=False)["input_ids"]) for t in texts]
    single_s = time.perf_counter() - start
    assert list(batched) == single, "batched token counts differ from one-at-a-time"
    print(
        f"token counts for {len(texts):,} sources ({type(tok).__name__}): batched {batched_s:.2f} s, "
        f"one at a time {single_s:.2f} s -> {single_s / batched_s:.1f}x"
    )
    return 0 if words_s < 10 else 1


if __name__ == "__main__":
    sys.exit(main())
