"""ROUGE with and without the detokenizer of uncased WordPiece output: one model, paired.

The model generates once with the detokenizer switched off (the raw decoded text, as before
it existed); `detokenize(raw, source)` — what `run_batched` applies — gives the other arm, so
the two differ by the detokenizer alone. Both are scored against the references with the same
ROUGE settings, then compared by paired bootstrap (detokenized − raw). Also printed: how many
summaries the detokenizer changed, a few of them, and the CPU model.

    OMP_NUM_THREADS=1 python bench/bench_detokenize.py --model runs/train \\
        --data ../shared/data/dialogsum/dev.jsonl --n 200 --num-beams 1 --threads 1
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from summarist.hardware import cpu_model


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True, help="run directory or model directory")
    ap.add_argument("--data", required=True, help="file or directory with the split")
    ap.add_argument("--split", default="validation")
    ap.add_argument("--n", type=int, default=200, help="first N examples")
    ap.add_argument("--num-beams", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path, default=None, help="write the result as JSON here")
    args = ap.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    from summarist.config.data import DataConfig
    from summarist.data.loading import load_corpus
    from summarist.evaluation import compare_scores
    from summarist.inference import batching
    from summarist.inference.detokenize import detokenize, needs_detokenizer
    from summarist.inference.summarizer import Summarizer
    from summarist.metrics import ROUGE_TYPES, compute_rouge
    from summarist.metrics.tokenizers import tokenizer_for_lang

    split = load_corpus(DataConfig(data=[args.data])).split(args.split)
    split = split.select(list(range(min(args.n, len(split)))))
    texts, refs = list(split.texts), [list(r) for r in split.references]
    summarizer = Summarizer.from_pretrained(args.model)
    assert needs_detokenizer(summarizer.tokenizer), (
        "this model's tokenizer is not uncased WordPiece"
    )
    settings = summarizer.settings.with_overrides(num_beams=args.num_beams)

    on = batching.detokenizer_for
    batching.detokenizer_for = lambda tokenizer: None  # the raw arm: text as decoded
    start = time.perf_counter()
    raw = summarizer.summarize_detailed(texts, settings).summaries
    seconds = time.perf_counter() - start
    batching.detokenizer_for = on
    readable = [detokenize(r, s) for r, s in zip(raw, texts, strict=True)]
    # The arm must be what the decode path produces: check it on a few texts.
    k = min(8, len(texts))
    assert summarizer.summarize_detailed(texts[:k], settings).summaries == readable[:k]

    tokenizer = tokenizer_for_lang(None, raw[:100] + [r[0] for r in refs[:100]])
    scores = {
        name: compute_rouge(p, refs, bootstrap=0, lang=tokenizer).fmeasure()
        for name, p in (("raw", raw), ("detokenized", readable))
    }
    paired = compare_scores(scores["detokenized"], scores["raw"], bootstrap=1000)
    changed = sum(a != b for a, b in zip(raw, readable, strict=True))
    print(f"CPU: {cpu_model()}; torch threads {args.threads}; model {args.model}")
    print(f"{len(texts)} {split.name} examples, num_beams={args.num_beams}, "
          f"generation {seconds:.0f} s; ROUGE tokenizer {tokenizer}; "
          f"{changed} of {len(texts)} summaries changed by the detokenizer")  # fmt: skip
    print("| | raw | detokenized | difference [95% CI] | p |")
    print("|---|---|---|---|---|")
    for rt in ROUGE_TYPES:
        r = paired[rt]
        print(f"| {rt} | {r['b']:.2f} | {r['a']:.2f} | {r['diff']:+.2f} "
              f"[{r['low']:+.2f}, {r['high']:+.2f}] | {r['p_value']:.3f} |")  # fmt: skip
    for a, b in [(a, b) for a, b in zip(raw, readable, strict=True) if a != b][:3]:
        print(f"  raw:         {a}\n  detokenized: {b}")
    if args.out:
        args.out.write_text(
            json.dumps({"cpu": cpu_model(), "n": len(texts), "changed": changed,
                        "rouge": paired, "raw": raw, "detokenized": readable}, indent=1),
            encoding="utf-8",
        )  # fmt: skip


if __name__ == "__main__":
    main()
