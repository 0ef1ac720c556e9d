"""Faithfulness in a scored split: every system of the split in one call, the metrics.json block,
the predictions rows, and paired tests between two systems.

The figures themselves are `summarist.metrics.faithfulness`; this module only decides which
systems are scored together (so each source is read once for the model, lead-3, the constant
baseline and the references), and where the results go:

    metrics["faithfulness"] = {"method": {...}, "figures": {name: {low, mid, high, n}},
                               "f1_t", "counts", "pooled",
                               "baselines": {"lead-3": {...}, "constant": {...}},  # on request
                               "references": {...}}     # the references scored as summaries
    row["faithfulness"]     = {figure: value or null, "entities": [...], "numbers": [...]}
"""

from __future__ import annotations

import logging
import multiprocessing
import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from summarist.data.corpus import Split
from summarist.metrics.bootstrap import paired_bootstrap
from summarist.metrics.faithfulness import (
    FIGURES,
    FaithfulnessMethod,
    FigureArrays,
    figure_matrix,
    resolve_method,
    score_faithfulness,
    summarize_arrays,
    summarize_records,
)

logger = logging.getLogger(__name__)
# `scoring` below is a `summarist.evaluation.scoring.ScoringConfig` (not imported: scoring.py
# imports this module).

MODEL = "model"
REFERENCES = "references"
DEFINITIONS = (
    "Nan et al. 2021: prec_s = N(h∩s)/N(h), prec_t = N(h∩t)/N(h), recall_t = N(t∩h)/N(t) "
    "(h summary, s source, t reference; entities matched by their word n-grams, "
    "case-insensitive); means over the examples where a figure is defined (n), 0-100, "
    "bootstrap CIs over examples; docs/guide.md#faithfulness"
)


def method_for(scoring: Any, texts: Sequence[str]) -> FaithfulnessMethod:
    """The entity finder `scoring` asks for, on text like `texts` (a sample decides the language
    when --lang is auto)."""
    return resolve_method(
        scoring.entity_method, scoring.lang, scoring.spacy_model, scoring.entity_types,
        list(texts[:200]), processes=_processes(scoring),
    )  # fmt: skip


def _fork_ok() -> bool:
    # The rule of ROUGE's worker pool: fork only before torch has started its threads (after
    # fine-tuning, everything stays in process).
    return "torch" not in sys.modules and "fork" in multiprocessing.get_all_start_methods()


def _processes(scoring: Any) -> int:
    """`nlp.pipe` processes: --workers N when given (measured: no gain on 2 busy cores for a
    few thousand short texts, so one by default)."""
    workers = scoring.workers or 1
    return workers if workers > 1 and _fork_ok() else 1


def score_systems(
    split: Split,
    systems: Mapping[str, Sequence[str]],
    scoring: Any,
    method: FaithfulnessMethod | None = None,
    detailed: Sequence[str] | None = (MODEL,),
) -> tuple[FaithfulnessMethod, dict[str, list[dict[str, Any]]]]:
    """Records of every system on `split` in one pass (sources read once), plus the
    references themselves as the `references` system; only the `detailed` ones (None: all)
    list their entities and numbers."""
    method = method or method_for(scoring, split.texts)
    began = time.perf_counter()
    all_systems = {**systems, REFERENCES: [r[0] if r else "" for r in split.references]}
    records = score_faithfulness(split.texts, split.references, all_systems, method,
                                 detailed=detailed)  # fmt: skip
    logger.info("faithfulness on %s: %s, %d examples x %d systems in %.1fs", split.name,
                method.label(), len(split), len(all_systems), time.perf_counter() - began)  # fmt: skip
    return method, records


LOWERCASE_SHARE = 0.5
"""At least this share of lowercased summaries gets a note: entities are hard to see there."""


def lowercase_note(summaries: Sequence[str], method: FaithfulnessMethod) -> str | None:
    """A note when most summaries have letters with case but no capital (uncased models, XSum
    as distributed): the capitalised-span rule finds no entity there, NER few."""
    cased = [s for s in summaries if any(c.lower() != c.upper() for c in s)]
    lower = sum(s == s.lower() for s in cased)
    if method.entities == "none" or not cased or lower < LOWERCASE_SHARE * len(cased):
        return None
    what = "the capitalised-span rule finds no entity in them" if method.entities == "rules" \
        else "NER misses most entities in lowercased text"  # fmt: skip
    return (f"{100 * lower / len(cased):.0f}% of the summaries are all lowercase: {what}, so "
            "prec_s is undefined or optimistic there (numbers are still checked)")  # fmt: skip


