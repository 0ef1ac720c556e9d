"""Positional and random extractive baselines: lead-k sentences/utterances, longest, random-k.

Extracted units are joined with newlines, so rougeLsum sees exactly the units that were picked.
"""

from __future__ import annotations

import random
import re

from summarist.metrics.sentences import first_sentences, split_sentences

# "#Person1#: hi", "Anna: hi", "Mr. Smith: hi" — a short name before the first colon.
_SPEAKER_RE = re.compile(r"^\s*(#[^#\n]{1,30}#|[^\s:#][^:\n]{0,30}?)\s*:\s*")


def utterances(text: str) -> list[str]:
    """Non-empty lines of a dialogue (one utterance per line)."""
    return [
        ln.strip()
        for ln in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        if ln.strip()
    ]


def strip_speaker(utterance: str) -> str:
    """Drop a leading speaker tag: `#Person1#: Hi.` → `Hi.`

    >>> strip_speaker("#Person1#: Hello, Mr. Smith.")
    'Hello, Mr. Smith.'
    """
    return _SPEAKER_RE.sub("", utterance, count=1)


def lead_sentences(text: str, k: int = 3) -> str:
    """The first k sentences (Punkt, line breaks respected)."""
    return "\n".join(first_sentences(text, k))


def lead_utterances(text: str, k: int = 3, speaker_tags: bool = True) -> str:
    """The first k utterances (lines), with or without their speaker tags."""
    picked = utterances(text)[:k]
    return "\n".join(picked if speaker_tags else [strip_speaker(u) for u in picked])


def longest_utterance(text: str) -> str:
    """The longest line in words (the first one on ties)."""
    lines = utterances(text)
    return max(lines, key=lambda u: len(u.split())) if lines else ""


def random_sentences(text: str, k: int, rng: random.Random) -> str:
    """k sentences drawn without replacement, kept in document order."""
    sents = split_sentences(text)
    picked = sorted(rng.sample(range(len(sents)), min(k, len(sents))))
    return "\n".join(sents[i] for i in picked)
