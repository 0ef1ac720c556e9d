"""Numbers behind the report's sections: length buckets, example picks and paired comparisons.

Everything works on the rows of predictions.jsonl (`source`, `references`, `prediction`,
`scores`), so a report needs no model, tokenizer or ROUGE implementation.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import numpy as np

from summarist.data.prepare import count_words

ROUGE_KEYS = ("rouge1", "rouge2", "rougeL", "rougeLsum")
LABELS = {"rouge1": "ROUGE-1", "rouge2": "ROUGE-2", "rougeL": "ROUGE-L", "rougeLsum": "ROUGE-Lsum"}


def word_count(text: Any) -> int:
    """Words as `data stats` counts them (one per CJK character), so the numbers agree."""
    return count_words(str(text or ""))


def first_reference(row: dict[str, Any]) -> str:
    refs = row.get("references") or [""]
    return str(refs[0]) if isinstance(refs, list) else str(refs)


def score_keys(rows: list[dict[str, Any]]) -> list[str]:
    """The ROUGE keys present in the per-example scores, in the usual order."""
    present = {k for r in rows for k in (r.get("scores") or {})}
    return [k for k in ROUGE_KEYS if k in present]


def row_score(row: dict[str, Any], key: str) -> float | None:
    value = (row.get("scores") or {}).get(key)
    return float(value) if isinstance(value, int | float) else None


def primary_key(rows: list[dict[str, Any]]) -> str | None:
    """The score used to rank examples: ROUGE-L when present (order-aware, one number)."""
    keys = score_keys(rows)
    return "rougeL" if "rougeL" in keys else (keys[0] if keys else None)


@dataclass
class Bucket:
    """Examples whose source length (words) lies in [low, high]."""

    low: int
    high: int
    n: int
    means: dict[str, float]


def rouge_by_source_length(rows: list[dict[str, Any]], n_buckets: int = 5) -> list[Bucket]:
    """Mean per-example ROUGE in source-length quantile buckets (fewer when lengths repeat)."""
    keys = score_keys(rows)
    if not rows or not keys:
        return []
    lengths = np.array([word_count(r.get("source")) for r in rows])
    edges = np.unique(np.quantile(lengths, np.linspace(0, 1, n_buckets + 1)).round().astype(int))
    # each example goes into the first bucket whose upper edge covers it
    which = np.searchsorted(edges[1:], lengths, side="left") if len(edges) > 1 else lengths * 0
    which = np.minimum(which, max(len(edges) - 2, 0))
    buckets = []
    for b in range(max(len(edges) - 1, 1)):
        members = [rows[i] for i in np.flatnonzero(which == b)]
        if not members:
            continue
        lens = [word_count(r.get("source")) for r in members]
        means = {}
        for key in keys:
            vals = [v for r in members if (v := row_score(r, key)) is not None]
            if vals:
                means[key] = float(np.mean(vals))
        buckets.append(Bucket(low=min(lens), high=max(lens), n=len(members), means=means))
    return buckets


def pick_examples(
    rows: list[dict[str, Any]], k: int = 3, seed: int = 0
) -> dict[str, list[dict[str, Any]]]:
    """Best, worst (by the primary score) and seeded-random examples; best and worst are empty
    when unscored. The random ones are drawn from the rows not already shown as best or worst
    (fewer than `k` when there are not enough left)."""
    key = primary_key(rows)
    picks: dict[str, list[dict[str, Any]]] = {"best": [], "worst": [], "random": []}
    if key is not None:
        scored = [r for r in rows if row_score(r, key) is not None]
        # ties broken by index so the page is identical from one render to the next
        ranked = sorted(scored, key=lambda r: (-(row_score(r, key) or 0.0), str(r.get("index"))))
        picks["best"] = ranked[:k]
        picks["worst"] = ranked[::-1][:k]
    shown = {id(r) for r in picks["best"] + picks["worst"]}
    rest = [r for r in rows if id(r) not in shown]
    picks["random"] = random.Random(seed).sample(rest, min(k, len(rest)))
    return picks


@dataclass
class PairedResult:
    """B minus A on the same examples, with a paired-bootstrap CI and two-sided p-value
    (`summarist.metrics.paired_bootstrap`)."""

    split: str
    metric: str
    n: int
    mean_a: float
    mean_b: float
    diff: float
    low: float
    high: float
    p_value: float


def aligned_pairs(
    rows_a: list[dict[str, Any]], rows_b: list[dict[str, Any]]
) -> tuple[list[tuple[dict[str, Any], dict[str, Any]]], int]:
    """Rows of two runs on the same examples, matched by (split, index); also the count of
    matched rows whose sources differ (a sign the runs used different data)."""
    by_key = {(str(r.get("split")), r.get("index")): r for r in rows_b if "index" in r}
    pairs, mismatched = [], 0
    for ra in rows_a:
        rb = by_key.get((str(ra.get("split")), ra.get("index")))
        if rb is None or "index" not in ra:
            continue
        if "source" in ra and "source" in rb and ra["source"] != rb["source"]:
            mismatched += 1
            continue
        pairs.append((ra, rb))
    return pairs, mismatched


def compare_predictions(
    rows_a: list[dict[str, Any]],
    rows_b: list[dict[str, Any]],
    *,
    resamples: int = 1000,
    seed: int = 0,
) -> tuple[list[PairedResult], int]:
    """Paired bootstrap of every shared ROUGE key on every shared split; also the mismatch count.

    Resampling the *pairs* keeps each example's difficulty on both sides, which is what makes
    a one-point gain detectable when the two runs' own CIs overlap.
    """
    from summarist.metrics import paired_bootstrap  # numpy only; imported when comparing

    pairs, mismatched = aligned_pairs(rows_a, rows_b)
    results = []
    splits = sorted({str(ra.get("split")) for ra, _ in pairs})
    for split in splits:
        in_split = [(ra, rb) for ra, rb in pairs if str(ra.get("split")) == split]
        keys = [
            k
            for k in score_keys([ra for ra, _ in in_split])
            if k in score_keys([rb for _, rb in in_split])
        ]
        for key in keys:
            both = [(row_score(ra, key), row_score(rb, key)) for ra, rb in in_split]
            kept = [(x, y) for x, y in both if x is not None and y is not None]
            if len(kept) < 2:
                continue
            a, b = np.array(kept).T
            # the same seeded paired bootstrap that `summarist evaluate` uses, as B - A
            test = paired_bootstrap(b, a, n_resamples=resamples, seed=seed)
            results.append(
                PairedResult(
                    split=split, metric=key, n=len(kept), mean_a=float(a.mean()),
                    mean_b=float(b.mean()), diff=float(test["diff"][0]), low=float(test["low"][0]),
                    high=float(test["high"][0]), p_value=float(test["p_value"][0]),
                )
            )  # fmt: skip
    return results, mismatched
