"""Decoder-only generation: summaries per second, four ways, on the same dialogues.

Every arm prompts `--model` (default smollm2-135m, as it is) with the same chat-template prompt
and decodes greedily exactly `--tokens` new tokens per text (min = max new tokens, no n-gram
bans), so the arms do the same work; each arm's new-token counts are checked.

* tutorial: one `apply_chat_template` + `model.generate` per text (the HF tutorials' loop);
* hf-batched: `model.generate` on left-padded batches of `--batch-size`;
* summarist-torch: `Summarizer.summarize_detailed` (length-sorted batches, packed linear layers);
* summarist-ct2-int8: the same through the CTranslate2 `Generator` in int8.

    OMP_NUM_THREADS=2 nice .venv/bin/python bench/bench_causal_generate.py --n 32 --threads 2

Rates are per wall second and per CPU second of the process (all its threads): on a shared
machine the CPU-second figure (with `--threads 1`, where no thread spins waiting for another)
is the one the load disturbs least.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[1] / "shared" / "data" / "dialogsum"


def dialogues(data: str, n: int) -> list[str]:
    from summarist.config.data import DataConfig
    from summarist.data.loading import load_corpus

    corpus = load_corpus(DataConfig([data]))
    split = corpus.split("validation") if "validation" in corpus.splits else corpus.split("train")
    return list(split.texts[:n])


def hf_arms(model_name: str, texts: list[str], tokens: int, batch: int) -> dict[str, dict]:
    import torch

    from summarist.config.prompt import PromptSettings
    from summarist.models.loading import load_for_inference

    model, tok = load_for_inference(model_name)
    instruction = PromptSettings().instruction
    chats = [[{"role": "user", "content": f"{instruction}\n\n{t}"}] for t in texts]
    kw = {"max_new_tokens": tokens, "min_new_tokens": tokens, "do_sample": False,
          "num_beams": 1, "pad_token_id": tok.pad_token_id}  # fmt: skip
    out: dict[str, dict] = {}
    start, cpu, counts = time.perf_counter(), time.process_time(), []
    with torch.inference_mode():
        for chat in chats:  # the tutorial loop
            ids = tok.apply_chat_template(chat, add_generation_prompt=True, return_tensors="pt",
                                          return_dict=True)  # fmt: skip
            gen = model.generate(**ids, **kw)
            counts.append(gen.shape[1] - ids["input_ids"].shape[1])
    out["tutorial"] = {
        "seconds": time.perf_counter() - start,
        "cpu_seconds": time.process_time() - cpu,
        "counts": counts,
    }
    tok.padding_side = "left"
    prompts = [tok.apply_chat_template(c, add_generation_prompt=True, tokenize=False)
               for c in chats]  # fmt: skip
    start, cpu, counts = time.perf_counter(), time.process_time(), []
    with torch.inference_mode():
        for i in range(0, len(prompts), batch):
            enc = tok(prompts[i : i + batch], return_tensors="pt", padding=True,
                      add_special_tokens=False)  # fmt: skip
            gen = model.generate(**enc, **kw)
            counts += [gen.shape[1] - enc["input_ids"].shape[1]] * len(prompts[i : i + batch])
    out["hf-batched"] = {
        "seconds": time.perf_counter() - start,
        "cpu_seconds": time.process_time() - cpu,
        "counts": counts,
    }
    return out


def summarist_arm(model: str, texts: list[str], tokens: int, batch: int, **kw: str) -> dict:
    from summarist.config.generation import GenerationSettings
    from summarist.inference.summarizer import Summarizer

    summarizer = Summarizer.from_pretrained(model, batch_size=batch, **kw)
    settings = GenerationSettings(num_beams=1, max_new_tokens=tokens, min_new_tokens=tokens,
                                  no_repeat_ngram_size=0)  # fmt: skip
    cpu = time.process_time()
    got = summarizer.summarize_detailed(texts, settings)
    return {
        "seconds": got.seconds,
        "cpu_seconds": time.process_time() - cpu,
        "counts": got.new_tokens,
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--data", default=str(DATA))
    parser.add_argument("--n", type=int, default=32)
    parser.add_argument("--tokens", type=int, default=48)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    if not Path(args.data).exists():
        print(f"skip: {args.data} not found")
        return 0
    import torch

    from summarist.hardware import cpu_model

    torch.set_num_threads(args.threads)
    texts = dialogues(args.data, args.n)
    print(f"CPU: {cpu_model()}; threads {args.threads}; load {os.getloadavg()[0]:.2f}; "
          f"{len(texts)} texts, {args.tokens} greedy tokens each")  # fmt: skip
    arms = hf_arms(args.model, texts, args.tokens, args.batch_size)
    arms["summarist-torch"] = summarist_arm(args.model, texts, args.tokens, args.batch_size)
    arms["summarist-ct2-int8"] = summarist_arm(args.model, texts, args.tokens, args.batch_size,
                                               backend="ctranslate2", quantize="int8")  # fmt: skip
    base = len(texts) / arms["tutorial"]["seconds"]
    base_cpu = len(texts) / arms["tutorial"]["cpu_seconds"]
    for name, got in arms.items():
        # the same work: every text got exactly --tokens new tokens (the cap counts as such)
        assert all(c == args.tokens for c in got["counts"]), (name, got["counts"][:8])
        rate, cpu_rate = len(texts) / got["seconds"], len(texts) / got["cpu_seconds"]
        print(json.dumps({"arm": name, "summaries_per_s": round(rate, 3),
                          "vs_tutorial": round(rate / base, 2),
                          "summaries_per_cpu_s": round(cpu_rate, 3),
                          "vs_tutorial_cpu": round(cpu_rate / base_cpu, 2)}))  # fmt: skip
    print(f"load at the end {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
