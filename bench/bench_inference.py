"""Inference speed: summaries/second versus the tutorials' one-text-at-a-time loop.

    .venv/bin/python bench/bench_inference.py                       # all shapes, greedy + beam 4
    .venv/bin/python bench/bench_inference.py --shapes t5-small --n 32 --beam-n 0   # quick
    .venv/bin/python bench/bench_inference.py --train-t5 /tmp/quick-t5  # the ROUGE check model

The reference path is what the transformers tutorials did before `pipeline("summarization")` went
away: tokenize one text, `model.generate`, decode, repeat. Every path runs in this one process on
the same inputs with the output length forced (min_new_tokens = max_new_tokens) so the work is
equal; ratios are printed against the reference, and outputs are asserted identical where they
must be (batched torch fp32 and CTranslate2 fp32 versus one at a time, greedy).

Paths: torch fp32 batched (length-sorted batches of 16), torch bf16 (bfloat16 weights: native
on AMX/AVX512-BF16 CPUs; batches of 32 when greedy), torch dynamic int8 (output head and
feed-forward outputs kept fp32), all three with their linear layers pre-packed as `Summarizer`
does on CPU; CTranslate2 fp32 and int8 (one single-threaded replica per thread, each on its own
batch of at most 16, or 8 in int8, all texts handed over in one call). Batch sizes are what
`Summarizer` picks when the user does not (`--batch-size` fixes one for every path).

Each path is timed `--rounds` times (default 3), each round right after its own timing of the
reference; the printed rate and ratio are medians over rounds (per-round ratios are printed too).

Shapes (random weights, built from configs; tokenizer: the real T5 one from ../shared/data):
t5-small (d_model 512, 6+6 layers, 8 heads, d_ff 2048), bart-base (768, 6+6, 12 heads, 32,100
vocabulary), minilm-bart (the offline default warm start: the packaged MiniLM mapped onto a
BART, `summarist train --model minilm-bart`, which CTranslate2 converts) and minilm (the same
weights as a BERT2BERT, `--model minilm-bert2bert`, which CTranslate2 cannot convert, so the
torch bf16/int8 paths carry it).

ROUGE of bf16/int8 versus fp32 needs a trained model (a random model's outputs are noise):
`--rouge-model DIR` (any saved model) or `--train-t5 DIR` trains a small T5 on DialogSum for a
few minutes first. The check runs on the first `--rouge-n` inputs of DialogSum dev, or of each
`--rouge-data FILE` (JSON lines with `dialogue` and `summary`, e.g. SAMSum validation).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import resource
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT / "src"))


# ---------------------------------------------------------------- models
def t5_tokenizer() -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(DATA / "t5_tokenizer"))


def build_shape(shape: str) -> tuple[Any, Any, str]:
    """(model, tokenizer, prefix) with seeded random weights."""
    import torch

    torch.manual_seed(0)
    if shape == "t5-small":
        from transformers import T5Config, T5ForConditionalGeneration

        cfg = T5Config(vocab_size=32128, d_model=512, d_kv=64, d_ff=2048, num_layers=6,
                       num_decoder_layers=6, num_heads=8, decoder_start_token_id=0,
                       pad_token_id=0, eos_token_id=1)  # fmt: skip
        return T5ForConditionalGeneration(cfg).eval(), t5_tokenizer(), "summarize: "
    if shape == "bart-base":
        from transformers import BartConfig, BartForConditionalGeneration

        cfg = BartConfig(vocab_size=32100, d_model=768, encoder_layers=6, decoder_layers=6,
                         encoder_attention_heads=12, decoder_attention_heads=12,
                         encoder_ffn_dim=3072, decoder_ffn_dim=3072, max_position_embeddings=1024,
                         pad_token_id=0, eos_token_id=1, bos_token_id=0,
                         decoder_start_token_id=1, forced_eos_token_id=1,
                         normalize_before=False, normalize_embedding=True)  # fmt: skip
        return BartForConditionalGeneration(cfg).eval(), t5_tokenizer(), ""
    if shape == "minilm":
        from transformers import EncoderDecoderModel

        from summarist.models.bert2bert import wire_special_tokens
        from summarist.models.pretrained import load_tokenizer
        from summarist.models.resolve import resolve_model_path
        from summarist.quiet import quiet_transformers

        path = resolve_model_path("minilm")
        with quiet_transformers():
            model = EncoderDecoderModel.from_encoder_decoder_pretrained(path, path)
        tok = load_tokenizer("minilm")
        wire_special_tokens(model, tok)
        return model.eval(), tok, ""
    if shape == "minilm-bart":  # the same MiniLM weights as a BART (summarist.models.bert2bart)
        from summarist.models.loading import load_for_training

        loaded = load_for_training("minilm-bart")
        return loaded.model.eval(), loaded.tokenizer, ""
    raise SystemExit(f"unknown shape {shape}")


# ---------------------------------------------------------------- measuring
class PeakRSS:
    """Peak resident memory during a block (sampled every 10 ms), in MiB."""

    def __init__(self) -> None:
        import psutil

        self.proc = psutil.Process()
        self.peak = 0
        self._stop = threading.Event()

    def __enter__(self) -> PeakRSS:
        self.base = self.proc.memory_info().rss
        self.peak = self.base
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.proc.memory_info().rss)
            time.sleep(0.01)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def mib(self) -> float:
        return self.peak / 2**20


def one_at_a_time(model: Any, tok: Any, texts: list[str], prefix: str, gen: dict) -> list[str]:
    """The tutorials' loop: one text, `model.generate`, decode."""
    import torch

    out = []
    for text in texts:
        enc = tok(prefix + text, return_tensors="pt", truncation=True, max_length=512)
        with torch.no_grad():
            ids = model.generate(input_ids=enc.input_ids, attention_mask=enc.attention_mask, **gen)
        out.append(tok.decode(ids[0], skip_special_tokens=True).strip())
    return out


