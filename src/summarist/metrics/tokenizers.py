"""Word tokenizers for ROUGE: rouge-score's own (exact parity) and a Unicode-aware one.

rouge-score lowercases, keeps maximal runs of `[a-z0-9]` and Porter-stems tokens longer than three
characters (nltk's `PorterStemmer`, default NLTK_EXTENSIONS mode). The stemmer is ~70% of its
time and has no cache; here every word type is stemmed once per process (`_stem_cached`).

Its tokenizer drops every non-ASCII letter, so Chinese or Russian text scores 0. The `unicode`
tokenizer keeps CJK characters as one token each and other scripts as lowercased word runs
(`\\w+`), stemming only ASCII words, so Latin text tokenizes as with rouge-score.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

TOKENIZERS = ("rouge-score", "unicode")

_ALNUM_RE = re.compile(r"[a-z0-9]+")
_VALID_RE = re.compile(r"^[a-z0-9]+$")
# Han (incl. extensions A/B+ and compatibility), Hiragana, Katakana, Hangul syllables/jamo, CJK
# punctuation excluded. Each such character is one token (the usual choice for Chinese ROUGE).
CJK_CLASS = (
    "\u3040-\u309f\u30a0-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
    "\uac00-\ud7af\u1100-\u11ff\U00020000-\U0002ebef"
)
# Combining marks are not `\\w` in Python's re, yet they sit inside words (Devanagari vowel
# signs, Arabic and Hebrew vowel points, Latin diacritics written separately): keep them in.
_MARKS = (
    "\u0300-\u036f\u0483-\u0489\u0591-\u05c7\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed"
    "\u0900-\u0963\u0966-\u0dff\u0e31-\u0e3a\u0e47-\u0e4e\u1ab0-\u1aff\u1dc0-\u1dff"
    "\u20d0-\u20ff\ufe20-\ufe2f"
)
_CJK_RE = re.compile(f"[{CJK_CLASS}]")
# Runs of either class inside the repeat (not one character per step): the same words, ~20%
# faster on news articles.
_UNICODE_TOKEN_RE = re.compile(f"[{CJK_CLASS}]|(?:[^\\W_{CJK_CLASS}]+|[{_MARKS}]+)+")
_ASCII_WORD_RE = re.compile(r"^[a-z0-9]+$")
UNICODE_TOKEN_RE = _UNICODE_TOKEN_RE
"""The `unicode` tokenizer's word pattern (before lowercasing and stemming)."""
# In a text without "_", CJK characters and the marks, the pattern's tokens are its plain `\w`
# runs, which `\w+` finds twice as fast (most news text; checking takes a twentieth of that).
_PLAIN_WORD_RE = re.compile(r"\w+")
_NOT_PLAIN_RE = re.compile(f"[_{CJK_CLASS}{_MARKS}]")


@lru_cache(maxsize=1)
def _porter() -> Callable[[str], str]:
    # Imported lazily: nltk's stem package pulls in a few modules we only need when stemming.
    from nltk.stem.porter import PorterStemmer

    return PorterStemmer().stem  # NLTK_EXTENSIONS mode, exactly what rouge-score constructs


_STEM_CACHE: dict[str, str | None] = {}


def _stem_cached(word: str) -> str | None:
    """rouge-score's per-token step: stem words longer than 3 chars, drop invalid results."""
    out = _STEM_CACHE.get(word, "")
    if out != "":
        return out
    stemmed = _porter()(word) if len(word) > 3 else word
    result = stemmed if _VALID_RE.match(stemmed) else None
    _STEM_CACHE[word] = result
    return result


def tokenize_rouge_score(text: str, use_stemmer: bool = True) -> list[str]:
    """Exactly `rouge_score.tokenize.tokenize(text, PorterStemmer() if use_stemmer else None)`.

    >>> tokenize_rouge_score("The cats were running!")
    ['the', 'cat', 'were', 'run']
    """
    words = _ALNUM_RE.findall(text.lower())
    if not use_stemmer:
        return words
    cache = _STEM_CACHE
    out = []
    for w in words:
        s = cache.get(w, "")
        if s == "":
            s = _stem_cached(w)
        if s is not None:
            out.append(s)
    return out


