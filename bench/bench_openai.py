"""OpenAI-compatible both ways: evaluating summarist's own server as a system, and the client
latency of its OpenAI route next to its own.

    .venv/bin/python bench/bench_openai.py                       # 64 dialogues, c = 1, 4, 16
    .venv/bin/python bench/bench_openai.py --texts 16 --requests 20   # quick

One `summarist serve` process (t5-small shape, random weights from its config, the real T5
tokenizer from ../shared/data; CTranslate2 int8, its fastest CPU backend) on loopback serves
every arm, so they differ only in the client.

Part 1, evaluation throughput: the first --texts DialogSum dev dialogues asked the way
`summarist evaluate --system openai:m@URL` asks them (`evaluation.systems.SystemModel`: httpx,
concurrency 1, 4 and 16, no cache), against the standard way, a loop over the official `openai`
SDK one request at a time; then the same evaluation again from a filled response cache. Each
arm is the whole `run_evaluate` (asking, then ROUGE with 1000 bootstrap resamples, baselines and
the degenerate checks); "ask s" is the asking alone. Every arm asks every text once (asserted)
with the same decoding: greedy, `min_tokens` = `max_tokens` (summarist's extra field), so each
summary takes --new-tokens decoding steps, equal work. "same summaries" counts those identical
to the standard arm's: CTranslate2 int8 batches padded texts together at higher concurrency,
and int8 arithmetic on a padded batch can flip a near-tie of a random model.

Part 2, latency as a client sees it: one request at a time, the same text and settings, the
three arms interleaved request by request (so load changes hit all three alike): the `openai`
SDK on /v1/chat/completions, plain httpx on /v1/chat/completions, and httpx on /v1/summarize
(summarist's own route). p50/p99 in ms; outputs asserted identical.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
sys.path[:0] = [str(HERE), str(SRC)]
DATA = HERE.parent.parent / "shared" / "data"

from bench_serve import TEXT, Server, digest, free_port, save_shape  # noqa: E402
from summarist.hardware import cpu_model  # noqa: E402


def dialogsum_dev(n: int) -> list[dict[str, str]]:
    path = DATA / "dialogsum" / "dev.jsonl"
    if not path.exists():
        raise SystemExit(f"needs ../shared/data (DialogSum dev not found at {path})")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()[:n]]
    return [{"id": r.get("fname", str(i)), "dialogue": r["dialogue"], "summary": r["summary"]}
            for i, r in enumerate(rows)]  # fmt: skip


def evaluate_arm(url: str, data: Path, out: Path, concurrency: int, tokens: int, cache: Path | None) -> tuple[float, float, list[dict[str, Any]]]:  # fmt: skip
    """(whole evaluate s, asking s, prediction rows) of `summarist evaluate --system`."""
    from summarist.config.data import DataConfig
    from summarist.config.openai import OpenAISettings
    from summarist.evaluation import EvaluateConfig, ScoringConfig, run_evaluate
    from summarist.rundir import read_jsonl, read_yaml

    settings = OpenAISettings(concurrency=concurrency, max_tokens=tokens, cache=cache is not None,
                              cache_dir=cache, extra_body={"min_tokens": tokens})  # fmt: skip
    cfg = EvaluateConfig(system=f"openai:m@{url}/v1", data=DataConfig(data=[str(data)]),
                         split="test", output_dir=out, openai=settings, report=False,
                         scoring=ScoringConfig(bootstrap=1000))  # fmt: skip
    t0 = time.perf_counter()
    run_evaluate(cfg)
    whole = time.perf_counter() - t0
    asked = read_yaml(out / "config.yaml")["system"]["endpoint"]["seconds"]
    return whole, float(asked), read_jsonl(out / "predictions.jsonl")


def sdk_loop_arm(url: str, data: Path, out: Path, tokens: int) -> tuple[float, float, list[dict[str, Any]]]:  # fmt: skip
    """The standard way: the openai SDK, one text after another, then the same scoring."""
    import openai

    from summarist.config.data import DataConfig
    from summarist.config.openai import DEFAULT_SYSTEM_PROMPT
    from summarist.evaluation import EvaluateConfig, ScoringConfig, run_evaluate
    from summarist.rundir import read_jsonl, write_jsonl

    texts = [json.loads(x)["dialogue"] for x in (data / "test.jsonl").read_text().splitlines()]
    client = openai.OpenAI(base_url=url + "/v1", api_key="sk-none", max_retries=0)
    t0 = time.perf_counter()
    preds = []
    for text in texts:
        r = client.chat.completions.create(
            model="m", max_tokens=tokens, temperature=0, seed=1234,
            extra_body={"min_tokens": tokens},
            messages=[{"role": "system", "content": DEFAULT_SYSTEM_PROMPT},
                      {"role": "user", "content": text}],
        )  # fmt: skip
        preds.append({"prediction": r.choices[0].message.content.strip(),
                      "new_tokens": r.usage.completion_tokens})  # fmt: skip
    asked = time.perf_counter() - t0
    write_jsonl(out.with_suffix(".jsonl"), preds)
    cfg = EvaluateConfig(predictions=out.with_suffix(".jsonl"), data=DataConfig(data=[str(data)]),
                         split="test", output_dir=out, report=False,
                         scoring=ScoringConfig(bootstrap=1000))  # fmt: skip
    run_evaluate(cfg)
    whole = time.perf_counter() - t0
    return whole, asked, read_jsonl(out / "predictions.jsonl")


def part1(
    url: str, args: argparse.Namespace, root: Path
) -> list[tuple[str, float, float, int, int]]:
    from summarist.rundir import write_jsonl

    data = root / "data"
    rows = dialogsum_dev(args.texts)
    write_jsonl(data / "test.jsonl", rows)
    n = len(rows)
    results: list[tuple[str, float, float, list[dict[str, Any]]]] = []
    cache = root / "cache"
    # untimed: fills the cache for the rerun arm, and warms the server and the scoring imports
    evaluate_arm(url, data, root / "fill", 4, args.new_tokens, cache)
    whole, asked, preds = sdk_loop_arm(url, data, root / "sdk", args.new_tokens)
    results.append(("openai SDK loop, 1 at a time (standard)", whole, asked, preds))
    for c in args.concurrency:
        whole, asked, preds = evaluate_arm(url, data, root / f"c{c}", c, args.new_tokens, None)
        results.append((f"summarist evaluate --system, concurrency {c}", whole, asked, preds))
    whole, asked, preds = evaluate_arm(url, data, root / "cached", 4, args.new_tokens, cache)
    results.append(("summarist evaluate --system, rerun from the cache", whole, asked, preds))
    reference = [r["prediction"] for r in results[0][3]]
    out = []
    for label, whole, asked, preds in results:
        assert [r["id"] for r in preds] == [r["id"] for r in rows], label  # every text, once
        same = sum(r["prediction"] == ref for r, ref in zip(preds, reference, strict=True))
        out.append((label, whole, asked, n, same))
    return out


def part2(url: str, args: argparse.Namespace) -> dict[str, list[float]]:
    import httpx
    import openai

    sdk = openai.OpenAI(base_url=url + "/v1", api_key="sk-none", max_retries=0)
    plain = httpx.Client(base_url=url, timeout=120)
    messages = [{"role": "user", "content": TEXT}]
    n = args.new_tokens  # forced: min = max, so that every request does the same work
    chat_body = {"model": "m", "messages": messages, "max_tokens": n, "temperature": 0, "min_tokens": n}  # fmt: skip
    own_body = {"texts": [TEXT], "settings": {"max_new_tokens": n, "min_new_tokens": n, "num_beams": 1}}  # fmt: skip

    def via_sdk() -> tuple[str, int]:
        r = sdk.chat.completions.create(model="m", messages=messages, max_tokens=n, temperature=0,
                                        extra_body={"min_tokens": n})  # fmt: skip
        return r.choices[0].message.content, r.usage.completion_tokens

    def via_httpx_chat() -> tuple[str, int]:
        r = plain.post("/v1/chat/completions", json=chat_body).json()
        return r["choices"][0]["message"]["content"], r["usage"]["completion_tokens"]

    def via_summarize() -> tuple[str, int]:
        r = plain.post("/v1/summarize", json=own_body).json()["summaries"][0]
        return r["summary"], r["new_tokens"]

    arms = {"openai SDK -> /v1/chat/completions": via_sdk,
            "httpx -> /v1/chat/completions": via_httpx_chat,
            "httpx -> /v1/summarize": via_summarize}  # fmt: skip
    outputs = {label: arm() for label, arm in arms.items()}  # warm: connections, first batch
    assert len(set(outputs.values())) == 1, outputs
    times: dict[str, list[float]] = {label: [] for label in arms}
    for _ in range(args.requests):
        for label, arm in arms.items():
            t0 = time.perf_counter()
            got = arm()
            times[label].append(1000 * (time.perf_counter() - t0))
            assert got == outputs[label], label
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--texts", type=int, default=64, help="DialogSum dev dialogues to evaluate")
    ap.add_argument("--concurrency", type=lambda s: [int(x) for x in s.split(",")], default=[1, 4, 16])  # fmt: skip
    ap.add_argument("--new-tokens", type=int, default=32)
    ap.add_argument("--requests", type=int, default=50, help="part 2: requests per arm")
    ap.add_argument("--backend", default="ctranslate2", help="the server's backend")
    ap.add_argument("--quantize", default="int8", help="the server's --quantize ('' for none)")
    args = ap.parse_args()
    threads = os.environ.get("OMP_NUM_THREADS", "unset")
    print(f"CPU: {cpu_model()}; {os.cpu_count()} logical CPUs; OMP_NUM_THREADS={threads} (the "
          f"server's torch/CTranslate2 threads); load {os.getloadavg()[0]:.2f} at start")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bench-openai-") as tmp:
        root = Path(tmp)
        model = root / "model"
        save_shape("t5-small", model)
        before = digest(model)
        port = free_port()
        cmd = [sys.executable, "-m", "summarist", "serve", "--model", f"m={model}", "--backend",
               args.backend, "--port", str(port), "--max-beams", "1"]  # fmt: skip
        if args.quantize:
            cmd += ["--quantize", args.quantize]
        server = Server(cmd, port)
        try:
            evaluation = part1(server.url, args, root)
            latency = part2(server.url, args)
        finally:
            server.stop()
        assert digest(model) == before, "the model changed during the run"
    print(f"load {os.getloadavg()[0]:.2f} at the end")
    _, _, base_ask, n, _ = evaluation[0]
    print(f"\n| evaluation of {n} dialogues | whole evaluate s | ask s | texts/s (asking) | vs standard | same summaries |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|")
    for label, whole, ask, n, same in evaluation:
        rate = n / ask if ask > 0 else float("inf")
        print(f"| {label} | {whole:.1f} | {ask:.2f} | {rate:.1f} | {base_ask / ask if ask > 0 else float('inf'):.1f}x | {same}/{n} |")  # fmt: skip
    print(f"\n| client -> route ({args.requests} requests, one at a time) | p50 ms | p99 ms | mean ms |")  # fmt: skip
    print("|---|---:|---:|---:|")
    for label, ms in latency.items():
        p50, p99 = np.percentile(ms, 50), np.percentile(ms, 99)
        print(f"| {label} | {p50:.1f} | {p99:.1f} | {statistics.fmean(ms):.1f} |")


if __name__ == "__main__":
    main()
