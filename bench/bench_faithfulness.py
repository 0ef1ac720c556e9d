"""Faithfulness figures: do they catch corrupted references, and how fast are they?

validate: a corruption set built from real references (DialogSum dev, SAMSum validation, the
CNN/DM and the XSum half of the news sample in ../shared/data, each apart). Each reference,
used as a summary of its own source,
gets three corruptions, one at a time:
  entity swap     a named entity of the reference that occurs in the source is replaced by an
                  entity of the same label found in another reference of the corpus and absent
                  (as a string) from this source;
  number change   a number the reference shares with the source (same text) gets another
                  value (digits, number word, month, weekday or hour) whose text the source
                  does not contain;
  added clause    a sentence of another example's reference is appended.
Entities for the swaps come from spaCy NER when installed (else the capitalised-span rule).
A figure flags a summary when it has an unsupported entity (prec_s < 100), an unsupported
number (num_prec_s < 100), either, or, for novel_2 / repeated_2, when it exceeds the 90th
percentile of the untouched references (so 10% false positives by construction). Detection
rate = share of corrupted summaries flagged, over the examples whose untouched reference is
not flagged; false-positive rate = share of untouched references flagged. Sanity rows: mean
figures of the references themselves and of lead-3.

speed: summaries/s of the figures with NER (batched `nlp.pipe`, only the ner component,
sources read once) against the standard way (Nan et al.'s evaluation loop: the full spaCy
pipeline called per text, three times per example, regex matching), both counting the same
entities; then `summarist evaluate --predictions` end to end (lead-3 and the constant baseline
as ever, the report included) with the figures on and NER off (`--entity-method rules`)
against `--no-faithfulness` on the same file, with the default workers, `--workers 1` and
`--workers 2`, plus the baselines' sanity rows (`--faithfulness-baselines`) and NER on; on
short sources (SAMSum validation + DialogSum dev, 1,318) and long ones (the news sample, 501),
best of --repeats.

    OMP_NUM_THREADS=1 python bench/bench_faithfulness.py validate --out faith_validate.json
    OMP_NUM_THREADS=2 python bench/bench_faithfulness.py speed --threads 2
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import time
from pathlib import Path
from typing import Any

import numpy as np

from summarist.hardware import cpu_model

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
# name: (file, source field, reference field, rows kept: (field, value) or None). The news
# sample's two halves are kept apart: XSum references are lowercased and known to say much
# their articles do not (Maynez et al. 2020), CNN/DM's are mostly extractive.
CORPORA = {
    "DialogSum dev": ("dialogsum/dev.jsonl", "dialogue", "summary", None),
    "SAMSum validation": ("samsum/validation.jsonl", "dialogue", "summary", None),
    "CNN/DM (news sample)": ("news/cnndm_xsum_sample.jsonl", "article", "summary",
                             ("dataset", "cnndm")),
    "XSum (news sample)": ("news/cnndm_xsum_sample.jsonl", "article", "summary",
                           ("dataset", "xsum")),
}  # fmt: skip
WORD_NUMBERS = [
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]  # fmt: skip
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def load(name: str, n: int) -> tuple[list[str], list[str]]:
    rel, src, ref, keep = CORPORA[name]
    rows = [json.loads(line) for line in (DATA / rel).read_text("utf-8").splitlines()]
    rows = [r for r in rows if str(r[src]).strip() and str(r[ref]).strip()
            and (keep is None or r.get(keep[0]) == keep[1])]  # fmt: skip
    rows = rows[:n] if n else rows
    return [str(r[src]) for r in rows], [str(r[ref]) for r in rows]


# ---- corruptions ------------------------------------------------------------------------


def _in_text(phrase: str, text: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", text, re.IGNORECASE) is not None


def swap_entity(ref: str, source: str, ents: list[Any], pool: dict[str, list[str]],
                rng: random.Random) -> str | None:  # fmt: skip
    """The reference with one source-supported entity replaced by an unsupported one."""
    candidates = [e for e in ents if _in_text(e.text, source)]
    rng.shuffle(candidates)
    for e in candidates:
        words = {w.lower() for w in e.text.split()}
        options = [p for p in pool.get(e.label, []) if not _in_text(p, source)
                   and not words & {w.lower() for w in p.split()}]  # fmt: skip
        if options:
            return ref[: e.start] + rng.choice(options) + ref[e.end :]
    return None


def _new_values(text: str, rng: random.Random) -> list[str]:
    """Other values written like `text` (digits, a number word, a month, a weekday)."""
    out = []
    low = text.lower()
    for names in (WORD_NUMBERS, MONTHS, DAYS):
        hit = next((w for w in names if re.search(rf"\b{w}\b", text, re.IGNORECASE)), None)
        if hit:
            out += [re.sub(rf"\b{hit}\b", w, text, count=1, flags=re.IGNORECASE)
                    for w in rng.sample(names, len(names)) if w.lower() != hit.lower()]  # fmt: skip
    digits = re.search(r"\d+", text)
    if digits and not out:
        v = int(digits.group())
        for k in rng.sample(range(1, 10), 9):
            new = v + k if "%" in low or v > 12 else (v + k - 1) % 12 + 1
            out.append(text[: digits.start()] + str(new) + text[digits.end() :])
    return out


def change_number(ref: str, source: str, rng: random.Random) -> str | None:
    """The reference with one number it shares with the source written with another value.

    Numbers are located with summarist's extractor; a mention counts as shared when its text
    occurs in the source, and the new text must not (checked as strings, not with the number
    rule being measured, so a value the rule still finds elsewhere in the source is a miss).
    """
    from summarist.metrics.numbers import extract_numbers

    mentions = [m for m in extract_numbers(ref) if _in_text(m.text, source)]
    rng.shuffle(mentions)
    for m in mentions:
        for new in _new_values(m.text, rng)[:6]:
            if not _in_text(new, source):
                return ref[: m.start] + new + ref[m.end :]
    return None


def add_clause(ref: str, other: str) -> str:
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", other.strip()) if s]
    return ref.rstrip() + " " + sentences[-1]


def corruptions(sources: list[str], refs: list[str], seed: int = 0) -> dict[str, list[str | None]]:
    """Per corruption type, per example, the corrupted reference (None where none applies)."""
    from summarist.metrics.entities import RuleFinder, SpacyFinder, default_model

    model = default_model("en")
    finder: Any = SpacyFinder(model) if model else RuleFinder()
    ents = finder.find_all(refs, [[] for _ in refs])
    pool: dict[str, list[str]] = {}
    for found in ents:
        for e in found:
            pool.setdefault(e.label, [])
            if e.text not in pool[e.label]:
                pool[e.label].append(e.text)
    rng = random.Random(seed)
    out: dict[str, list[str | None]] = {"entity swap": [], "number change": [], "added clause": []}
    for i, (src, ref) in enumerate(zip(sources, refs, strict=True)):
        out["entity swap"].append(swap_entity(ref, src, ents[i], pool, rng))
        out["number change"].append(change_number(ref, src, rng))
        j = rng.randrange(len(refs) - 1)
        out["added clause"].append(add_clause(ref, refs[j if j < i else j + 1]))
    return out


# ---- validation -------------------------------------------------------------------------

FLAGS = ("prec_s", "num_prec_s", "either", "novel_2", "repeated_2")


def flags(records: list[dict[str, Any]], thresholds: dict[str, float]) -> dict[str, np.ndarray]:
    ent = np.array([r["unsupported_entity"] == 100.0 for r in records])
    num = np.array([r["unsupported_number"] == 100.0 for r in records])
    out = {"prec_s": ent, "num_prec_s": num, "either": ent | num}
    for f in ("novel_2", "repeated_2"):
        out[f] = np.array([(r[f] or 0.0) > thresholds[f] for r in records])
    return out


def validate(names: list[str], methods: list[str], n: int) -> dict[str, Any]:
    from summarist.baselines import lead_baseline_name, run_baseline
    from summarist.metrics.faithfulness import resolve_method, score_faithfulness, summarize_records

    result: dict[str, Any] = {}
    for name in names:
        sources, refs = load(name, n)
        corrupt = corruptions(sources, refs)
        lead_name = lead_baseline_name(sources)
        lead = run_baseline(lead_name, sources, references=[[r] for r in refs])
        for method_name in methods:
            method = resolve_method(method_name, "en", None, "named", sources[:50])
            systems = {"references": refs, "lead": lead}
            for kind, texts in corrupt.items():
                systems[kind] = [t if t is not None else "" for t in texts]
            began = time.perf_counter()
            records = score_faithfulness(sources, [[r] for r in refs], systems, method,
                                         no_reference=tuple(systems))  # fmt: skip
            seconds = time.perf_counter() - began
            untouched = records["references"]
            thresholds = {f: float(np.quantile([r[f] or 0.0 for r in untouched], 0.9))
                          for f in ("novel_2", "repeated_2")}  # fmt: skip
            base = flags(untouched, thresholds)
            rows = {"untouched (false positives)": {
                f: {"rate": round(100 * float(base[f].mean()), 1), "n": len(untouched)} for f in FLAGS}}  # fmt: skip
            for kind, texts in corrupt.items():
                made = np.array([t is not None for t in texts])
                got = flags(records[kind], thresholds)
                rows[kind] = {}
                for f in FLAGS:
                    eligible = made & ~base[f]
                    rate = 100 * float(got[f][eligible].mean()) if eligible.any() else None
                    rows[kind][f] = {"rate": None if rate is None else round(rate, 1),
                                     "n": int(eligible.sum())}  # fmt: skip
            sanity = {label: summarize_records(records[key], bootstrap=0)["figures"]
                      for label, key in (("references", "references"), (lead_name, "lead"))}  # fmt: skip
            result[f"{name} | {method.label()}"] = {
                "examples": len(refs), "rows": rows, "thresholds": thresholds,
                "sanity": {k: {f: v[f]["mid"] for f in ("prec_s", "num_prec_s", "unsupported_entity",
                                                         "unsupported_number", "novel_2", "repeated_2")}
                           for k, v in sanity.items()},
                "seconds": round(seconds, 2),
            }  # fmt: skip
            print_validation(f"{name} | {method.label()}", result[f"{name} | {method.label()}"])
    return result


def print_validation(title: str, r: dict[str, Any]) -> None:
    print(f"\n## {title} ({r['examples']} references, {r['seconds']} s)")
    print("| rows | " + " | ".join(FLAGS) + " |")
    print("|---|" + "---|" * len(FLAGS))
    for kind, cells in r["rows"].items():
        shown = [
            "—" if c["rate"] is None else f"{c['rate']:.1f}% (n={c['n']})" for c in cells.values()
        ]
        print(f"| {kind} | " + " | ".join(shown) + " |")
    for label, figs in r["sanity"].items():
        shown = [("—" if v is None else f"{v:.1f}") for v in figs.values()]
        print(
            f"| mean figures, {label}: "
            + ", ".join(f"{k} {v}" for k, v in zip(figs, shown, strict=True))
            + " |"
        )


# ---- speed ------------------------------------------------------------------------------


def standard_counts(nlp: Any, hypos: list[str], targets: list[str], sources: list[str],
                    types: frozenset[str]) -> tuple[int, float]:  # fmt: skip
    """Nan et al.'s loop (`evaluate_hypo`): nlp() per text, 3 calls per example, regex match."""
    from summarist.metrics.entities import STOP_WORDS

    def match(ent: str, text: str) -> bool:
        split = ent.split()
        for n in range(len(split), 1, -1):
            for i in range(len(split) - n + 1):
                if re.search(re.escape(" ".join(split[i : i + n])), text, re.IGNORECASE):
                    return True
        return any((t.lower() not in STOP_WORDS or t == "US")
                   and re.search(re.escape(t), text, re.IGNORECASE) for t in split)  # fmt: skip

    def count(base: str, parent: str) -> tuple[int, int]:
        ents = [e for e in nlp(base).ents if e.label_ in types]
        return len(ents), sum(match(e.text, parent) for e in ents)

    began = time.perf_counter()
    total = 0
    for h, t, s in zip(hypos, targets, sources, strict=True):
        n_h, _ = count(h, s)
        count(h, t)
        count(t, h)
        total += n_h
    return total, time.perf_counter() - began


