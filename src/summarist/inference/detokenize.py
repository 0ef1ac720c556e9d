"""Readable text from uncased WordPiece models: restore what the vocabulary lost where it safely can.

An uncased BERT vocabulary (the packaged MiniLM behind the offline default `minilm-bart`)
lowercases, strips accents and splits every punctuation mark into its own token, so decoded
summaries read `# person1 # ' s mother - in - law arrives at 5. 30 p. m. tomorrow.` This module
turns that into `#Person1#'s mother-in-law arrives at 5.30 p.m. tomorrow.`:

- speaker tags (`# person1 #`, `#person1#`) take the casing of the source (`#Person1#`);
- contractions and possessives are rejoined (`aren ' t` → `aren't`, `parents ' car` → `parents' car`);
- hyphenated words (`well - known`), numbers (`5. 30`, `3, 000`, `50 %`, `$ 5`), initialisms
  (`p. m.`, `u. s.`) and spacing around brackets, quotes and `;:` are put back together;
- `i` → `I`, titles (`mr.` → `Mr.`) and sentence starts are capitalised;
- a word whose every occurrence in the source has one spelling that is not plain lowercase
  (`Tom`, `IKEA`, `José`), seen at least once mid-sentence, gets that spelling back.

ROUGE is unaffected by construction for the rouge-score tokenizer (it lowercases and splits on
non-alphanumerics, so `aren't` and `aren ' t` are the same tokens); sentence splitting for
ROUGE-Lsum may change (see docs/benchmarks.md for the paired measurement on DialogSum).

Cased models and other vocabularies never pass through here (`needs_detokenizer`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Any

_WS = re.compile(r"\s+")
_TAG = re.compile(r"#\s?([A-Za-z0-9_]+)\s?#")
_SOURCE_TAG = re.compile(r"#[A-Za-z0-9_]+#")
_CONTRACTION = re.compile(r"(?<=[\w#]) ?' ?(s|m|t|d|ll|re|ve|clock)\b")
_PLURAL_POSSESSIVE = re.compile(r"(?<=\ws) ' (?=\w)")
_HYPHEN = re.compile(r"(?<=\w) - (?=\w)")
_DECIMAL = re.compile(r"(?<=\d)\. (?=\d)")
_THOUSANDS = re.compile(r"(?<=\d), (?=\d{3}\b)")
_CLOCK = re.compile(r"(?<=\d) : (?=\d)")
_INITIALISM = re.compile(r"\b([a-z])\. (?=[a-z]\.)")
_SPACE_BEFORE = re.compile(r" ([.,!?;:%)\]}])")
_SPACE_AFTER = re.compile(r"([(\[{$]) ")
_CJK = re.compile(
    r"(?<=[\u3000-\u30ff\u4e00-\u9fff\uff00-\uffef]) (?=[\u3000-\u30ff\u4e00-\u9fff\uff00-\uffef])"
)
_PRONOUN_I = re.compile(r"\bi\b(?!\.e\.)")
_TITLE_BEFORE = re.compile(r"\b(?:Mr|Mrs|Ms|Dr|Miss|St)\.\s*$", re.IGNORECASE)
_TITLES = re.compile(r"\b(mr|mrs|ms|dr)\.")
_CONTRACTION_ENDINGS = frozenset({"s", "m", "t", "d", "ll", "re", "ve"})
_WORD = re.compile(r"[^\W\d_][\w]*")
# After these a full stop does not end the sentence (lowercase, as decoded).
_NO_SENTENCE_END = ("mr.", "mrs.", "ms.", "dr.", "miss.", "st.", "vs.")
_INITIALISMS = re.compile(r"\b(?:[a-z]\.){2,}")
_INITIALISM_END = re.compile(r"\b(?:[a-z]\.){2,}$", re.IGNORECASE)
_SENTENCE_START = re.compile(r"(^|[.!?]\s+)([a-z])")


def needs_detokenizer(tokenizer: Any) -> bool:
    """True for an uncased WordPiece tokenizer (BERT-style): the only kind this module repairs.

    Uncased is tested, not read from a flag: the tokenizer gives the same tokens for a
    capitalised and a lowercase phrase. WordPiece is the backend model (or the `##` prefix).
    """
    backend = getattr(tokenizer, "backend_tokenizer", None)
    model = type(getattr(backend, "model", None)).__name__
    wordpiece = model == "WordPiece" or hasattr(tokenizer, "wordpiece_tokenizer")
    if not wordpiece:
        return False
    try:
        return bool(tokenizer.tokenize("Hello World") == tokenizer.tokenize("hello world"))
    except Exception:  # pragma: no cover - a tokenizer that cannot tokenize is not ours to fix
        return False


def detokenizer_for(tokenizer: Any) -> Callable[[str, str], str] | None:
    """`detokenize` for tokenizers that need it, else None (cased models stay untouched)."""
    return detokenize if needs_detokenizer(tokenizer) else None


def detokenize(text: str, source: str = "") -> str:
    """`text` decoded from an uncased WordPiece model, made readable; `source` lends casing.

    >>> detokenize("# person1 # ' s well - known friend tom arrives at 5. 30 p. m. i think.",
    ...            "#Person1#: Is Tom coming?")
    "#Person1#'s well-known friend Tom arrives at 5.30 p.m. I think."
    """
    text = _WS.sub(" ", text).strip()
    if not text:
        return text
    text = _restore_tags(text, source)
    text = _CONTRACTION.sub(r"'\1", text)
    text = _PLURAL_POSSESSIVE.sub("' ", text)
    text = _HYPHEN.sub("-", text)
    text = _DECIMAL.sub(".", text)
    text = _THOUSANDS.sub(",", text)
    text = _CLOCK.sub(":", text)
    text = _INITIALISM.sub(r"\1.", text)
    text = _SPACE_BEFORE.sub(r"\1", text)
    text = _SPACE_AFTER.sub(r"\1", text)
    text = _CJK.sub("", text)
    text = _join_quotes(text)
    text = _restore_source_casing(text, source)
    text = _restore_initialisms(text, source)
    text = _PRONOUN_I.sub("I", text)
    text = _TITLES.sub(lambda m: m.group(1).capitalize() + ".", text)
    return _capitalize_sentences(text)


def _restore_tags(text: str, source: str) -> str:
    """`# person1 #` / `#person1#` → the source's `#Person1#`; unknown tags are only joined."""
    tags = {t[1:-1].lower(): t for t in _SOURCE_TAG.findall(source)}

    def one(m: re.Match[str]) -> str:
        return tags.get(m.group(1).lower(), f"#{m.group(1)}#")

    return _TAG.sub(one, text)