def timed(fn: Callable[[], list[str]]) -> tuple[list[str], float, float]:
    with PeakRSS() as mem:
        start = time.perf_counter()
        out = fn()
        seconds = time.perf_counter() - start
    return out, seconds, mem.mib


def bench_shape(shape: str, texts: list[str], args: argparse.Namespace) -> list[dict]:
    """Every path against the reference, `args.rounds` times; per-round ratios, then medians.

    The reference is re-timed in every round, right before the paths it is compared with: this
    VM's memory bandwidth (which bounds the one-at-a-time loop) drifts by tens of percent over
    minutes, so a ratio is only meaningful between timings taken close together.
    """
    from summarist.config.generation import GenerationSettings
    from summarist.inference.backends import ctranslate2_backend as ct2

    model, tok, prefix = build_shape(shape)
    rows = []
    for beams, n in ((1, args.n), (4, args.beam_n)):
        if n <= 0:
            continue
        subset = texts[:n]
        settings = GenerationSettings(max_new_tokens=args.new_tokens,
                                      min_new_tokens=args.new_tokens, num_beams=beams,
                                      no_repeat_ngram_size=0, early_stopping=beams > 1)  # fmt: skip
        gen = {"max_new_tokens": args.new_tokens, "min_new_tokens": args.new_tokens,
               "num_beams": beams, "do_sample": False}  # fmt: skip
        labels = ["torch fp32 batched", "torch bf16 batched", "torch int8 batched"]
        if args.unpacked:  # the A/B for pre-packing the linear layers
            labels += ["torch fp32 unpacked", "torch bf16 unpacked"]
        ct2_dir = None
        if ct2.supports(model.config.model_type):
            ct2_dir = tempfile.TemporaryDirectory()
            ct2.export_ctranslate2(model, tok, Path(ct2_dir.name), prefix=prefix,
                                   settings=settings, source_limit=512)  # fmt: skip
            labels += ["ctranslate2 fp32 batched", "ctranslate2 int8 batched"]
        rounds = [
            one_round(model, tok, prefix, subset, gen, settings, labels, ct2_dir, args)
            for _ in range(args.rounds)
        ]
        row = summarize_rounds(shape, beams, n, rounds)
        for label, path in row["paths"].items():
            if beams == 1 and "fp32" in label and path["identical"] != n:
                MISMATCHES.append(f"{shape} {label}: {n - path['identical']} of {n} outputs differ")
        rows.append(row)
        print_row(row, args.threads)
        if ct2_dir is not None:
            ct2_dir.cleanup()
    return rows


