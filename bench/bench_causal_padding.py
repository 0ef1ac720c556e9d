"""Decoder-only training batches: how much of a batch is padding (what packing could save).

Tokenizes DialogSum train through summarist's prompt builder (the model's chat template, the
default instruction, the training source/target limits) and counts, per epoch of batches from
`training.collate.length_grouped_batches`, the padding share = pad tokens / all tokens of the
padded batches, with length grouping (summarist's default) and without (random batches, as
TRL's default collator). Packing (several examples per row, attention kept inside each) can
save at most that share; it is also shown for first-fit-decreasing packing into rows of
`--pack-length` tokens, whose cost is the block-diagonal attention mask it needs on CPU.

    OMP_NUM_THREADS=1 nice .venv/bin/python bench/bench_causal_padding.py
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[1] / "shared" / "data" / "dialogsum"


def padding_share(lengths: list[int], batches: list[list[int]]) -> float:
    real = sum(lengths[i] for b in batches for i in b)
    padded = sum(len(b) * max(lengths[i] for i in b) for b in batches)
    return 1 - real / padded


def packed_share(lengths: list[int], row: int) -> tuple[float, int]:
    """First-fit-decreasing into rows of `row` tokens: (padding share, rows)."""
    free: list[int] = []
    for n in sorted(lengths, reverse=True):
        for j, room in enumerate(free):
            if n <= room:
                free[j] -= n
                break
        else:
            free.append(row - n)
    return sum(free) / (row * len(free)), len(free)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--data", default=str(DATA))
    parser.add_argument("--batch-sizes", default="4,8,16")
    parser.add_argument("--max-source-length", type=int, default=512)
    parser.add_argument("--max-target-length", type=int, default=128)
    parser.add_argument("--pack-length", type=int, default=1024)
    args = parser.parse_args()
    if not Path(args.data).exists():
        print(f"skip: {args.data} not found")
        return 0
    from summarist.config.data import DataConfig
    from summarist.data.loading import load_corpus
    from summarist.models.loading import inference_defaults, load_for_inference
    from summarist.training.causal import tokenize_causal_pairs
    from summarist.training.collate import length_grouped_batches

    train = load_corpus(DataConfig([args.data])).split("train")
    model, tok = load_for_inference(args.model)
    prompt = inference_defaults(model, tok, args.model).prompt
    examples = tokenize_causal_pairs(train.texts, train.summaries, tok, prompt,
                                     max_source_length=args.max_source_length,
                                     max_target_length=args.max_target_length)  # fmt: skip
    lengths = [len(e.input_ids) for e in examples]
    print(f"{len(lengths)} examples, {sum(lengths)} tokens, mean {sum(lengths) / len(lengths):.0f},"
          f" max {max(lengths)} (prompt + summary, {args.model})")  # fmt: skip
    for size in [int(b) for b in args.batch_sizes.split(",")]:
        row = {"batch_size": size}
        for grouped in (True, False):
            shares = [padding_share(lengths, length_grouped_batches(
                lengths, size, seed=42, epoch=e, group_by_length=grouped)) for e in range(3)]  # fmt: skip
            row["grouped" if grouped else "random"] = round(100 * sum(shares) / 3, 2)
        print(json.dumps({**row, "unit": "% padding, mean of 3 epochs"}))
    share, rows = packed_share(lengths, args.pack_length)
    print(json.dumps({"packed_rows": rows, "pack_length": args.pack_length,
                      "packed": round(100 * share, 2), "unit": "% padding"}))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