def _join_quotes(text: str) -> str:
    """`" quoted "` → `"quoted"` when the double quotes pair up; otherwise left as they are."""
    parts = text.split('"')
    if len(parts) < 3 or len(parts) % 2 == 0:
        return text
    out = parts[0]
    for k, part in enumerate(parts[1:], start=1):
        if k % 2:  # inside a quotation
            out += '"' + part.strip()
        else:
            out += '"' + part
    return out


def _fold(word: str) -> str:
    """The form an uncased vocabulary leaves: lowercase, accents stripped."""
    decomposed = unicodedata.normalize("NFD", word.lower())
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")


def _source_spellings(source: str) -> dict[str, str]:
    """Folded word → its one spelling in `source`, for words worth restoring.

    Kept: a word spelled one way throughout that differs from its folded form and, when it has
    capitals, is seen at least once mid-sentence (so a capital that only marks a sentence start
    is not taken for a name). Never single letters (`Plan A` must not turn `a` into `A`) nor
    contraction endings (DialogSum's sources write `I ' Ve`).
    """
    spellings: dict[str, set[str]] = {}
    mid_sentence: set[str] = set()
    for m in _WORD.finditer(source):
        word = m.group(0)
        key = _fold(word)
        if len(key) < 2 or key in _CONTRACTION_ENDINGS:
            continue
        spellings.setdefault(key, set()).add(word)
        if not _starts_sentence(source, m.start()):
            mid_sentence.add(word)
    keep = {}
    for key, forms in spellings.items():
        if len(forms) != 1:
            continue
        (form,) = forms
        if form == key or (form != form.lower() and form not in mid_sentence):
            continue
        keep[key] = form
    return keep


def _char_before(text: str, end: int) -> str:
    """The last non-space character before `end` ("" at the start); linear in the gap only."""
    k = end - 1
    while k >= 0 and text[k].isspace():
        k -= 1
    return text[k] if k >= 0 else ""


def _starts_sentence(text: str, start: int) -> bool:
    """Whether the word at `start` may be capitalised only for opening a sentence or turn."""
    before = _char_before(text, start)
    if before == "." and _TITLE_BEFORE.search(text, max(0, start - 8), start):
        return False  # `Mr. White`: a name, not a sentence start
    return before == "" or before in ".!?:;\"#'"


def _restore_source_casing(text: str, source: str) -> str:
    spellings = _source_spellings(source) if source else {}
    if not spellings:
        return text
    return _WORD.sub(lambda m: spellings.get(m.group(0), m.group(0)), text)


def _restore_initialisms(text: str, source: str) -> str:
    """`l.a.` → `L.A.` where the source writes it so (a.m., p.m., e.g. stay lowercase)."""

    def one(m: re.Match[str]) -> str:
        upper = m.group(0).upper()
        return upper if upper in source else m.group(0)

    return _INITIALISMS.sub(one, text)


def _capitalize_sentences(text: str) -> str:
    def one(m: re.Match[str]) -> str:
        before = text[: m.start(2)].rstrip().lower()
        if m.group(1) and (before.endswith(_NO_SENTENCE_END) or _INITIALISM_END.search(before)):
            return m.group(0)
        return m.group(1) + m.group(2).upper()

    return _SENTENCE_START.sub(one, text)
