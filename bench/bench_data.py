"""Benchmark issue 28: data at CNN/DailyMail scale, before and after, against `datasets`.

Builds CNN/DM-shaped corpora from ../shared/data/news (`news_corpus.py`: 737-word articles,
56-word highlights, unique rows) under --out, then measures, each arm a child process of its
own (wall time, CPU seconds of the process and its workers, and peak RSS summed over them,
sampled every 0.1 s):

- `data stats` on the corpus: the code before issue 28 (`--before`, a git revision extracted
  with `git archive`, run with this venv) and now, from a cold cache and again warm;
- `train --max-steps 2` until its first step (the "N training examples" line that ends
  set-up): before, now cold (reading + tokenizing into the cache) and now warm (mapping it,
  as a second run or `--resume` does); the model's own footprint (`load_for_training` alone)
  is measured apart so the set-up's memory beyond it can be read;
- the standard way: Hugging Face `datasets` (`load_dataset("json")` + batched `.map` with the
  same tokenizer and lengths, as the summarization tutorial does), cold and from its cache;
  its input ids are checked equal to the token store's (the arms do the same work);
- `evaluate` of 100,000 prediction/reference pairs, before and now; their metrics.json must be
  equal.

    .venv/bin/python bench/bench_data.py --rows 30000,287000 --out /work/bench-data
    .venv/bin/python bench/bench_data.py --rows 2870000 --parts setup --copies 10 --no-before

Prints a markdown table (and writes it as JSON to --out/bench_data.json) with the CPU, the
thread settings and the load average around each arm. Big corpora need disk: 287k rows are
1.4 GB of JSONL (+1.4 GB in the cache, +0.7 GB of token ids).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
from news_corpus import NEWS, build_corpus, build_eval_corpus  # noqa: E402

BEFORE = "24feee1"
"""`main` before issue 28 (what tests/reference_pipeline.py pins)."""
MODEL = "minilm-bart"
SETUP_DONE = "training examples,"
ENV = {"TOKENIZERS_PARALLELISM": "false", "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}


# ------------------------------------------------------------------------------- measuring


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def measure(cmd: list[str], *, env: dict[str, str] | None = None, stop_at: str | None = None,
            timeout: float = 4 * 3600, cwd: Path | None = None) -> dict[str, Any]:  # fmt: skip
    """Run `cmd` (niced); wall seconds and peak RSS of its process tree (GB), until it exits
    or, with `stop_at`, until a line of its stderr contains that text (then it is killed).

    `cpu_s` is its user + system CPU seconds and those of the workers it waited for (from
    getrusage of this process's children: the arms run one at a time): on a shared machine
    the figure load disturbs least. A process killed at `stop_at` leaves out its workers'."""
    before = load()
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(["nice", "-n", "10", *cmd], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=cwd or ROOT,
                            env={**os.environ, **ENV, **(env or {})}, start_new_session=True)  # fmt: skip
    peak = [0.0]
    done = threading.Event()

    def sample() -> None:
        root = psutil.Process(proc.pid)
        while not done.is_set():
            try:
                procs = [root, *root.children(recursive=True)]
                total = 0
                for p in procs:
                    with contextlib.suppress(psutil.Error):  # a worker that just ended
                        total += p.memory_info().rss
                peak[0] = max(peak[0], total / 1024**3)
            except psutil.Error:
                return
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    err_lines: list[str] = []
    stopped = False
    assert proc.stderr is not None and proc.stdout is not None
    out_reader = threading.Thread(target=proc.stdout.read, daemon=True)  # drained, not kept
    out_reader.start()
    for line in proc.stderr:
        err_lines.append(line)
        if stop_at and stop_at in " ".join("".join(err_lines[-3:]).split()):
            stopped = True
            break
        if time.perf_counter() - start > timeout:
            break
    wall = time.perf_counter() - start
    if stopped or proc.poll() is None:
        os.killpg(proc.pid, 9)
    proc.wait()
    now = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = now.ru_utime - used.ru_utime + now.ru_stime - used.ru_stime
    done.set()
    sampler.join()
    out_reader.join(timeout=5)
    ok = stopped if stop_at else proc.returncode == 0
    return {"ok": ok, "wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
            "peak_gb": round(peak[0], 2), "load_before": before, "load_after": load(),
            "stderr": "".join(err_lines)[-3000:]}  # fmt: skip


def before_tree(rev: str, into: Path) -> Path:
    """The `src/` of revision `rev` (for PYTHONPATH), extracted with git archive."""
    into.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "archive", rev, "src"], cwd=ROOT, capture_output=True,
                             check=True)  # fmt: skip
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into / "src"