SPEED_SETS = {
    "dialogues": ("SAMSum validation", "DialogSum dev"),
    "news": ("CNN/DM (news sample)", "XSum (news sample)"),
}
"""Short sources (1,318 dialogues) and long ones (501 articles, ~700 words each)."""


def _speed_set(names: tuple[str, ...], n: int) -> tuple[list[str], list[str], list[str]]:
    sources, refs = [], []
    for name in names:
        s, r = load(name, 0)
        sources += s
        refs += r
    sources, refs = (sources[:n], refs[:n]) if n else (sources, refs)
    return sources, refs, refs[1:] + refs[:1]  # summary-like texts that are not the reference


def speed_ner(label: str, sources: list[str], refs: list[str], hypos: list[str], repeats: int,
              threads: int) -> None:  # fmt: skip
    """Summaries/s of the figures with NER (summaries and references through `nlp.pipe`),
    and the standard way (Nan et al.'s loop) on the first 300, counting the same entities."""
    from summarist.metrics.entities import NAMED_TYPES, default_model, import_spacy, load_pipeline
    from summarist.metrics.faithfulness import resolve_method, score_faithfulness

    model = default_model("en")
    load_pipeline(model)
    spacy = import_spacy(model)
    records: dict[str, Any] = {}
    for procs in sorted({1, threads}):
        method = resolve_method("ner", "en", None, "named", sources[:50], processes=procs)
        times = []
        for _ in range(repeats):
            began = time.perf_counter()
            records = score_faithfulness(sources, [[r] for r in refs], {"model": hypos}, method)
            times.append(time.perf_counter() - began)
        ours = min(times)
        mine = sum(len(r["entities"]) for r in records["model"])
        print(f"{label}: NER ({model}), {procs} nlp.pipe process(es): {len(hypos)} summaries "
              f"with their references and sources in {ours:.2f} s = {len(hypos) / ours:.0f} "
              f"summaries/s ({mine} entities; best of {repeats})")  # fmt: skip
    full = spacy.load(model)  # the standard way: the whole pipeline, one text at a time
    theirs_n = min(len(hypos), 300)
    std_entities, theirs = standard_counts(full, hypos[:theirs_n], refs[:theirs_n],
                                           sources[:theirs_n], frozenset(NAMED_TYPES))  # fmt: skip
    mine_first = sum(len(r["entities"]) for r in records["model"][:theirs_n])
    # The same work: the same NER model on the same texts. The full pipeline's parser also sets
    # sentence starts, which NER respects, so a few entities may differ.
    assert abs(std_entities - mine_first) <= max(2, std_entities // 200), (std_entities, mine_first)
    ratio = (len(hypos) / ours) / (theirs_n / theirs)
    print(f"{label}: standard way (Nan et al.'s loop: full pipeline per text, 3 calls per "
          f"example): {theirs_n} summaries in {theirs:.2f} s = {theirs_n / theirs:.0f} "
          f"summaries/s, {std_entities} entities (ours {mine_first}); ours {ratio:.1f}x")  # fmt: skip


def speed_evaluate(label: str, sources: list[str], refs: list[str], hypos: list[str],
                   repeats: int, ner: bool) -> None:  # fmt: skip
    """`summarist evaluate --predictions` as a user runs it (read, score with lead-3 and the
    constant baseline, write the run and the report), the figures on (NER off) against
    `--no-faithfulness`, on the same predictions file: with the default workers (one process
    below 5,000 examples), `--workers 1` and `--workers 2`. The arms alternate within each
    repeat (a load that comes and goes hits both); best of `repeats` for wall time, and the
    child's CPU time (user + system) of that best run."""
    import resource
    import subprocess
    import sys
    import tempfile

    tmp = Path(tempfile.mkdtemp())
    preds = tmp / "preds.jsonl"
    preds.write_text("".join(json.dumps({"prediction": h, "references": [r], "source": s}) + "\n"
                             for h, r, s in zip(hypos, refs, sources, strict=True)), "utf-8")  # fmt: skip
    settings = {"default workers": [], "--workers 1": ["--workers", "1"],
                "--workers 2": ["--workers", "2"]}  # fmt: skip
    arms = {"--no-faithfulness": ["--no-faithfulness"],
            "--entity-method rules": ["--entity-method", "rules"]}  # fmt: skip
    cli = {(where, arm): [*a, *w] for where, w in settings.items() for arm, a in arms.items()}
    cli["default workers", "rules + --faithfulness-baselines"] = [
        "--entity-method", "rules", "--faithfulness-baselines"]  # fmt: skip
    if ner:
        cli["default workers", "--entity-method ner"] = ["--entity-method", "ner"]
    best: dict[tuple[str, str], tuple[float, float]] = {}
    walls: dict[tuple[str, str], list[float]] = {}
    for rep in range(repeats):
        for k, (key, flags) in enumerate(cli.items()):
            out = tmp / f"run{rep}-{k}"
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            began = time.perf_counter()
            subprocess.run([sys.executable, "-m", "summarist", "evaluate", "--predictions",
                            str(preds), "-o", str(out), *flags], check=True,
                           capture_output=True)  # fmt: skip
            wall = time.perf_counter() - began
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            walls.setdefault(key, []).append(wall)
            if key not in best or wall < best[key][0]:
                best[key] = (wall, cpu)
    metrics = json.loads((tmp / "run0-1" / "metrics.json").read_text("utf-8"))
    faith = next(iter(metrics["splits"].values()))["faithfulness"]
    print(f"\n{label}: `summarist evaluate --predictions` ({len(hypos)} rows, lead-3 and the "
          f"constant baseline, report included; entities: {faith['method']['label']}), "
          f"best of {repeats}, load {os.getloadavg()[0]:.2f} now:")  # fmt: skip
    for (where, arm), (wall, cpu) in best.items():
        plain_wall, plain_cpu = best[where, "--no-faithfulness"]
        # each repeat runs the arms back to back: the median of its ratios resists a load that
        # comes and goes better than the ratio of the bests
        paired = np.median(
            np.array(walls[where, arm]) / np.array(walls[where, "--no-faithfulness"])
        )
        print(
            f"  {where}, {arm}: {wall:.2f} s wall ({wall / plain_wall:.2f}x; median of the "
            f"repeats' ratios {paired:.2f}x), {cpu:.2f} s CPU ({cpu / plain_cpu:.2f}x)"
        )


def speed(n: int, repeats: int, threads: int, sets: list[str], ner: bool = True) -> None:
    import logging

    from summarist.metrics.entities import default_model

    logging.disable(logging.WARNING)  # the shifted "predictions" are rightly flagged degenerate
    if ner and default_model("en") is None:
        print("spaCy with an English pipeline is not installed: NER arms skipped")
    ner = ner and default_model("en") is not None
    for label in sets:
        sources, refs, hypos = _speed_set(SPEED_SETS[label], n)
        if ner:
            speed_ner(label, sources, refs, hypos, repeats, threads)
        speed_evaluate(label, sources, refs, hypos, repeats, ner)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("what", choices=("validate", "speed"))
    ap.add_argument("--n", type=int, default=0, help="first N examples per corpus (0: all)")
    ap.add_argument("--corpora", default=",".join(CORPORA))
    ap.add_argument("--methods", default="ner,rules")
    ap.add_argument("--sets", default=",".join(SPEED_SETS), help="speed: text sets to time")
    ap.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS", "1")))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-ner", action="store_true", help="speed: skip the NER arms")
    ap.add_argument("--out", type=Path, default=None, help="write the validation as JSON here")
    args = ap.parse_args()
    if not DATA.is_dir():
        raise SystemExit(f"{DATA} is absent: this benchmark needs ../shared/data")
    print(f"CPU: {cpu_model()}; threads {args.threads} (OMP_NUM_THREADS="
          f"{os.environ.get('OMP_NUM_THREADS', 'unset')}); load {os.getloadavg()[0]:.2f}")  # fmt: skip
    if args.what == "validate":
        methods = [m for m in args.methods.split(",") if m]
        result = validate(args.corpora.split(","), methods, args.n)
        if args.out:
            args.out.write_text(json.dumps(result, indent=1), "utf-8")
    else:
        speed(args.n, args.repeats, args.threads, args.sets.split(","), ner=not args.no_ner)
    print(f"load at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
