"""Model-free diagnostics of a set of predictions: length, compression, novelty, repetition.

Words are whitespace-separated; n-gram statistics use lowercased word-ish tokens (the Unicode
ROUGE tokenizer without stemming, so CJK text counts characters). "Tokens" are the model
tokenizer's when one is given, otherwise the same ROUGE tokens.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from summarist.metrics.degenerate import distinct_share, shared_prediction_share
from summarist.metrics.tokenizers import tokenize_unicode

NGRAM_ORDERS = (1, 2, 3, 4)


def _ngrams(tokens: list[str], n: int) -> list[tuple[str, ...]]:
    return list(zip(*(tokens[i:] for i in range(n))))


def _describe(values: Sequence[float]) -> dict[str, float]:
    if not len(values):
        return {"mean": 0.0, "median": 0.0, "p10": 0.0, "p90": 0.0, "max": 0.0}
    arr = np.asarray(values, dtype=np.float64)
    return {
        "mean": round(float(arr.mean()), 4),
        "median": round(float(np.median(arr)), 4),
        "p10": round(float(np.quantile(arr, 0.1)), 4),
        "p90": round(float(np.quantile(arr, 0.9)), 4),
        "max": round(float(arr.max()), 4),
    }


def novel_ngram_share(prediction: list[str], source: list[str], n: int) -> float | None:
    """Share of the prediction's n-grams (with repeats) absent from the source; None if it has none."""
    pred = _ngrams(prediction, n)
    if not pred:
        return None
    src = set(_ngrams(source, n))
    return sum(g not in src for g in pred) / len(pred)


def repeated_ngram_share(prediction: list[str], n: int) -> float | None:
    """Share of the prediction's n-grams that repeat an earlier n-gram of the same prediction."""
    pred = _ngrams(prediction, n)
    if not pred:
        return None
    return 1 - len(set(pred)) / len(pred)


def _mean(values: list[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return round(float(np.mean(kept)), 4) if kept else None


def compute_diagnostics(
    predictions: Sequence[str],
    sources: Sequence[str] | None,
    *,
    hit_cap: Sequence[bool] | None = None,
    tokenizer: Callable[[str], list[Any]] | None = None,
) -> dict[str, Any]:
    """The contract's `diagnostics` for one split.

    Shares and rates are fractions (0-1), like `hit_cap_share` in train_log.jsonl; ROUGE alone
    uses the 0-100 scale.

    Args:
        predictions: the generated summaries.
        sources: the input texts (novelty and compression need them; None skips those).
        hit_cap: per example, whether generation stopped at the token cap.
        tokenizer: text → tokens, e.g. a model tokenizer's `tokenize`; default: ROUGE tokens.

    >>> d = compute_diagnostics(["a b c"], ["a b d e f g"])
    >>> d["novel_ngrams"]["1"], d["compression_ratio"]["mean"]
    (0.3333, 2.0)
    """
    if sources is not None and len(sources) != len(predictions):
        raise ValueError(f"{len(predictions)} predictions but {len(sources)} sources")
    tok = tokenizer or (lambda t: tokenize_unicode(t, use_stemmer=False))
    words = [len(p.split()) for p in predictions]
    pred_toks = [tokenize_unicode(p, use_stemmer=False) for p in predictions]
    out: dict[str, Any] = {
        "n": len(predictions),
        "prediction_words": _describe(words),
        "prediction_tokens": _describe([len(tok(p)) for p in predictions]),
        "empty_share": round(float(np.mean([not p.strip() for p in predictions])), 4)
        if predictions
        else 0.0,
        "repeated_ngrams": {
            str(n): _mean([repeated_ngram_share(t, n) for t in pred_toks]) for n in (1, 2, 3)
        },
        "distinct_share": distinct_share(predictions),
    }
    if sources is not None:
        out["shared_prediction_share"] = shared_prediction_share(predictions, sources)
        src_toks = [tokenize_unicode(s, use_stemmer=False) for s in sources]
        out["source_words"] = _describe([len(s.split()) for s in sources])
        ratios = [len(s.split()) / w for s, w in zip(sources, words, strict=True) if w]
        out["compression_ratio"] = _describe(ratios)
        out["novel_ngrams"] = {
            str(n): _mean(
                [novel_ngram_share(p, s, n) for p, s in zip(pred_toks, src_toks, strict=True)]
            )
            for n in NGRAM_ORDERS
        }
    if hit_cap is not None:
        if len(hit_cap) != len(predictions):
            raise ValueError(f"{len(predictions)} predictions but {len(hit_cap)} hit_cap flags")
        out["hit_cap_share"] = round(float(np.mean(hit_cap)), 4) if hit_cap else 0.0
    return out