def one_round(
    model: Any, tok: Any, prefix: str, subset: list[str], gen: dict, settings: Any,
    labels: list[str], ct2_dir: Any, args: argparse.Namespace,
) -> dict:  # fmt: skip
    """One timing of the reference and of every path, in that order."""
    from summarist.inference.batching import default_batch_size, run_batched

    ref, ref_s, ref_mem = timed(lambda: one_at_a_time(model, tok, subset, prefix, gen))
    out: dict[str, Any] = {"ref_s": ref_s, "ref_mib": ref_mem, "paths": {}}
    for label in labels:
        backend = make_backend(label, model, tok, ct2_dir.name if ct2_dir else "")
        # What `Summarizer` uses when the user does not choose, unless --batch-size says.
        size = args.batch_size or default_batch_size(backend, settings)
        preds, seconds, mem = timed(
            lambda b=backend, size=size: run_batched(b, tok, subset, settings, batch_size=size,
                                                     prefix=prefix, limit=512)[0]
        )  # fmt: skip
        same = sum(a == b for a, b in zip(preds, ref, strict=True))
        out["paths"][label] = {"s": seconds, "mib": mem, "identical": same, "batch": size}
        del backend
    return out


def summarize_rounds(shape: str, beams: int, n: int, rounds: list[dict]) -> dict:
    """Median rate and median per-round ratio of each path; worst-case identical count."""
    from statistics import median

    row: dict[str, Any] = {
        "shape": shape, "beams": beams, "n": n, "rounds": len(rounds),
        "one_at_a_time_per_s": median(n / r["ref_s"] for r in rounds),
        "one_at_a_time_per_s_all": [round(n / r["ref_s"], 2) for r in rounds],
        "one_at_a_time_peak_mib": max(r["ref_mib"] for r in rounds), "paths": {},
    }  # fmt: skip
    for label in rounds[0]["paths"]:
        per_round = [r["paths"][label] for r in rounds]
        ratios = [r["ref_s"] / p["s"] for r, p in zip(rounds, per_round, strict=True)]
        row["paths"][label] = {
            "per_s": median(n / p["s"] for p in per_round),
            "ratio": median(ratios), "ratios_all": [round(x, 2) for x in ratios],
            "peak_mib": max(p["mib"] for p in per_round),
            "identical": min(p["identical"] for p in per_round), "batch": per_round[0]["batch"],
        }  # fmt: skip
    return row


MISMATCHES: list[str] = []


def make_backend(label: str, model: Any, tok: Any, ct2_dir: str) -> Any:
    from summarist.inference.backends import ctranslate2_backend as ct2
    from summarist.inference.backends.torch_backend import (
        TorchBackend,
        prepare_for_inference,
        to_bf16,
    )

    if label.endswith("batched") and label.startswith("torch"):
        # Built as `Summarizer.from_pretrained` builds it on CPU, from a copy: the reference
        # keeps using the plain fp32 model.
        quantize = {"fp32": None, "bf16": "bf16", "int8": "int8"}[label.split()[1]]
        return TorchBackend(prepare_for_inference(model, quantize, on_cpu=True, copy=True), tok)
    if label == "torch fp32 unpacked":  # a copy: the backend changes how `generate` runs
        return TorchBackend(copy.deepcopy(model), tok)
    if label == "torch bf16 unpacked":
        return TorchBackend(to_bf16(model), tok)
    compute = "int8" if "int8" in label else "default"
    return ct2.CTranslate2Backend(ct2_dir, tok, compute_type=compute)


