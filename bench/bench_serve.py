"""Serving: summarist's batching server versus the server the tutorials teach, under load.

    .venv/bin/python bench/bench_serve.py                          # t5-small and minilm-bart
    .venv/bin/python bench/bench_serve.py --shapes t5-small --requests 8   # quick
    .venv/bin/python bench/bench_serve.py --max-wait-ms 0,5,20     # choose the batcher's wait

The naive server is the tutorials' FastAPI endpoint: a sync `def` route (so FastAPI runs it in
its thread pool) that tokenizes the one text it got, calls `model.generate`, and decodes. The
summarist server is `summarist serve` on the shape's fastest CPU backend (CTranslate2 int8 for
both shapes here), with its dynamic batcher. Both load the same saved directory (random weights
from the shape's config; its hash is asserted equal before and after), on loopback, with the
same decoding: greedy, output length forced to --new-tokens so every request does equal work.
Clients: `c` threads, each on its own keep-alive connection, sending requests back to back;
summaries/s and p50/p95/p99 latency as the client sees it.
"""

# No `from __future__ import annotations`: FastAPI resolves the naive route's local `Body` model
# from its annotation at run time.

import argparse
import hashlib
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from summarist.hardware import cpu_model

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
sys.path[:0] = [str(HERE), str(SRC)]

