"""Model-free diagnostics of a set of predictions: length, compression, novelty, repetition.

Words are whitespace-separated; n-gram statistics use lowercased word-ish tokens (the Unicode
ROUGE tokenizer without stemming, so CJK text counts characters). "Tokens" are the model
tokenizer's when one is given, otherwise the same ROUGE tokens.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

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
    src = _source_ngrams(source, set(prediction), n)
    return sum(g not in src for g in pred) / len(pred)


def _source_ngrams(source: list[str], words: set[str], n: int) -> set[tuple[str, ...]]:
    """The source's n-grams that start with a word of the prediction (the only ones a
    prediction n-gram can equal): a fraction of all of a 700-word article's."""
    return {tuple(source[i : i + n]) for i in range(len(source) - n + 1) if source[i] in words}


def _novel_shares(prediction: list[str], source: list[str]) -> list[float | None]:
    """`novel_ngram_share` for every order in NGRAM_ORDERS (1, 2, 3, 4).

    Each order's source n-grams stream through `set.intersection` (in C; an n-gram that is
    not the prediction's is dropped at once): no Python loop over a 700-word source."""
    if not prediction:
        return [None] * len(NGRAM_ORDERS)
    found_words = set(prediction).intersection(source)
    out: list[float | None] = [sum(w not in found_words for w in prediction) / len(prediction)]
    for n in NGRAM_ORDERS[1:]:
        pred = _ngrams(prediction, n)
        if not pred:
            out.append(None)
            continue
        found = set(pred).intersection(zip(*(source[i:] for i in range(n))))
        out.append(sum(g not in found for g in pred) / len(pred))
    return out


def repeated_ngram_share(prediction: list[str], n: int) -> float | None:
    """Share of the prediction's n-grams that repeat an earlier n-gram of the same prediction."""
    pred = _ngrams(prediction, n)
    if not pred:
        return None
    return 1 - len(set(pred)) / len(pred)


def _mean(values: Sequence[float | None] | np.ndarray) -> float | None:
    kept = [v for v in values if v is not None and not (isinstance(v, float) and np.isnan(v))]
    return round(float(np.mean(kept)), 4) if kept else None


def _norm_hash(text: str) -> bytes:
    """8-byte hash of `degenerate._norm(text)` (whitespace and case ignored)."""
    from hashlib import blake2b

    return blake2b(" ".join(text.split()).lower().encode("utf-8", "surrogatepass"),
                   digest_size=8).digest()  # fmt: skip


def diagnostic_values(
    predictions: Sequence[str],
    sources: Sequence[str] | None,
    *,
    tokenizer: Callable[[str], list[Any]] | None = None,
) -> dict[str, np.ndarray]:
    """The per-example numbers behind `compute_diagnostics` (arrays, NaN where a share is
    undefined), so that a split can be diagnosed chunk by chunk and summarized once."""
    pred_toks = [tokenize_unicode(p, use_stemmer=False) for p in predictions]
    lengths = [len(tokenizer(p)) for p in predictions] if tokenizer else [len(t) for t in pred_toks]

    def shares(values: list[float | None]) -> np.ndarray:
        return np.array([np.nan if v is None else v for v in values], dtype=np.float64)

    out: dict[str, np.ndarray] = {
        "words": np.array([len(p.split()) for p in predictions], dtype=np.int64),
        "tokens": np.array(lengths, dtype=np.int64),
        "empty": np.array([not p.strip() for p in predictions], dtype=bool),
        "prediction_hash": np.array([_norm_hash(p) for p in predictions], dtype="V8"),
    }
    for n in (1, 2, 3):
        out[f"repeated_{n}"] = shares([repeated_ngram_share(t, n) for t in pred_toks])
    if sources is not None:
        if len(sources) != len(predictions):
            raise ValueError(f"{len(predictions)} predictions but {len(sources)} sources")
        out["source_hash"] = np.array([_norm_hash(s) for s in sources], dtype="V8")
        out["source_words"] = np.array([len(s.split()) for s in sources], dtype=np.int64)
        novel: dict[int, list[float | None]] = {n: [] for n in NGRAM_ORDERS}
        for p, s in zip(pred_toks, sources, strict=True):
            for n, share in zip(
                NGRAM_ORDERS, _novel_shares(p, tokenize_unicode(s, use_stemmer=False)), strict=True
            ):
                novel[n].append(share)
        for n in NGRAM_ORDERS:
            out[f"novel_{n}"] = shares(novel[n])
    return out


def concat_values(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]} if parts else {}


def summarize_diagnostics(
    values: dict[str, np.ndarray], *, hit_cap: Sequence[bool] | None = None
) -> dict[str, Any]:
    """The contract's `diagnostics` from `diagnostic_values` (of all examples, in order)."""
    n = len(values["words"])
    words = values["words"]
    preds = values["prediction_hash"]
    out: dict[str, Any] = {
        "n": n,
        "prediction_words": _describe(words.tolist()),
        "prediction_tokens": _describe(values["tokens"].tolist()),
        "empty_share": round(float(np.mean(values["empty"])), 4) if n else 0.0,
        "repeated_ngrams": {str(k): _mean(values[f"repeated_{k}"].tolist()) for k in (1, 2, 3)},
        "distinct_share": round(len(np.unique(preds)) / n, 4) if n else 1.0,
    }
    if "source_hash" in values:
        out["shared_prediction_share"] = _shared_share(preds, values["source_hash"])
        src_words = values["source_words"]
        out["source_words"] = _describe(src_words.tolist())
        keep = words > 0
        out["compression_ratio"] = _describe((src_words[keep] / words[keep]).tolist())
        out["novel_ngrams"] = {str(k): _mean(values[f"novel_{k}"].tolist()) for k in NGRAM_ORDERS}
    if hit_cap is not None:
        if len(hit_cap) != n:
            raise ValueError(f"{n} predictions but {len(hit_cap)} hit_cap flags")
        out["hit_cap_share"] = round(float(np.mean(hit_cap)), 4) if len(hit_cap) else 0.0
    return out


def _shared_share(preds: np.ndarray, sources: np.ndarray) -> float:
    """`degenerate.shared_prediction_share` on hashes: examples whose prediction is also the
    prediction for a different source."""
    if not len(preds):
        return 0.0
    pairs = np.unique(np.stack([preds.view(np.uint64), sources.view(np.uint64)], axis=1), axis=0)
    by_pred, counts = np.unique(pairs[:, 0], return_counts=True)
    shared = np.isin(preds.view(np.uint64), by_pred[counts > 1])
    return round(int(shared.sum()) / len(preds), 4)


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
    values = diagnostic_values(predictions, sources, tokenizer=tokenizer)
    return summarize_diagnostics(values, hit_cap=hit_cap)