def print_row(row: dict, threads: int) -> None:
    print(f"\n== {row['shape']}, beams={row['beams']}, {row['n']} inputs, {threads} thread(s), "
          f"median of {row['rounds']} round(s); reference per round: "
          f"{row['one_at_a_time_per_s_all']}/s")  # fmt: skip
    print(f"  {'one at a time (tutorial)':38s} {row['one_at_a_time_per_s']:6.2f}/s   1.0x  "
          f"peak RSS {row['one_at_a_time_peak_mib']:7.0f} MiB")  # fmt: skip
    for label, p in row["paths"].items():
        print(f"  {label + ' (batch ' + str(p['batch']) + ')':38s} {p['per_s']:6.2f}/s "
              f"{p['ratio']:5.1f}x  peak RSS "
              f"{p['peak_mib']:7.0f} MiB  identical to reference: {p['identical']}/{row['n']}  "
              f"ratios {p['ratios_all']}")  # fmt: skip
    sys.stdout.flush()


# ---------------------------------------------------------------- int8 ROUGE check
def rouge_check(
    model_dir: str, texts: list[str], refs: list[str], args: argparse.Namespace
) -> dict:
    """ROUGE of fp32 vs int8 backends of a trained model on the same inputs (greedy)."""
    from summarist.evaluation import compare_scores
    from summarist.inference.summarizer import Summarizer
    from summarist.metrics import compute_rouge

    variants = [("torch fp32", {}), ("torch bf16", {"quantize": "bf16"}),
                ("torch int8", {"quantize": "int8"}),
                ("ctranslate2 fp32", {"backend": "ctranslate2"}),
                ("ctranslate2 int8", {"backend": "ctranslate2", "quantize": "int8"})]  # fmt: skip
    out: dict[str, Any] = {"model": model_dir, "n": len(texts)}
    base: dict[str, float] | None = None
    base_f: Any = None
    base_preds: list[str] = []
    for label, kw in variants:
        s = Summarizer.from_pretrained(model_dir, batch_size=args.batch_size, **kw)
        if "ctranslate2" in label and s.backend.name != "ctranslate2":
            continue
        start = time.perf_counter()
        preds = s.summarize(texts, num_beams=1)
        seconds = time.perf_counter() - start
        res = compute_rouge(preds, [[r] for r in refs], bootstrap=0)
        scores = {k: round(v["fmeasure"]["mid"], 2) for k, v in res.summary().items()}
        if base is None:
            base, base_f, base_preds = scores, res.fmeasure(), preds
        paired = compare_scores(res.fmeasure(), base_f, bootstrap=1000)
        out[label] = {"rouge": scores, "per_s": round(len(texts) / seconds, 2),
                      "delta_vs_fp32": {k: round(scores[k] - base[k], 2) for k in scores},
                      "paired_vs_fp32": paired,
                      "identical_to_fp32": sum(a == b for a, b in zip(preds, base_preds))}  # fmt: skip
        ci = {k: f"{v['diff']:+.2f} [{v['low']:+.2f}, {v['high']:+.2f}]" for k, v in paired.items()}
        print(f"  {label:18s} {scores}  {out[label]['per_s']}/s  identical to fp32: "
              f"{out[label]['identical_to_fp32']}/{len(preds)}\n  {'':18s} minus fp32, paired "
              f"bootstrap 95% CI: {ci}")  # fmt: skip
    return out


