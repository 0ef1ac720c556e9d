"""Hand-written mutation testing: does the suite notice when the code it covers is wrong?

Each mutation below is one plausible bug (an off-by-one, a swapped argument, a dropped line) in
the code whose mistakes are silent: ROUGE and the bootstrap, generated-token counting, batching
order, checkpoint/resume and atomic writes. For each one, the source tree is copied to a
temporary directory, the mutation is applied there (the working tree is never touched), and the
chosen tests run against the copy (`PYTHONPATH=<copy>/src`). A mutant is *killed* when those
tests fail, and *survives* when they pass: a survivor marks a bug the suite would let through.

    .venv/bin/python bench/mutations.py                 # every mutant, then the kill rate
    .venv/bin/python bench/mutations.py --check         # only check that every snippet is found
    .venv/bin/python bench/mutations.py --only rouge-   # mutants whose id contains "rouge-"

Snippets are located by content: when a file moved (say `backends/` into `inference/`), the one
file under src/ that holds the original snippet is used and reported. A snippet found nowhere,
or in more than one place, stops the run with exit status 1, so the table fails loudly when
code changes under it. Exit status 2: the kill rate is below `--fail-under` (default 90%).
Not part of `make test` (it runs the chosen tests once per mutant: several minutes).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
PACKAGE = "summarist"


@dataclass(frozen=True)
class Mutation:
    id: str
    area: str
    path: str
    """Where the snippet is expected, relative to src/summarist (searched for when it moved)."""
    original: str
    mutated: str
    tests: tuple[str, ...]
    description: str


M = Mutation
BOOT = ("tests/unit/test_metrics_bootstrap.py", "tests/unit/test_metrics_rouge.py")
ROUGE = ("tests/unit/test_metrics_rouge.py",)
DIAG = ("tests/unit/test_metrics_diagnostics.py",)
SENT = ("tests/unit/test_metrics_sentences.py",)
COUNT = ("tests/unit/test_length_counting.py", "tests/unit/test_generation.py")
ORDER = ("tests/unit/test_batching_order.py", "tests/unit/test_generation.py")
CKPT = ("tests/unit/test_checkpoint.py", "tests/unit/test_train_loop.py")
ATOMIC = ("tests/unit/test_rundir.py", "tests/unit/test_train_loop.py")

# fmt: off
MUTATIONS: tuple[Mutation, ...] = (
    # --- metrics ---------------------------------------------------------------------------------
    M("boot-alpha", "metrics", "metrics/bootstrap.py",
      "    means = _resample_means(values, n_resamples, seed)\n    alpha = (1 - confidence) / 2",
      "    means = _resample_means(values, n_resamples, seed)\n    alpha = 1 - confidence",
      BOOT, "CI tails not halved: a 90% interval reported as 95%"),
    M("boot-mean-divisor", "metrics", "metrics/bootstrap.py",
      "out[start : start + b] = counts.reshape(b, n) @ values / n",
      "out[start : start + b] = counts.reshape(b, n) @ values / (n - 1)",
      BOOT, "resample means divided by n - 1"),
    M("boot-p-one-sided", "metrics", "metrics/bootstrap.py",
      "np.minimum(1.0, 2 * flips)",
      "np.minimum(1.0, flips)",
      BOOT, "paired p-value one-sided instead of two-sided"),
    M("boot-mid-median", "metrics", "metrics/bootstrap.py",
      "return np.stack([low, mean, high])",
      "return np.stack([low, np.median(means, axis=0), high])",
      BOOT, "mid is the resample median, not the plain mean"),
    M("lcs-length-wrong-side", "metrics", "metrics/lcs.py",
      "    return len(can) - row.bit_count()",
      "    return len(ref) - row.bit_count()",
      ROUGE, "LCS length counted against the wrong sequence"),
    M("lcs-tie-break", "metrics", "metrics/lcs.py",
      "if (rows[i] >> (j - 1)) & 1 and up < cur:",
      "if (rows[i] >> (j - 1)) & 1 and up <= cur:",
      ROUGE, "LCS backtracking breaks ties differently from rouge-score"),
    M("rouge-counts-swapped", "metrics", "metrics/rouge.py",
      "return hits, max(len(pred) - n + 1, 0), max(len(ref) - n + 1, 0)",
      "return hits, max(len(ref) - n + 1, 0), max(len(pred) - n + 1, 0)",
      ROUGE, "n-gram precision and recall denominators swapped"),
    M("rouge-f-half", "metrics", "metrics/rouge.py",
      "2 * p * r / (p + r)",
      "p * r / (p + r)",
      ROUGE, "F1 without the factor 2"),
    M("rouge-max-by-recall", "metrics", "metrics/rouge.py",
      "best = np.argmax(block[:, :, 2], axis=0)",
      "best = np.argmax(block[:, :, 1], axis=0)",
      ROUGE, "multi-reference max picks the best recall, not the best F1"),
    M("rouge-pooled-first-ref", "metrics", "metrics/rouge.py",
      "return prf(np.add.reduceat(counts, starts, axis=0))",
      "return prf(counts[starts])",
      ROUGE, "pooled rule uses only the first reference"),
    M("rouge-lsum-no-pred-clip", "metrics", "metrics/rouge.py",
      "if cnt_c[t] > 0 and cnt_r[t] > 0:",
      "if cnt_r[t] > 0:",
      ROUGE, "rougeLsum hits not clipped by the prediction's token counts"),
    M("rouge-summary-low-is-mid", "metrics", "metrics/rouge.py",
      '"low": round(float(ci[0, t, s]), 4)',
      '"low": round(float(ci[1, t, s]), 4)',
      ROUGE, "summary() reports the mean as the interval's low end"),
    M("sent-no-line-split", "metrics", "metrics/sentences.py",
      'for line in text.replace("\\r\\n", "\\n").replace("\\r", "\\n").split("\\n"):',
      'for line in [text.replace("\\r\\n", " ").replace("\\n", " ")]:',
      SENT, "line breaks no longer sentence boundaries"),
    M("sent-cjk-terminators", "metrics", "metrics/sentences.py",
      '_CJK_END_RE = re.compile(f"(?<=[。！？])|',
      '_CJK_END_RE = re.compile(f"(?<=[。])|',
      SENT, "full-width ! and ? no longer end sentences"),
    M("sent-cjk-ascii-period", "metrics", "metrics/sentences.py",
      '(?<=[{CJK_CLASS}]\\\\.)(?=[{CJK_CLASS}])")',
      '(?<=[{CJK_CLASS}]\\\\.)(?=[{CJK_CLASS}]{99})")',
      SENT + ("tests/unit/test_evaluation_details.py",),
      "an ASCII period between CJK characters no longer ends a sentence (CSL abstracts)"),
    M("diag-repeat-inverted", "metrics", "metrics/diagnostics.py",
      "return 1 - len(set(pred)) / len(pred)",
      "return len(set(pred)) / len(pred)",
      DIAG, "repeated n-gram share reports the distinct share"),
    M("diag-compression-inverted", "metrics", "metrics/diagnostics.py",
      "ratios = [len(s.split()) / w for",
      "ratios = [w / len(s.split()) for",
      DIAG, "compression ratio inverted (prediction / source)"),
    M("diag-novel-distinct", "metrics", "metrics/diagnostics.py",
      "return sum(g not in src for g in pred) / len(pred)",
      "return sum(g not in src for g in pred) / len(set(pred))",
      DIAG, "novel n-gram share divides by distinct n-grams"),
    M("diag-empty-whitespace", "metrics", "metrics/diagnostics.py",
      "np.mean([not p.strip() for p in predictions])",
      "np.mean([not p for p in predictions])",
      DIAG, "whitespace-only predictions not counted as empty"),
    # --- length counting -------------------------------------------------------------------------
    M("count-eos-counted", "length", "inference/backends/base.py",
      "return n if n >= max_new_tokens else max(0, n - 1)",
      "return n",
      COUNT, "the EOS that ended a summary early is counted as a generated token"),
    M("count-padding-counted", "length", "inference/backends/base.py",
      "n = sum(1 for t in ids if t != pad_id)",
      "n = len(ids)",
      COUNT, "padding after an early EOS is counted as generated tokens"),
    M("hit-cap-strict", "length", "config/generation.py",
      "return [n >= max_new_tokens for n in new_token_counts]",
      "return [n > max_new_tokens for n in new_token_counts]",
      COUNT, "an output that used every step is not flagged as hitting the cap"),
    M("torch-keeps-start-token", "length", "inference/backends/torch_backend.py",
      "for row in out[:, 1:].cpu().tolist()]",
      "for row in out.cpu().tolist()]",
      COUNT, "the decoder start token is returned (and counted) as generated"),
    M("torch-counts-beam-eos-fill", "length", "inference/backends/torch_backend.py",
      "return [cut_after_eos(row, eos_ids) for row in",
      "return [row for row in",
      COUNT + ("tests/unit/test_backends.py",),
      "beam search's EOS fill after a finished beam counted as generated tokens"),
    M("torch-cut-drops-eos", "length", "inference/backends/torch_backend.py",
      "            return ids[: i + 1]",
      "            return ids[:i]",
      COUNT + ("tests/unit/test_backends.py",), "the end-of-sequence token itself not counted"),
    M("ct2-forced-eos-past-cap", "length", "inference/backends/ctranslate2_backend.py",
      "if self.forced_eos is not None and len(ids) >= cap:",
      "if self.forced_eos is not None and len(ids) > cap:",
      ("tests/unit/test_length_counting.py", "tests/unit/test_backends.py"),
      "CTranslate2 output at the cap keeps a text token where transformers forces EOS"),
    # --- batching order --------------------------------------------------------------------------
    M("order-summary-slot", "order", "inference/batching.py",
      "summaries[todo[k]] = restore(text, source) if restore else text.strip()",
      "summaries[todo[order.index(k)]] = restore(text, source) if restore else text.strip()",
      ORDER, "summaries left in length-sorted order, not put back in input order"),
    M("order-empty-offset", "order", "inference/batching.py",
      "summaries[todo[k]] = restore(text, source) if restore else text.strip()",
      "summaries[k] = restore(text, source) if restore else text.strip()",
      ORDER, "summaries shift one slot per empty text before them"),
    M("order-count-slot", "order", "inference/batching.py",
      "counts[todo[k]] = count_new_tokens(",
      "counts[todo[order.index(k)]] = count_new_tokens(",
      ORDER, "token counts left in length-sorted order, not put back in input order"),
    M("order-shortest-first", "order", "inference/batching.py",
      "key=lambda k: -len(encoded[k]))",
      "key=lambda k: len(encoded[k]))",
      ORDER, "batches sorted shortest first"),
    M("order-stream-window", "order", "inference/batching.py",
      "finish(window[reported : len(done)], done[reported:])",
      "finish(window[: len(done) - reported], done[reported:])",
      ORDER, "streamed results after the first batch land on the first batch's texts"),
    M("order-empty-skipped-wrong", "order", "inference/batching.py",
      "todo = [i for i, t in enumerate(texts) if t.strip()]",
      "todo = [i for i, t in enumerate(texts) if t]",
      ORDER, "whitespace-only texts reach the model"),
    # --- checkpoint / resume ---------------------------------------------------------------------
    M("ckpt-no-rng-restore", "checkpoint", "training/checkpoint.py",
      '    set_rng_state(state["extra"].get("rng_ranks", [state["rng"]])[rank])\n',
      "",
      CKPT, "resume does not restore RNG states"),
    M("ckpt-no-scheduler-restore", "checkpoint", "training/checkpoint.py",
      '    scheduler.load_state_dict(state["scheduler"])\n',
      "",
      CKPT, "resume restarts the learning-rate schedule"),
    M("ckpt-no-optimizer-restore", "checkpoint", "training/checkpoint.py",
      '    optimizer.load_state_dict(state["optimizer"])\n',
      "",
      CKPT, "resume starts with empty optimizer moments"),
    M("loop-no-log-truncate", "checkpoint", "training/loop.py",
      "        train_log.truncate_after(progress.step)\n",
      "",
      CKPT, "resume keeps log lines written after the checkpoint (duplicated steps)"),
    M("loop-epoch-not-advanced", "checkpoint", "training/loop.py",
      "            p.epoch += 1\n",
      "",
      CKPT, "every epoch reuses epoch 0's batch order"),
    M("log-truncate-off-by-one", "checkpoint", "training/callbacks.py",
      'if r.get("step", 0) <= step]',
      'if r.get("step", 0) < step]',
      CKPT, "resume drops the checkpoint step's own log line"),
    # --- atomic writes ---------------------------------------------------------------------------
    M("atomic-temp-left", "atomic", "rundir.py",
      "        Path(tmp).unlink(missing_ok=True)\n        raise",
      "        raise",
      ATOMIC, "a failed write leaves its temp file behind"),
    M("atomic-in-place", "atomic", "rundir.py",
      "        with os.fdopen(fd, mode, encoding=encoding) as fh:",
      "        os.close(fd)\n        os.replace(tmp, path)\n        tmp = str(path)\n        with open(path, mode, encoding=encoding) as fh:",
      ATOMIC, "the target file is truncated and written in place"),
    M("jsonl-skips-torn-middle", "atomic", "rundir.py",
      "            if i == len(lines) - 1:\n                break",
      "            if True:\n                continue",
      ATOMIC, "read_jsonl silently skips a corrupt line that is not the last"),
    M("ckpt-save-in-place", "atomic", "training/checkpoint.py",
      'with atomic_writer(path, "wb") as fh:',
      'with open(path, "wb") as fh:',
      ATOMIC, "the checkpoint is overwritten in place: Ctrl-C mid-save tears it"),
)
# fmt: on


def resolve(mutation: Mutation, src: Path) -> Path:
    """The one file under `src` holding the original snippet once; SystemExit(1) otherwise."""
    expected = src / PACKAGE / mutation.path
    if expected.is_file() and expected.read_text(encoding="utf-8").count(mutation.original) == 1:
        return expected
    hits = [
        (p, n)
        for p in sorted(src.rglob("*.py"))
        if "__pycache__" not in p.parts
        and (n := p.read_text(encoding="utf-8").count(mutation.original))
    ]
    if len(hits) == 1 and hits[0][1] == 1:
        return hits[0][0]
    where = ", ".join(f"{p.relative_to(src)} ({n}x)" for p, n in hits) or "nowhere under src/"
    sys.exit(f"mutation {mutation.id}: snippet must occur exactly once, found {where}:\n"
             f"{mutation.original}")  # fmt: skip


def run_tests(src: Path, tests: tuple[str, ...], timeout: float) -> tuple[str, float, str]:
    """'pass', 'fail' or 'timeout' for `tests` run against the package under `src`, the
    seconds it took and pytest's summary line."""
    env = {**os.environ, "PYTHONPATH": str(src), "OMP_NUM_THREADS": "1",
           "PYTHONDONTWRITEBYTECODE": "1"}  # fmt: skip
    cmd = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *tests]
    start = time.perf_counter()
    try:
        res = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True,
                             timeout=timeout)  # fmt: skip
    except subprocess.TimeoutExpired:
        return "timeout", time.perf_counter() - start, ""
    seconds = time.perf_counter() - start
    if res.returncode == 5:
        sys.exit(f"no tests collected for {' '.join(tests)}:\n{res.stdout[-2000:]}")
    if res.returncode in (0, 1, 2):  # 2: collection failed (the mutant broke an import)
        summary = (res.stdout.strip().splitlines() or [""])[-1]
        return ("pass" if res.returncode == 0 else "fail"), seconds, summary
    sys.exit(f"pytest exited {res.returncode} on {' '.join(tests)}:\n{res.stdout[-2000:]}")


