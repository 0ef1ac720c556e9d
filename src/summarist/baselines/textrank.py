"""TextRank sentence extraction (Mihalcea & Tarau, 2004) with numpy only, no NLTK data.

Sentences are nodes; edge weight = shared stemmed words / (log|S_i| + log|S_j|); scores come from
PageRank (damping 0.85) by power iteration. The top-k sentences are returned in document order.
"""

from __future__ import annotations

import math

import numpy as np

from summarist.metrics.sentences import split_sentences
from summarist.metrics.tokenizers import tokenize_unicode


def similarity_matrix(token_sets: list[set[str]], lengths: list[int]) -> np.ndarray:
    n = len(token_sets)
    sim = np.zeros((n, n))
    logs = [math.log(x) if x > 0 else 0.0 for x in lengths]
    for i in range(n):
        for j in range(i + 1, n):
            denom = logs[i] + logs[j]
            overlap = len(token_sets[i] & token_sets[j])
            if overlap and denom > 0:
                sim[i, j] = sim[j, i] = overlap / denom
    return sim


def pagerank(
    sim: np.ndarray, damping: float = 0.85, tol: float = 1e-8, max_iter: int = 200
) -> np.ndarray:
    """Weighted PageRank; dangling nodes spread their mass uniformly."""
    n = sim.shape[0]
    out_weight = sim.sum(axis=1, keepdims=True)
    trans = np.divide(sim, out_weight, out=np.full_like(sim, 1.0 / n), where=out_weight > 0)
    scores = np.full(n, 1.0 / n)
    for _ in range(max_iter):
        new = (1 - damping) / n + damping * trans.T @ scores
        if np.abs(new - scores).sum() < tol:
            return new
        scores = new
    return scores


def textrank(text: str, k: int = 3) -> str:
    """The k highest-ranked sentences of `text`, in their original order."""
    sents = split_sentences(text)
    if len(sents) <= k:
        return "\n".join(sents)
    toks = [tokenize_unicode(s) for s in sents]
    scores = pagerank(similarity_matrix([set(t) for t in toks], [len(t) for t in toks]))
    # Stable tie-break: earlier sentences first.
    order = sorted(range(len(sents)), key=lambda i: (-scores[i], i))[:k]
    return "\n".join(sents[i] for i in sorted(order))