def train_t5(out_dir: str, minutes: float, seed: int = 0) -> str:
    """A small T5 trained on DialogSum for `minutes` (1 thread): non-degenerate outputs."""
    import random

    import torch
    from transformers import T5Config, T5ForConditionalGeneration

    from summarist.config.generation import GenerationSettings

    torch.manual_seed(seed)
    random.seed(seed)
    tok = t5_tokenizer()
    rows = [json.loads(line) for line in (DATA / "dialogsum/train.jsonl").open()]
    # Small enough to learn DialogSum's summary style in minutes on one contended core.
    cfg = T5Config(vocab_size=32128, d_model=128, d_kv=32, d_ff=512, num_layers=2,
                   num_decoder_layers=2, num_heads=4, decoder_start_token_id=0, pad_token_id=0,
                   eos_token_id=1,
                   task_specific_params={"summarization": {"prefix": "summarize: "}})  # fmt: skip
    model = T5ForConditionalGeneration(cfg).train()
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.01)
    deadline = time.time() + 60 * minutes
    step, batch = 0, 16
    while time.time() < deadline:
        chunk = random.sample(rows, batch)
        enc = tok(["summarize: " + r["dialogue"] for r in chunk], max_length=192,
                  truncation=True, padding=True, return_tensors="pt")  # fmt: skip
        labels = tok(text_target=[r["summary"] for r in chunk], max_length=48, truncation=True,
                     padding=True, return_tensors="pt").input_ids  # fmt: skip
        labels[labels == tok.pad_token_id] = -100
        lr = 2e-3 * min(1.0, (step + 1) / 100)
        for group in opt.param_groups:
            group["lr"] = lr
        loss = model(**enc, labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad()
        if step % 20 == 0:
            print(f"step {step} loss {loss.item():.3f}", flush=True)
        step += 1
    model.eval()
    settings = GenerationSettings(max_new_tokens=48, num_beams=1, no_repeat_ngram_size=3)
    model.generation_config = settings.to_hf(model.generation_config)
    model.save_pretrained(out_dir)
    tok.save_pretrained(out_dir)
    print(f"trained {step} steps ({step * batch} examples) in {minutes} min → {out_dir}")
    return out_dir


# ---------------------------------------------------------------- main
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--shapes", default="t5-small,bart-base,minilm-bart,minilm")
    ap.add_argument("--n", type=int, default=100, help="DialogSum dev inputs (greedy)")
    ap.add_argument("--beam-n", type=int, default=32, help="inputs for the beam-4 rows (0: skip)")
    ap.add_argument("--new-tokens", type=int, default=48)
    ap.add_argument("--batch-size", type=int, default=None,
                    help="texts per batch (default: what Summarizer picks per backend)")  # fmt: skip
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3, help="timings per path; medians reported")
    ap.add_argument("--unpacked", action="store_true", help="also time fp32/bf16 without packing")
    ap.add_argument("--rouge-model", action="append", default=[], help="trained model dir(s)")
    ap.add_argument("--rouge-n", type=int, default=500, help="first N inputs of each file")
    ap.add_argument("--rouge-data", action="append", default=[],
                    help="JSONL with dialogue/summary fields (default: DialogSum dev); repeatable")  # fmt: skip
    ap.add_argument("--train-t5", help="train a small T5 here first (and ROUGE-check it)")
    ap.add_argument("--train-minutes", type=float, default=6.0)
    ap.add_argument("--json", help="also write all figures to this JSON file")
    args = ap.parse_args()

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import torch

    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, threads pinned to {torch.get_num_threads()}, "
          f"greedy and beam-4, forced {args.new_tokens} new tokens, "
          f"batch {args.batch_size or 'as Summarizer picks'}")  # fmt: skip
    rows = [json.loads(line) for line in (DATA / "dialogsum/dev.jsonl").open()]
    texts = [r["dialogue"] for r in rows]
    results: dict[str, Any] = {"threads": args.threads, "speed": [], "rouge": []}
    if args.train_t5:
        results["trained"] = train_t5(args.train_t5, args.train_minutes)
        args.rouge_model.append(args.train_t5)
    for shape in [s for s in args.shapes.split(",") if s]:
        results["speed"].extend(bench_shape(shape, texts[: max(args.n, args.beam_n)], args))
    for model_dir in args.rouge_model:
        for data in args.rouge_data or [str(DATA / "dialogsum/dev.jsonl")]:
            lines = Path(data).read_text(encoding="utf-8").splitlines()
            pairs = [json.loads(line) for line in lines if line.strip()][: args.rouge_n]
            print(f"\n== int8 vs fp32 ROUGE, {model_dir}, {len(pairs)} inputs of {data}, greedy")
            check = rouge_check(model_dir, [p["dialogue"] for p in pairs],
                                [p["summary"] for p in pairs], args)  # fmt: skip
            results["rouge"].append({"data": data, **check})
    usage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nprocess peak RSS {usage:.0f} MiB")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    if MISMATCHES:
        raise SystemExit("outputs that must be identical differ: " + "; ".join(MISMATCHES))


if __name__ == "__main__":
    main()
