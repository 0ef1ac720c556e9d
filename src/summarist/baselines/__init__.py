"""Extractive baselines as one table: name → spec. No model, no torch, no NLTK data.

Names carry their k (`EXAMPLE_NAMES`: `lead-3`, `textrank-3`, ...); `oracle-3` is the oracle
with at most 3 sentences.

>>> run_baseline("lead-2", ["One. Two. Three."])
['One.\\nTwo.']
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from summarist.baselines.lead import (
    lead_sentences,
    lead_utterances,
    longest_utterance,
    random_sentences,
)
from summarist.baselines.oracle import greedy_oracle
from summarist.baselines.textrank import textrank
from summarist.errors import ConfigError, did_you_mean

# fn(text, k, reference, rng) -> summary
BaselineFn = Callable[[str, int | None, str | None, random.Random], str]


@dataclass(frozen=True)
class BaselineSpec:
    fn: BaselineFn
    help: str
    default_k: int | None = 3
    takes_k: bool = True
    needs_references: bool = False


BASELINES: dict[str, BaselineSpec] = {
    "lead": BaselineSpec(lambda t, k, r, g: lead_sentences(t, k or 3), "first k sentences"),
    "lead-utterances": BaselineSpec(
        lambda t, k, r, g: lead_utterances(t, k or 3), "first k dialogue lines, with speaker tags"
    ),
    "lead-utterances-notags": BaselineSpec(
        lambda t, k, r, g: lead_utterances(t, k or 3, speaker_tags=False),
        "first k dialogue lines, speaker tags removed",
    ),
    "longest-utterance": BaselineSpec(
        lambda t, k, r, g: longest_utterance(t), "the longest line", None, takes_k=False
    ),
    "textrank": BaselineSpec(lambda t, k, r, g: textrank(t, k or 3), "top-k TextRank sentences"),
    "random": BaselineSpec(
        lambda t, k, r, g: random_sentences(t, k or 3, g), "k random sentences (seeded)"
    ),
    "oracle": BaselineSpec(
        lambda t, k, r, g: greedy_oracle(t, r or "", k),
        "greedy extractive oracle vs the reference (an upper bound, not a system)",
        default_k=None,
        needs_references=True,
    ),
}

EXAMPLE_NAMES = (
    "lead-3",
    "lead-3-utterances",
    "lead-3-utterances-notags",
    "longest-utterance",
    "textrank-3",
    "random-3",
    "oracle",
)
"""One name per baseline, with its usual k (the list error messages offer)."""

_NAME_RE = re.compile(r"^(?P<head>[a-z]+(?:-[a-z]+)*?)(?:-(?P<k>\d+))?(?P<tail>(?:-[a-z]+)*)$")


def parse_baseline_name(name: str) -> tuple[str, int | None]:
    """`lead-3-utterances-notags` → (`lead-utterances-notags`, 3); `oracle` → (`oracle`, None)."""
    m = _NAME_RE.match(name.strip().lower())
    family = (m["head"] + m["tail"]) if m else name
    if not m or family not in BASELINES:
        raise ConfigError(
            f"unknown baseline '{name}'{did_you_mean(name, EXAMPLE_NAMES)}",
            f"choose one of {', '.join(EXAMPLE_NAMES)}",
        )
    spec = BASELINES[family]
    k = int(m["k"]) if m["k"] else spec.default_k
    if m["k"] and not spec.takes_k:
        raise ConfigError(f"baseline '{family}' takes no k", f"use '{family}'")
    if k is not None and k < 1:
        raise ConfigError(f"baseline '{name}': k must be >= 1")
    return family, k


def run_baseline(
    name: str,
    texts: Sequence[str],
    *,
    references: Sequence[Sequence[str]] | None = None,
    seed: int = 0,
    progress: Callable[[int], None] | None = None,
    **kw: object,
) -> list[str]:
    """Apply baseline `name` to every text (references only for `oracle`).

    `progress`, if given, is called with the number of texts done (every 100 and at the end).
    """
    family, k = parse_baseline_name(name)
    spec = BASELINES[family]
    if kw:
        raise ConfigError(f"baseline '{name}' got unknown options: {', '.join(kw)}")
    if spec.needs_references and (references is None or len(references) != len(texts)):
        raise ConfigError(f"baseline '{name}' needs one reference list per text")
    rng = random.Random(seed)
    out = []
    for i, text in enumerate(texts):
        ref = references[i][0] if references is not None and references[i] else None
        out.append(spec.fn(text, k, ref, rng))
        if progress is not None and (i + 1) % 100 == 0:
            progress(i + 1)
    if progress is not None:
        progress(len(out))
    return out


def lead_baseline_name(texts: Sequence[str]) -> str:
    """`lead-3-utterances` for dialogues (first three turns with speaker tags), else `lead-3`."""
    turn = re.compile(r"^\s*[^:\n]{1,40}:\s", re.MULTILINE)
    sample = texts[:200]
    dialogues = sum(1 for t in sample if len(turn.findall(t)) >= 2)
    return "lead-3-utterances" if sample and dialogues / len(sample) > 0.5 else "lead-3"


__all__ = [
    "BASELINES",
    "BaselineSpec",
    "lead_baseline_name",
    "parse_baseline_name",
    "run_baseline",
]
