"""Greedy extractive oracle: the upper bound of sentence extraction (Nallapati et al., 2017).

Sentences are added one at a time, each time the one that most raises the mean of ROUGE-1 and
ROUGE-2 F1 against the reference (rouge-score tokens, stemmed), until no sentence helps or
`k` are chosen. With several references, the first is the target (as training labels use it).
"""

from __future__ import annotations

from collections import Counter

from summarist.metrics.sentences import split_sentences
from summarist.metrics.tokenizers import get_tokenizer


def _f1(overlap: int, pred: int, ref: int) -> float:
    if not overlap:
        return 0.0
    p, r = overlap / pred, overlap / ref
    return 2 * p * r / (p + r)


def _score(sel: list[Counter], ref: list[Counter]) -> float:
    total = 0.0
    for n in (0, 1):
        pred = sel[n]
        overlap = sum(min(c, ref[n][g]) for g, c in pred.items() if g in ref[n])
        total += _f1(overlap, sum(pred.values()), sum(ref[n].values()))
    return total / 2


def _grams(tokens: list[str]) -> list[Counter]:
    return [Counter(tokens), Counter(zip(tokens, tokens[1:]))]


def greedy_oracle(
    text: str, reference: str, k: int | None = None, tokenizer: str = "rouge-score"
) -> str:
    """Sentences of `text` greedily chosen to maximise (R1 F1 + R2 F1) / 2 vs `reference`."""
    tok = get_tokenizer(tokenizer)
    sents = split_sentences(text)
    sent_toks = [tok(s) for s in sents]
    ref = _grams(tok(reference))
    chosen: list[int] = []
    best = 0.0
    limit = len(sents) if k is None else min(k, len(sents))
    while len(chosen) < limit:
        cand_best, cand_idx = best, -1
        for i in range(len(sents)):
            if i in chosen:
                continue
            # Bigrams across the seam of two non-adjacent sentences do not count (units are kept
            # apart by newlines in the output, and rouge-score tokenizes across them anyway, so
            # we score the joined token sequence exactly as it will be scored).
            toks = [t for j in sorted([*chosen, i]) for t in sent_toks[j]]
            score = _score(_grams(toks), ref)
            if score > cand_best:
                cand_best, cand_idx = score, i
        if cand_idx < 0:
            break
        chosen.append(cand_idx)
        best = cand_best
    return "\n".join(sents[i] for i in sorted(chosen))