def copy_src(dest: Path) -> Path:
    shutil.copytree(SRC, dest / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    return dest / "src"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", help="comma-separated texts: mutants whose id or area has one")
    parser.add_argument("--check", action="store_true", help="only resolve every snippet")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per mutant")
    parser.add_argument("--fail-under", type=float, default=90.0, help="minimum kill rate, %%")
    parser.add_argument("--no-baseline", action="store_true",
                        help="skip running the selected tests once on the unmutated copy")  # fmt: skip
    args = parser.parse_args(argv)
    wanted = [w for w in (args.only or "").split(",") if w]
    chosen = [m for m in MUTATIONS if not wanted or any(w in m.id or w == m.area for w in wanted)]
    ids = [m.id for m in MUTATIONS]
    if len(set(ids)) != len(ids):
        sys.exit("mutation ids must be unique")
    resolved = {m.id: resolve(m, SRC).relative_to(SRC) for m in chosen}
    if args.check:
        for m in chosen:
            print(f"{m.id:28} {resolved[m.id]}")
        print(f"{len(chosen)} snippets found")
        return 0
    if not args.no_baseline:
        selection = tuple(dict.fromkeys(t for m in chosen for t in m.tests))
        with tempfile.TemporaryDirectory(prefix="mutants-") as tmp:
            outcome, seconds, summary = run_tests(copy_src(Path(tmp)), selection, args.timeout * 2)
        if outcome != "pass":
            sys.exit(f"the unmutated code does not pass {' '.join(selection)} ({outcome})")
        # Skipped tests kill nothing: check this line when a mutant survives unexpectedly.
        print(f"baseline, unmutated: {summary} ({seconds:.0f}s)")
    rows = []
    for m in chosen:
        with tempfile.TemporaryDirectory(prefix="mutant-") as tmp:
            src = copy_src(Path(tmp))
            file = src / resolved[m.id]
            file.write_text(
                file.read_text(encoding="utf-8").replace(m.original, m.mutated, 1), "utf-8"
            )
            outcome, seconds, _ = run_tests(src, m.tests, args.timeout)
        status = {"fail": "killed", "timeout": "killed (timeout)", "pass": "SURVIVED"}[outcome]
        rows.append((m, status, seconds))
        print(f"{m.id:28} {m.area:10} {status:16} {seconds:5.0f}s  {resolved[m.id]}: "
              f"{m.description}", flush=True)  # fmt: skip
    killed = sum(status.startswith("killed") for _, status, _ in rows)
    rate = 100 * killed / len(rows) if rows else 100.0
    print(f"\nkilled {killed} of {len(rows)} mutants ({rate:.0f}%)")
    for m, status, _ in rows:
        if status == "SURVIVED":
            print(f"  survived: {m.id} ({m.description}); tests: {' '.join(m.tests)}")
    return 0 if rate >= args.fail_under else 2


if __name__ == "__main__":
    sys.exit(main())
