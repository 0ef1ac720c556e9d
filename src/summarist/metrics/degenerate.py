"""Is the model summarizing at all? Distinct outputs, source-ignoring probes, the constant test.

A collapsed model writes (nearly) the same summary for every input. On formulaic references that
output can beat lead-3, so ROUGE next to lead-3 alone does not reveal it. Three checks do:

- `distinct_share`: distinct predictions / predictions;
- `shared_prediction_share`: how often a prediction is also given for a *different* source;
- the swap probe (`swap_plan` → generate → `swap_probe`): on a few examples the source is replaced
  by another example's; a model that reads its input changes its prediction;

and `degenerate_verdict` turns them, with a paired bootstrap against the constant baseline, into
the `degenerate` block of metrics.json and one warning line with the numbers.

>>> distinct_share(["a", "a", "b", "a"])
0.5
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

from summarist.metrics.bootstrap import paired_bootstrap

MIN_DISTINCT_SHARE = 0.5
"""Fewer distinct predictions than this share of all predictions is flagged."""
PROBE_SIZE = 8
"""Examples in the swap probe (each generated once more, with another example's source)."""
MIN_ENTITY_PRECISION = 50.0
"""Fewer of the predictions' entities than this share (%) found in their sources is flagged..."""
MIN_ENTITIES = 10
"""...once the predictions name at least this many entities (a few are no evidence)."""


def _norm(text: str) -> str:
    return " ".join(text.split()).lower()


def distinct_share(predictions: Sequence[str]) -> float:
    """Distinct predictions (whitespace and case ignored) over all predictions; 1.0 when none."""
    if not predictions:
        return 1.0
    return round(len({_norm(p) for p in predictions}) / len(predictions), 4)


def shared_prediction_share(predictions: Sequence[str], sources: Sequence[str]) -> float:
    """Share of examples whose prediction is also the prediction for a different source."""
    if len(predictions) != len(sources):
        raise ValueError(f"{len(predictions)} predictions but {len(sources)} sources")
    by_pred: dict[str, set[str]] = defaultdict(set)
    for p, s in zip(predictions, sources, strict=True):
        by_pred[_norm(p)].add(_norm(s))
    shared = sum(len(by_pred[_norm(p)]) > 1 for p in predictions)
    return round(shared / len(predictions), 4) if predictions else 0.0


def swap_plan(
    sources: Sequence[str], size: int = PROBE_SIZE, seed: int = 0
) -> list[tuple[int, int]]:
    """(example, donor) pairs for the swap probe: example i gets donor's source instead of its own.

    Examples are a seeded sample; each donor is the next sampled example (a cycle) whose source
    differs from the example's. Fewer than two distinct sources: no pairs.
    """
    idx = list(range(len(sources)))
    random.Random(seed).shuffle(idx)
    idx = idx[: max(0, size)]
    pairs = []
    for k, i in enumerate(idx):
        donors = [j for j in idx[k + 1 :] + idx[:k] if _norm(sources[j]) != _norm(sources[i])]
        if donors:
            pairs.append((i, donors[0]))
    return pairs


def swap_probe(
    predictions: Sequence[str], plan: Sequence[tuple[int, int]], swapped: Sequence[str]
) -> dict[str, Any]:
    """How often example i's prediction is unchanged when its source is the donor's.

    `swapped[k]` is the prediction for `plan[k]`'s donor source, generated like the originals.
    """
    if len(plan) != len(swapped):
        raise ValueError(f"{len(plan)} probe pairs but {len(swapped)} swapped predictions")
    unchanged = [_norm(predictions[i]) == _norm(s) for (i, _), s in zip(plan, swapped, strict=True)]
    share = round(float(np.mean(unchanged)), 4) if unchanged else None
    return {"n": len(plan), "unchanged_share": share}


def degenerate_verdict(
    model_scores: Sequence[float],
    constant_scores: Sequence[float] | None,
    diagnostics: dict[str, Any],
    *,
    metric: str = "rouge1",
    n_resamples: int = 1000,
    seed: int = 0,
    faithfulness: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The `degenerate` block: flagged when < 50% distinct, or not better than the constant.

    "Better" means the paired bootstrap's 95% interval of model - constant lies above 0 on
    `metric` F1 (per-example scores, 0-100). A swap probe whose predictions mostly stay the same
    is reported as a reason too, and so are predictions that mostly name entities their sources
    do not contain (`faithfulness`, the metrics.json block: pooled prec_s below
    `MIN_ENTITY_PRECISION` over at least `MIN_ENTITIES` entities).
    """
    out: dict[str, Any] = {"flagged": False, "reasons": [], "message": None}
    distinct = diagnostics.get("distinct_share")
    n = len(model_scores)
    if distinct is not None and distinct < MIN_DISTINCT_SHARE:
        count = round(distinct * n)
        out["reasons"].append(
            f"only {count} of {n} predictions are distinct ({100 * distinct:.0f}%)"
        )
    if constant_scores is not None and n:
        test = paired_bootstrap(
            np.asarray(model_scores), np.asarray(constant_scores), n_resamples, seed=seed
        )
        vs = {k: round(float(v[0]), 3) for k, v in test.items()}
        vs.update(model=round(float(np.mean(model_scores)), 3),
                  constant=round(float(np.mean(constant_scores)), 3), metric=metric)  # fmt: skip
        out["vs_constant"] = vs
        if not vs["low"] > 0:
            out["reasons"].append(
                f"{metric} {vs['model']:.1f} is no better than the constant baseline's "
                f"{vs['constant']:.1f} (difference {vs['diff']:+.1f}, 95% CI "
                f"[{vs['low']:+.1f}, {vs['high']:+.1f}], paired bootstrap)"
            )
    probe = diagnostics.get("swap_probe") or {}
    if (probe.get("unchanged_share") or 0) >= 0.5:
        out["reasons"].append(
            f"{100 * probe['unchanged_share']:.0f}% of {probe['n']} predictions stayed the same "
            "when the source was swapped for another example's"
        )
    entity_reason = _entity_reason(faithfulness)
    if entity_reason:
        out["reasons"].append(entity_reason)
    if out["reasons"]:
        out["flagged"] = True
        out["message"] = "DEGENERATE OUTPUT: the model may be ignoring its input: " + "; ".join(
            out["reasons"]
        )
    return out


def _entity_reason(faithfulness: dict[str, Any] | None) -> str | None:
    """A reason when most entities the predictions name are not in their sources."""
    if not faithfulness:
        return None
    counts = faithfulness.get("counts") or {}
    named, found = counts.get("summary_entities") or 0, counts.get("entities_in_source") or 0
    if named < MIN_ENTITIES or 100.0 * found / named >= MIN_ENTITY_PRECISION:
        return None
    refs = ((faithfulness.get("references") or {}).get("pooled") or {}).get("prec_s")
    beside = f"; the references' own: {refs:.0f}%" if refs is not None else ""
    return (
        f"{100 * (named - found) / named:.0f}% of the {named} entities the predictions name are "
        f"not in their sources (entity precision vs source {100 * found / named:.1f}%{beside})"
    )


__all__ = [
    "MIN_DISTINCT_SHARE",
    "MIN_ENTITIES",
    "MIN_ENTITY_PRECISION",
    "PROBE_SIZE",
    "degenerate_verdict",
    "distinct_share",
    "shared_prediction_share",
    "swap_plan",
    "swap_probe",
]