def tokenize_unicode(text: str, use_stemmer: bool = True) -> list[str]:
    """CJK characters one by one, other scripts as lowercased word runs; ASCII words stemmed.

    >>> tokenize_unicode("我们今天 running fast")
    ['我', '们', '今', '天', 'run', 'fast']
    """
    text = text.lower()
    plain = _NOT_PLAIN_RE.search(text) is None
    tokens = (_PLAIN_WORD_RE if plain else _UNICODE_TOKEN_RE).findall(text)
    if not use_stemmer:
        return tokens
    out = []
    for t in tokens:
        if _ASCII_WORD_RE.match(t):
            s = _stem_cached(t)
            if s is not None:
                out.append(s)
        else:
            out.append(t)
    return out


def get_tokenizer(name: str, use_stemmer: bool = True) -> Callable[[str], list[str]]:
    """Tokenizer by name (`rouge-score` or `unicode`) with stemming bound in."""
    if name == "rouge-score":
        return lambda text: tokenize_rouge_score(text, use_stemmer)
    if name == "unicode":
        return lambda text: tokenize_unicode(text, use_stemmer)
    raise ValueError(f"unknown tokenizer {name!r}; choose one of {', '.join(TOKENIZERS)}")


def cjk_share(texts: list[str], sample: int = 200) -> float:
    """Share of non-space characters that are CJK, over (a sample of) the texts."""
    chars = cjk = 0
    for text in texts[:sample]:
        stripped = "".join(text.split())
        chars += len(stripped)
        cjk += len(_CJK_RE.findall(stripped))
    return cjk / chars if chars else 0.0


def detect_tokenizer(texts: list[str]) -> str:
    """`unicode` when the texts are mostly CJK or have letters rouge-score would drop."""
    sample = texts[:200]
    if cjk_share(sample) > 0.1:
        return "unicode"
    # map(str.isalpha, ...) counts in C (a generator per character took 0.3 s on 200 articles)
    letters = sum(sum(map(str.isalpha, t)) for t in sample)
    ascii_letters = sum(sum(map(str.isalpha, t.encode("ascii", "ignore").decode())) for t in sample)
    if letters and ascii_letters / letters < 0.5:
        return "unicode"  # e.g. Cyrillic, Greek, Arabic: rouge-score would keep only digits
    return "rouge-score"


# A language code with optional region/script parts: en, zh, yue, en_XX (mBART), zh-Hans, pt_BR.
_LANG_RE = re.compile(r"^[A-Za-z]{2,3}(?:[_-][A-Za-z0-9]{2,8})*$")


def check_lang(lang: str | None) -> str | None:
    """`lang` if `tokenizer_for_lang` understands it, else a one-line ConfigError."""
    if lang in (None, "", "auto", "english", *TOKENIZERS) or _LANG_RE.match(lang or ""):
        return lang
    from summarist.errors import ConfigError

    raise ConfigError(
        f"unknown --lang '{lang}'",
        "use a language code (en, zh, ja, de, en_XX, ...), auto, rouge-score or unicode",
    )


def tokenizer_for_lang(lang: str | None, texts: list[str]) -> str:
    """The ROUGE tokenizer for `--lang`: the one place that decides, on every path.

    None/auto detects from `texts`; English (`en`, `en_XX`, `en-GB`, `english`) gets
    rouge-score's tokenizer, any other language the unicode one; a tokenizer name is kept.
    Region and script parts are ignored, so an mBART code scores like its language.

    >>> tokenizer_for_lang("en_XX", []), tokenizer_for_lang("zh_CN", []), tokenizer_for_lang("en", [])
    ('rouge-score', 'unicode', 'rouge-score')
    """
    check_lang(lang)
    if lang in (None, "", "auto"):
        return detect_tokenizer(texts)
    if lang in TOKENIZERS:
        return lang
    base = re.split(r"[_-]", lang)[0].lower()
    return "rouge-score" if base in ("en", "english") else "unicode"