TEXT = (
    "#Person1#: Did you get the train tickets for Saturday? #Person2#: Yes, I got them this "
    "morning, two returns to the coast, leaving at nine. #Person1#: Great. Shall we book the "
    "hotel too? #Person2#: I already did, near the harbour, two nights. #Person1#: Perfect, I "
    "will pack tonight and meet you at the station at half past eight."
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def digest(path: Path) -> str:
    h = hashlib.sha256()
    for f in sorted(path.rglob("*")):
        if f.is_file():
            h.update(f.name.encode() + f.read_bytes())
    return h.hexdigest()[:16]


# ---------------------------------------------------------------- the tutorials' server
def naive_app(path: str, prefix: str, new_tokens: int) -> Any:
    import torch
    from fastapi import FastAPI
    from pydantic import BaseModel
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForSeq2SeqLM.from_pretrained(path).eval()
    app = FastAPI()

    class Body(BaseModel):
        texts: list[str]

    @app.post("/v1/summarize")
    def summarize(body: Body) -> dict[str, Any]:
        # BERT tokenizers add token_type_ids, which BART's generate refuses.
        inputs = tokenizer(prefix + body.texts[0], return_tensors="pt", truncation=True,
                           return_token_type_ids=False)  # fmt: skip
        with torch.no_grad():
            out = model.generate(**inputs, max_new_tokens=new_tokens, min_new_tokens=new_tokens,
                                 num_beams=1)  # fmt: skip
        return {"summaries": [{"summary": tokenizer.decode(out[0], skip_special_tokens=True)}]}

    @app.get("/readyz")
    def ready() -> dict[str, str]:
        return {"model": path}

    return app


# ---------------------------------------------------------------- running
class Server:
    def __init__(self, cmd: list[str], port: int) -> None:
        env = {**os.environ, "PYTHONPATH": str(SRC)}
        self.url = f"http://127.0.0.1:{port}"
        self.log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen(cmd, env=env, stdout=self.log, stderr=self.log)
        import httpx

        end = time.monotonic() + 300
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise SystemExit(f"server died: {' '.join(cmd)}\n{self.tail()}")
            try:
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        raise SystemExit("server not ready in 300 s")

    def tail(self) -> str:
        self.log.seek(0)
        return self.log.read()[-3000:]

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(60)
        self.log.close()


def load(url: str, concurrency: int, total: int, body: dict[str, Any]) -> dict[str, float]:
    import httpx

    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    per_client = max(1, total // concurrency)

    def client(_: int) -> None:
        nonlocal errors
        with httpx.Client(base_url=url, timeout=300) as c:
            c.post("/v1/summarize", json=body)  # connect + warm, not timed
            for _ in range(per_client):
                t0 = time.perf_counter()
                r = c.post("/v1/summarize", json=body)
                with lock:
                    latencies.append(time.perf_counter() - t0)
                    errors += r.status_code != 200

    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(client, range(concurrency)))
    wall = time.perf_counter() - start
    lat = np.asarray(latencies) * 1000
    return {
        "per_s": len(lat) / wall, "p50": float(np.percentile(lat, 50)),
        "p95": float(np.percentile(lat, 95)), "p99": float(np.percentile(lat, 99)),
        "errors": errors, "n": len(lat),
    }  # fmt: skip


def save_shape(shape: str, out: Path) -> str:
    from bench_inference import build_shape

    model, tok, prefix = build_shape(shape)
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return prefix


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--shapes", default="t5-small,minilm-bart")
    ap.add_argument("--concurrency", default="1,4,16")
    ap.add_argument("--requests", type=int, default=32, help="requests per concurrency level")
    ap.add_argument("--new-tokens", type=int, default=32)
    ap.add_argument("--max-wait-ms", default="0", help="summarist arms: batcher wait(s) to try")
    ap.add_argument("--naive-server", nargs=4, metavar=("DIR", "PREFIX", "TOKENS", "PORT"),
                    help=argparse.SUPPRESS)  # fmt: skip
    args = ap.parse_args()
    if args.naive_server:
        import uvicorn

        path, prefix, tokens, port = args.naive_server
        uvicorn.run(naive_app(path, prefix, int(tokens)), host="127.0.0.1", port=int(port),
                    log_level="warning")  # fmt: skip
        return
    import torch

    print(f"CPU: {cpu_model()}; {os.cpu_count()} logical CPUs; torch threads "
          f"{torch.get_num_threads()}; OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}")  # fmt: skip
    levels = [int(c) for c in args.concurrency.split(",")]
    waits = [float(w) for w in args.max_wait_ms.split(",")]
    settings = {
        "max_new_tokens": args.new_tokens,
        "min_new_tokens": args.new_tokens,
        "num_beams": 1,
    }
    rows = []
    for shape in args.shapes.split(","):
        with tempfile.TemporaryDirectory(prefix=f"bench-serve-{shape}-") as tmp:
            path = Path(tmp)
            prefix = save_shape(shape, path)
            before = digest(path)
            arms: list[tuple[str, list[str], int, dict[str, Any]]] = []
            port = free_port()
            naive = [sys.executable, __file__, "--naive-server", str(path), prefix,
                     str(args.new_tokens), str(port)]  # fmt: skip
            arms.append(("naive (torch fp32, per request)", naive, port, {"texts": [TEXT]}))
            for wait in waits:
                port = free_port()
                cmd = [sys.executable, "-m", "summarist", "serve", "--model", f"m={path}",
                       "--backend", "ctranslate2", "--quantize", "int8", "--port", str(port),
                       "--max-wait-ms", str(wait), "--max-beams", "1"]  # fmt: skip
                label = f"summarist (ct2 int8, wait {wait:g} ms)"
                arms.append((label, cmd, port, {"texts": [TEXT], "settings": settings}))
            for label, cmd, port, body in arms:
                server = Server(cmd, port)
                try:
                    for c in levels:
                        try:
                            got = load(server.url, c, max(args.requests, c), body)
                        except Exception as err:
                            raise SystemExit(f"{label}: {err}\n{server.tail()}") from err
                        assert got["errors"] == 0, f"{label}: {got['errors']} failed requests"
                        rows.append((shape, label, c, got))
                        print(f"{shape:12s} {label:34s} c={c:<3d} {got['per_s']:7.2f}/s  "
                              f"p50 {got['p50']:7.0f}  p95 {got['p95']:7.0f}  p99 {got['p99']:7.0f} ms"
                              f"  errors {got['errors']}", flush=True)  # fmt: skip
                finally:
                    server.stop()
            assert digest(path) == before, "the model changed between arms"
            print(f"{shape}: both arms served {path.name} (sha256 {before})")
    print_table(rows)


def print_table(rows: list[tuple[str, str, int, dict[str, float]]]) -> None:
    print("\n| shape | server | clients | summaries/s | p50 ms | p95 ms | p99 ms | vs naive |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    naive = {(s, c): g for s, label, c, g in rows if label.startswith("naive")}
    for shape, label, c, got in rows:
        ratio = got["per_s"] / naive[(shape, c)]["per_s"] if (shape, c) in naive else float("nan")
        print(f"| {shape} | {label} | {c} | {got['per_s']:.2f} | {got['p50']:.0f} | "
              f"{got['p95']:.0f} | {got['p99']:.0f} | {ratio:.2f}x |")  # fmt: skip


if __name__ == "__main__":
    main()