def summarist(*args: str) -> list[str]:
    return [sys.executable, "-m", "summarist", *args]


# ----------------------------------------------------------------------------------- arms


def arm_stats(data: Path, before: Path | None, cache: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    args = ["data", "stats", "--data", str(data), "--json"]
    if before is not None:
        out["before"] = measure(summarist(*args), env={"PYTHONPATH": str(before)})
    out["cold"] = measure(summarist(*args, "--data-cache-dir", str(cache)))
    out["warm"] = measure(summarist(*args, "--data-cache-dir", str(cache)))
    return out


def train_args(data: Path, run: Path, extra: list[str]) -> list[str]:
    return ["train", "--data", str(data), "--model", MODEL, "--max-steps", "2", "--threads",
            "1", "--output-dir", str(run), "--eval-samples", "0", "--no-report", *extra]  # fmt: skip


def arm_setup(data: Path, before: Path | None, cache: Path, work: Path,
              extra: list[str]) -> dict[str, Any]:  # fmt: skip
    out: dict[str, Any] = {}
    if before is not None:
        shutil.rmtree(work / "run-before", ignore_errors=True)
        out["before"] = measure(summarist(*train_args(data, work / "run-before", extra)),
                                env={"PYTHONPATH": str(before)}, stop_at=SETUP_DONE)  # fmt: skip
    for name in ("cold", "warm"):
        shutil.rmtree(work / f"run-{name}", ignore_errors=True)
        cmd = summarist(
            *train_args(data, work / f"run-{name}", [*extra, "--data-cache-dir", str(cache)])
        )
        out[name] = measure(cmd, stop_at=SETUP_DONE)
    out["model"] = measure([sys.executable, str(BENCH / "bench_data.py"), "--child-model"])
    return out


def child_model() -> int:
    """The model's own footprint: what `train` loads, nothing else."""
    from summarist.models.loading import load_for_training

    load_for_training(MODEL)
    return 0


DATASETS_CHILD = """
import json, sys
from datasets import load_dataset
from summarist.models.loading import load_for_training
data, cache, out = sys.argv[1:4]
tok = load_for_training("{model}").tokenizer
ds = load_dataset("json", data_files=data, cache_dir=cache, split="train")
def preprocess(batch):
    enc = tok(batch["article"], max_length=512, truncation=True)
    enc["labels"] = tok(text_target=batch["highlights"], max_length=128, truncation=True)["input_ids"]
    return enc
ds = ds.map(preprocess, batched=True, remove_columns=ds.column_names)
with open(out, "w") as fh:
    json.dump([list(r) for r in ds.select(range(min(200, len(ds))))["input_ids"]], fh)
print(len(ds))
"""


def arm_datasets(data: Path, cache: Path, work: Path) -> dict[str, Any]:
    script = work / "datasets_child.py"
    script.write_text(DATASETS_CHILD.replace("{model}", MODEL), "utf-8")
    out = {}
    for name in ("cold", "warm"):
        out[name] = measure([sys.executable, str(script), str(data / "train.jsonl"), str(cache),
                             str(work / f"datasets-ids-{name}.json")])  # fmt: skip
    return out


def same_ids(work: Path, cache: Path, data: Path) -> bool:
    """`datasets`' input ids of the first 200 rows equal the token store's (same work)."""
    import numpy as np

    from summarist.data.tokens import TokenStore

    ids = json.loads((work / "datasets-ids-cold.json").read_text("utf-8"))
    stores = [p for p in (cache / "tokens").iterdir() if (p / "meta.json").is_file()]
    for folder in stores:
        store = TokenStore(folder)
        if len(store) >= len(ids) and all(
            np.array_equal(store[i].input_ids, ids[i]) for i in range(len(ids))
        ):
            return True
    del data
    return False


def arm_evaluate(folder: Path, before: Path | None, cache: Path, work: Path,
                 faithfulness: bool = True) -> dict[str, Any]:  # fmt: skip
    """`evaluate` before and now without the faithfulness figures (which the code before issue
    28 did not compute: the same work), and now with them (the default, capitalised-span rule:
    NER on 100k news pairs would be its own benchmark, see benchmarks.md#speed)."""
    out: dict[str, Any] = {}
    arms = [("before", {"PYTHONPATH": str(before)}, [])] if before is not None else []
    arms.append(("after", {}, ["--data-cache-dir", str(cache), "--no-faithfulness"]))
    if faithfulness:
        arms.append(("faithfulness", {}, ["--data-cache-dir", str(cache),
                                          "--entity-method", "rules"]))  # fmt: skip
    for name, env, extra in arms:
        shutil.rmtree(work / f"eval-{name}", ignore_errors=True)
        args = ["evaluate", "--predictions", str(folder / "predictions.jsonl"), "--data",
                str(folder / "test.jsonl"), "--output-dir", str(work / f"eval-{name}"),
                "--no-report", *extra]  # fmt: skip
        out[name] = measure(summarist(*args), env=env)
    if before is not None:
        a, b = (json.loads((work / f"eval-{n}" / "metrics.json").read_text("utf-8"))["splits"]
                for n in ("before", "after"))  # fmt: skip
        out["same_metrics"] = json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    return out


# ----------------------------------------------------------------------------------- main


def copies_of(base: Path, out: Path, copies: int) -> Path:
    """`base`'s train.jsonl `copies` times over (ids changed) + its validation.jsonl."""
    out.mkdir(parents=True, exist_ok=True)
    target = out / "train.jsonl"
    if not target.exists():
        tmp = target.with_name("train.jsonl.partial")
        with open(tmp, "w", encoding="utf-8") as fh:
            for k in range(copies):
                with open(base / "train.jsonl", encoding="utf-8") as src:
                    for line in src:
                        fh.write(line.replace('{"id": "', f'{{"id": "copy{k}-', 1))
        tmp.replace(target)
    if not (out / "validation.jsonl").exists():
        shutil.copy(base / "validation.jsonl", out / "validation.jsonl")
    return out


def fmt(r: dict[str, Any] | None) -> str:
    if not r:
        return "–"
    flag = "" if r["ok"] else " (failed)"
    cpu = f" ({r['cpu_s']:.0f} CPU s)" if "cpu_s" in r else ""
    return f"{r['wall_s']:.0f} s{cpu}, {r['peak_gb']:.2f} GB{flag}"


def table(results: dict[str, Any]) -> str:
    lines = ["| command | rows | before | now (cold cache) | now (warm cache) | `datasets` | "
             "before / now |", "|---|---|---|---|---|---|---|"]  # fmt: skip
    for rows, res in results["corpora"].items():
        for name, label in (("stats", "`data stats`"), ("setup", "`train` set-up to step 1")):
            r = res.get(name)
            if not r:
                continue
            ratio = ""
            if r.get("before") and r["before"]["ok"] and r["cold"]["ok"]:
                ratio = (f"{r['before']['wall_s'] / r['cold']['wall_s']:.1f}x time (cold), "
                         f"{r['before']['wall_s'] / r['warm']['wall_s']:.1f}x (warm); "
                         f"{r['before']['peak_gb'] / r['cold']['peak_gb']:.1f}x memory")  # fmt: skip
            ds = res.get("datasets") if name == "setup" else None
            anchor = f"{fmt(ds['cold'])}; cached {fmt(ds['warm'])}" if ds else "–"
            lines.append(f"| {label} | {rows:,} | {fmt(r.get('before'))} | {fmt(r['cold'])} | "
                         f"{fmt(r['warm'])} | {anchor} | {ratio} |")  # fmt: skip
        if res.get("setup", {}).get("model"):
            lines.append(f"| model alone (`load_for_training`) | | | {fmt(res['setup']['model'])} "
                         "| | | |")  # fmt: skip
    ev = results.get("evaluate")
    if ev:
        ratio = ""
        if ev.get("before") and ev["before"]["ok"] and ev["after"]["ok"]:
            ratio = (f"{ev['before']['wall_s'] / ev['after']['wall_s']:.1f}x time, "
                     f"{ev['before']['cpu_s'] / ev['after']['cpu_s']:.1f}x CPU, "
                     f"{ev['before']['peak_gb'] / ev['after']['peak_gb']:.1f}x memory")  # fmt: skip
        lines.append(f"| `evaluate` | {ev['pairs']:,} pairs | {fmt(ev.get('before'))} | "
                     f"{fmt(ev['after'])} | | | {ratio} |")  # fmt: skip
        if ev.get("faithfulness"):
            lines.append(f"| `evaluate`, faithfulness on (rules) | {ev['pairs']:,} pairs | | "
                         f"{fmt(ev['faithfulness'])} | | | |")  # fmt: skip
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="30000,287000", help="corpus sizes, comma-separated")
    parser.add_argument("--out", type=Path, default=Path("/work/bench-data"))
    parser.add_argument("--parts", default="stats,setup,datasets,evaluate")
    parser.add_argument("--before", default=BEFORE, help="git revision of the old code path")
    parser.add_argument("--no-before", action="store_true", help="skip the old code's arms")
    parser.add_argument("--eval-pairs", type=int, default=100_000)
    parser.add_argument("--no-eval-faithfulness", action="store_true",
                        help="skip the evaluate arm with the faithfulness figures")  # fmt: skip
    parser.add_argument(
        "--copies",
        type=int,
        default=0,
        help="build each corpus as the 287k one this many times (ids changed)",
    )
    parser.add_argument("--train-args", default="", help="extra `train` flags, e.g. --dedupe none")
    parser.add_argument("--child-model", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_model:
        return child_model()
    if not NEWS.exists():
        print(f"skip: {NEWS} not found (../shared/data/news)")
        return 0
    from summarist.hardware import cpu_model

    parts = set(args.parts.split(","))
    work = Path(tempfile.mkdtemp(prefix="bench-data-", dir=args.out))
    before = None if args.no_before else before_tree(args.before, work / "before")
    results: dict[str, Any] = {
        "cpu": cpu_model(), "cores": os.cpu_count(), "load_start": load(),
        "threads": "train --threads 1; tokenization: now every core (worker processes), "
                   "before one thread; evaluate: 2 scoring workers both",
        "corpora": {},
    }  # fmt: skip
    print(f"CPU: {results['cpu']} ({results['cores']} cores), load {results['load_start']}")
    try:
        for rows in (int(r) for r in args.rows.split(",") if r):
            if args.copies:
                base = build_corpus(args.out / "news-287k", 287_000)
                data = copies_of(base, args.out / f"news-287k-x{args.copies}", args.copies)
                rows = 287_000 * args.copies
            else:
                data = build_corpus(args.out / f"news-{rows // 1000}k", rows)
            cache = work / f"cache-{rows}"
            res: dict[str, Any] = {}
            if "stats" in parts:
                res["stats"] = arm_stats(data, before, cache)
            if "setup" in parts:
                extra = args.train_args.split()
                res["setup"] = arm_setup(data, before, cache, work, extra)
            if "datasets" in parts and not args.copies:
                res["datasets"] = arm_datasets(data, work / f"hf-{rows}", work)
                res["datasets"]["same_ids_as_token_store"] = same_ids(work, cache, data)
                assert res["datasets"]["same_ids_as_token_store"], "datasets did other work"
            results["corpora"][rows] = res
            shutil.rmtree(cache, ignore_errors=True)
            shutil.rmtree(work / f"hf-{rows}", ignore_errors=True)
            print(json.dumps({rows: res}, indent=1, default=str)[:4000])
        if "evaluate" in parts:
            folder = build_eval_corpus(args.out / f"news-eval-{args.eval_pairs // 1000}k",
                                       args.eval_pairs)  # fmt: skip
            ev = arm_evaluate(folder, before, work / "cache-eval", work,
                              faithfulness=not args.no_eval_faithfulness)  # fmt: skip
            ev["pairs"] = args.eval_pairs
            results["evaluate"] = ev
            if "same_metrics" in ev:
                assert ev["same_metrics"], "before and now scored differently"
    finally:
        results["load_end"] = load()
        (args.out / "bench_data.json").write_text(json.dumps(results, indent=1, default=str))
        shutil.rmtree(work, ignore_errors=True)
    print()
    print(table(results))
    print(f"\nCPU: {results['cpu']}, {results['cores']} cores; {results['threads']}; load "
          f"{results['load_start']} at the start, {results['load_end']} at the end")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