def faithfulness_block(
    method: FaithfulnessMethod, records: Mapping[str, Sequence[Mapping[str, Any]]],
    scoring: Any, main: str = MODEL, summaries: Sequence[str] = (),
) -> dict[str, Any]:  # fmt: skip
    """metrics.json's `faithfulness` for the `main` system, with the others beside it
    (`summaries`: the main system's texts, for the lowercase note)."""
    kw = {"bootstrap": scoring.bootstrap, "confidence": scoring.confidence, "seed": scoring.seed}
    summarized = {name: summarize_records(recs, **kw) for name, recs in records.items()}
    return assemble_block(method, summarized, main, summaries)


def block_from_arrays(
    method: FaithfulnessMethod, arrays: Mapping[str, FigureArrays], scoring: Any,
    main: str = MODEL, summaries: Sequence[str] = (),
) -> dict[str, Any]:  # fmt: skip
    """`faithfulness_block` from each system's `FigureArrays` (records not kept: a large split
    scored chunk by chunk, `evaluation.one_pass`)."""
    kw = {"bootstrap": scoring.bootstrap, "confidence": scoring.confidence, "seed": scoring.seed}
    summarized = {name: summarize_arrays(a, **kw) for name, a in arrays.items()}
    return assemble_block(method, summarized, main, summaries)


def assemble_block(
    method: FaithfulnessMethod, summarized: Mapping[str, dict[str, Any]], main: str = MODEL,
    summaries: Sequence[str] = (),
) -> dict[str, Any]:  # fmt: skip
    """The block from each system's `summarize_records` (the references under `REFERENCES`)."""
    block: dict[str, Any] = {
        "method": {**method.describe(), "label": method.label()},
        "definitions": DEFINITIONS,
        **summarized[main],
        "baselines": {},
    }
    note = lowercase_note(summaries, method)
    if note:
        block["notes"] = [note]
        logger.warning("faithfulness: %s", note)
    for name, summary in summarized.items():
        if name == REFERENCES:
            block["references"] = summary
        elif name != main:
            block["baselines"][name] = summary
    return block


def compare_figures(
    records_a: Sequence[Mapping[str, Any]],
    records_b: Sequence[Mapping[str, Any]],
    *,
    bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> dict[str, dict[str, Any]]:
    """Paired bootstrap of a - b per figure, on the examples where both define it (n)."""
    a, b = figure_matrix(records_a), figure_matrix(records_b)
    out: dict[str, dict[str, Any]] = {}
    for j, name in enumerate(FIGURES):
        both = np.isfinite(a[:, j]) & np.isfinite(b[:, j])
        n = int(both.sum())
        if n == 0:
            out[name] = {"n": 0, "a": None, "b": None, "diff": None, "low": None, "high": None,
                         "p_value": None}  # fmt: skip
            continue
        x, y = a[both, j], b[both, j]
        res = paired_bootstrap(x, y, max(bootstrap, 1), confidence, seed)
        out[name] = {"n": n, "a": round(float(x.mean()), 4), "b": round(float(y.mean()), 4),
                     **{k: round(float(v[0]), 4) for k, v in res.items()}}  # fmt: skip
    return out


CARD_FIGURES = ("prec_s", "num_prec_s", "unsupported_entity", "novel_2", "repeated_2")
"""The faithfulness columns of a model card (every figure is in metrics.json)."""


def card_lines(metrics_by_split: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """A model card's faithfulness table (markdown lines; none when no split has the figures):
    per split this model, its baselines and the references, mean [95% CI] of `CARD_FIGURES`."""
    from summarist.metrics.faithfulness import FIGURES

    blocks = {k: m["faithfulness"] for k, m in metrics_by_split.items() if m.get("faithfulness")}
    if not blocks:
        return []
    method = next(iter(blocks.values())).get("method", {}).get("label", "?")
    lines = [
        "## Faithfulness (0-100, mean with 95% bootstrap interval)",
        "",
        f"Entity precision against the source (`prec_s`, Nan et al. 2021) and numbers the "
        f"source supports; entities found by {method}.",
        "",
        "| split | system | " + " | ".join(f"{FIGURES[f][0]} (`{f}`)" for f in CARD_FIGURES) + " |",
        "|---|---|" + "---|" * len(CARD_FIGURES),
    ]
    for split, block in blocks.items():
        systems = {"this model": block, **(block.get("baselines") or {})}
        if block.get("references"):
            systems["references"] = block["references"]
        for name, entry in systems.items():
            cells = []
            for f in CARD_FIGURES:
                c = (entry.get("figures") or {}).get(f) or {}
                cells.append("-" if c.get("mid") is None
                             else f"{c['mid']:.1f} [{c['low']:.1f}, {c['high']:.1f}]")  # fmt: skip
            lines.append(f"| {split} | {name} | " + " | ".join(cells) + " |")
    return ["", *lines]


__all__ = [
    "CARD_FIGURES",
    "DEFINITIONS",
    "LOWERCASE_SHARE",
    "MODEL",
    "REFERENCES",
    "assemble_block",
    "block_from_arrays",
    "card_lines",
    "compare_figures",
    "faithfulness_block",
    "lowercase_note",
    "method_for",
    "score_systems",
]
