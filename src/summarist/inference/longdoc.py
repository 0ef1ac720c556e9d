"""Long documents: overlapping windows on sentence boundaries, then map-reduce.

A source longer than the model's limit is never cut silently. It is split into sentences (one
utterance per line is kept as a boundary), packed greedily into windows that fit the limit,
each window overlapping the previous one by up to `overlap` tokens of whole sentences. Every
window is summarized, the partial summaries are joined, and the joined text is treated as a
new document: split again if it is still too long (the reduce step recurses), summarized once
when it fits. All documents of a call advance level by level, so each level is one batched
generation over every window of every document.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

# summarize(texts) -> (summaries, new-token counts); count(texts) -> token counts incl. prefix.
SummarizeFn = Callable[[list[str]], tuple[list[str], list[int]]]
CountFn = Callable[[list[str]], list[int]]

MAX_DEPTH = 4


@dataclass(frozen=True)
class Window:
    """Units [start, end) of one level's document, and the window's token count."""

    start: int
    end: int
    tokens: int


@dataclass
class Level:
    """One map step: the document it split, its windows, and the joined partial summaries."""

    input_tokens: int
    units: int
    windows: list[Window]
    output_tokens: int = 0


@dataclass
class LongDocTrace:
    """How one source was summarized: the map levels and what the final step read."""

    source_tokens: int
    levels: list[Level] = field(default_factory=list)
    final_input_tokens: int = 0
    truncated: bool = False
    """True when the reduce step still did not fit after MAX_DEPTH levels (then it is cut)."""

    @property
    def depth(self) -> int:
        return len(self.levels)


def split_units(text: str) -> list[str]:
    """Sentences of `text`, keeping line breaks (utterances) as boundaries."""
    from summarist.metrics.sentences import split_sentences

    return split_sentences(text, "punkt")


def fit_units(units: list[str], lengths: list[int], budget: int) -> tuple[list[str], list[int]]:
    """Split any unit longer than `budget` tokens into word runs that fit (lengths estimated)."""
    out_units: list[str] = []
    out_lengths: list[int] = []
    for unit, n in zip(units, lengths, strict=True):
        if n <= budget:
            out_units.append(unit)
            out_lengths.append(n)
            continue
        words = unit.split()
        per_word = n / max(1, len(words))
        step = max(1, int(budget / per_word * 0.9))
        for i in range(0, len(words), step):
            piece = words[i : i + step]
            out_units.append(" ".join(piece))
            out_lengths.append(min(budget, int(per_word * len(piece)) + 1))
    return out_units, out_lengths


def pack_windows(lengths: Sequence[int], budget: int, overlap: int) -> list[tuple[int, int]]:
    """Greedy windows [start, end) of whole units with sum(lengths) <= budget.

    Each window after the first starts with the previous window's trailing units whose total
    is at most `overlap` tokens, at least one unit when `overlap` > 0 (but never all of them,
    so every window moves forward).
    """
    windows: list[tuple[int, int]] = []
    start, n = 0, len(lengths)
    while start < n:
        end, total = start, 0
        while end < n and (end == start or total + lengths[end] <= budget):
            total += lengths[end]
            end += 1
        windows.append((start, end))
        if end >= n:
            break
        # Share the trailing units that fit in `overlap` tokens, and at least one when
        # overlapping is asked for (context across the cut matters more than exact size).
        back, shared = end, 0
        while back - 1 > start and (back == end or shared + lengths[back - 1] <= overlap):
            back -= 1
            shared += lengths[back]
        start = back if overlap > 0 else end
    return windows


def plan_windows(
    text: str, count: CountFn, limit: int, overlap: int, overhead: int
) -> tuple[list[str], list[Window], int]:
    """Window texts of `text`, their windows (exact token counts, each within `limit`), units."""
    units = split_units(text)
    budget = limit - overhead
    units, lengths = fit_units(units, count_pieces(count, units, overhead), budget)
    while True:
        spans = pack_windows(lengths, budget, overlap)
        texts = [" ".join(units[a:b]) for a, b in spans]
        counts = count(texts)
        spill = max(counts) - limit
        # Sub-word merges at unit joins can add a token or two: repack a little tighter.
        if spill <= 0 or budget <= 1:
            break
        budget -= spill
    windows = [Window(a, b, c) for (a, b), c in zip(spans, counts, strict=True)]
    return texts, windows, len(units)


def count_pieces(count: CountFn, units: list[str], overhead: int) -> list[int]:
    return [max(1, n - overhead) for n in count(units)]


def map_reduce(
    texts: list[str],
    summarize: SummarizeFn,
    count: CountFn,
    *,
    limit: int,
    overlap: int,
    max_depth: int = MAX_DEPTH,
) -> tuple[list[str], list[int], list[LongDocTrace]]:
    """Summaries of `texts` (any length), new-token counts, and one trace per text.

    `count` must include the prefix and special tokens, so that `count([""])` is the fixed
    overhead of every input.
    """
    overhead = count([""])[0]
    if limit - overhead < 8:
        from summarist.errors import ConfigError

        raise ConfigError(f"max source length {limit} leaves no room for text", "raise it")
    current = list(texts)
    lengths = count(current)
    traces = [LongDocTrace(source_tokens=n) for n in lengths]
    pending = [i for i, n in enumerate(lengths) if n > limit]
    while pending and max(traces[i].depth for i in pending) < max_depth:
        jobs: list[tuple[int, str]] = []
        for i in pending:
            window_texts, windows, units = plan_windows(current[i], count, limit, overlap, overhead)
            traces[i].levels.append(Level(lengths[i], units, windows))
            jobs.extend((i, w) for w in window_texts)
        partial, _ = summarize([w for _, w in jobs])
        for i in pending:
            current[i] = "\n".join(s for (j, _), s in zip(jobs, partial, strict=True) if j == i)
        lengths_now = count([current[i] for i in pending])
        for i, n in zip(pending, lengths_now, strict=True):
            lengths[i] = n
            traces[i].levels[-1].output_tokens = n
        pending = [i for i in pending if lengths[i] > limit]
    for i in pending:
        traces[i].truncated = True
    if pending:
        log.warning(
            "%d long input(s) still exceed %d tokens after %d map-reduce levels and were cut; "
            "lower max_new_tokens or raise the source limit",
            len(pending),
            limit,
            max_depth,
        )
    for i, trace in enumerate(traces):
        trace.final_input_tokens = min(lengths[i], limit)
    summaries, new_tokens = summarize(current)
    return summaries, new_tokens, traces
