"""Score every system of a split in one pass over its examples: chunk by chunk, on several
processes, each source read and tokenized once.

The systems of one evaluation (the predictions, lead-3, the constant baseline, ...) share the
split's sources and references. Each chunk of examples is read once (from the memory-mapped
split); its references are tokenized once for every system's ROUGE, its baselines are run
there, and its sources are tokenized once for the diagnostics. Only per-example numbers come
back (12 floats per system and example), so scoring 100,000 news pairs holds arrays, not
texts, and the bootstrap works from them.

With a faithfulness method (`evaluation.faithfulness`), each chunk also gives the faithfulness
figures of every system (or of those named in `faithful`) and the references' own (scored as
summaries): as `FigureArrays`, plus the `detailed` system's per-example figures as JSON lines
for predictions.jsonl.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from summarist.metrics.diagnostics import concat_values, diagnostic_values
from summarist.metrics.faithfulness import FigureArrays, figure_arrays
from summarist.metrics.rouge import (
    RougeResult,
    prime_intervals,
    resolve_workers,
    rouge_tokenizer,
    score_systems_in_process,
)

CHUNK = 512
"""Examples per piece of work (a few MB of news text); a multiple of the faithfulness chunk
(`metrics.faithfulness.CHUNK`), so that its chunk-level word lists are those of one
`score_faithfulness` call on the whole split."""
REFERENCES = "references"
"""The name the references get when scored as summaries (faithfulness only)."""


@dataclass
class System:
    """One system to score: given predictions, a baseline run here, or a constant."""

    name: str
    predictions: Sequence[str] | None = None
    baseline: str | None = None
    constant: str | None = None
    seed: int = 0

    def outputs(
        self, sources: list[str], references: list[list[str]], given: Sequence[str] | None = None
    ) -> list[str]:
        if self.constant is not None:
            return [self.constant] * len(sources)
        if self.baseline is not None:
            from summarist.baselines import run_baseline

            return run_baseline(self.baseline, sources, references=references, seed=self.seed)
        assert given is not None
        return list(given)


@dataclass
class Scored:
    """Per-example ROUGE of every system, and the diagnostics' per-example values."""

    rouge: dict[str, RougeResult]
    diagnostics: dict[str, np.ndarray] | None
    faithfulness: dict[str, FigureArrays] | None = None
    """Per system (and `REFERENCES`), with a faithfulness method."""
    detailed: list[str] | None = None
    """The detailed system's per-example faithfulness (`per_example_figures`), JSON per line."""


_STATE: dict[str, Any] = {}


def _chunk_scores(
    split: Any, systems: list[System], tokenizers: dict[str, str], diagnose: str | None,
    settings: dict[str, Any], faith: tuple[Any, str | None] | None, lo: int, hi: int,
    given: dict[str, Sequence[str]],
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray] | None, Any]:  # fmt: skip
    table = split.take(np.arange(lo, hi), ["text", "references"])
    split.store.release()
    sources = table.column("text").to_pylist()
    references = table.column("references").to_pylist()
    outputs = {s.name: s.outputs(sources, references, given.get(s.name)) for s in systems}
    scores = score_systems_in_process(outputs, references, tokenizers, **settings)
    values = diagnostic_values(outputs[diagnose], sources) if diagnose else None
    return scores, values, _chunk_faithfulness(faith, sources, references, outputs)


def _chunk_faithfulness(
    faith: tuple[Any, str | None, frozenset[str] | None] | None, sources: list[str],
    references: list[list[str]], outputs: dict[str, list[str]],
) -> tuple[dict[str, FigureArrays], list[str] | None] | None:  # fmt: skip
    if faith is None:
        return None
    from summarist.metrics.faithfulness import per_example_figures, score_faithfulness

    method, detailed, faithful = faith
    chosen = {k: v for k, v in outputs.items() if faithful is None or k in faithful}
    systems = {**chosen, REFERENCES: [r[0] if r else "" for r in references]}
    records = score_faithfulness(sources, references, systems, method,
                                 no_reference=(REFERENCES,), detailed=(detailed,))  # fmt: skip
    arrays = {name: figure_arrays(recs) for name, recs in records.items()}
    rows = None
    if detailed is not None:
        rows = [json.dumps(per_example_figures(r), ensure_ascii=False) for r in records[detailed]]
    return arrays, rows


def _init(*state: Any) -> None:
    faith = state[5]
    finder = getattr(faith[0], "finder", None) if faith else None
    if finder is not None and getattr(finder, "processes", 1) > 1:
        finder.processes = 1  # a pool worker may not start processes: the pool is the parallelism
    _STATE["args"] = state


def _run(task: tuple[int, int, dict[str, Sequence[str]]]) -> Any:
    return _chunk_scores(*_STATE["args"], *task)


def score_systems(
    split: Any,
    systems: list[System],
    *,
    diagnose: str | None = None,
    multi_ref: str = "max",
    lang: str | None = None,
    bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    workers: int | None = None,
    sentence_splitter: str = "punkt",
    use_stemmer: bool = True,
    faithfulness: Any = None,
    detailed: str | None = None,
    faithful: Collection[str] | None = None,
) -> Scored:
    """ROUGE of each of `systems` on `split` (and the diagnostics of system `diagnose`).

    Each system's ROUGE tokenizer is the one `compute_rouge` would pick for it alone, and its
    per-example scores are those `compute_rouge` gives: only the work is shared. With
    `faithfulness` (a `FaithfulnessMethod`), every system's faithfulness figures and the
    references' too, the same as one `score_faithfulness` call on the split gives; the
    `detailed` system's records list what was found. `faithful` names the systems that get
    faithfulness figures (None: all; the references always do).
    """
    n = len(split)
    systems = [_sequential(s, split) for s in systems]
    head = split.take(np.arange(min(n, 100)), ["text", "references"])
    head_sources, head_refs = head.column("text").to_pylist(), head.column("references").to_pylist()
    tokenizers = {
        s.name: rouge_tokenizer(
            lang, s.outputs(head_sources, head_refs, (s.predictions or [])[:100]), head_refs
        )
        for s in systems
    }
    settings = {"use_stemmer": use_stemmer, "splitter": sentence_splitter, "multi_ref": multi_ref}
    specs = [System(s.name, None, s.baseline, s.constant, s.seed) for s in systems]
    given = {s.name: s.predictions for s in systems if s.predictions is not None}
    tasks = [
        (lo, min(lo + CHUNK, n), {k: v[lo : min(lo + CHUNK, n)] for k, v in given.items()})
        for lo in range(0, n, CHUNK)
    ]
    chosen = None if faithful is None else frozenset(faithful)
    faith = (faithfulness, detailed, chosen) if faithfulness is not None else None
    state = (split, specs, tokenizers, diagnose, settings, faith)
    parts = list(_map(tasks, state, resolve_workers(workers, n)))
    rouge = {
        s.name: RougeResult(
            scores=np.concatenate([p[0][s.name] for p in parts]) if parts else np.empty((0, 4, 3)),
            multi_ref=multi_ref,
            use_stemmer=use_stemmer,
            tokenizer=tokenizers[s.name],
            sentence_splitter=sentence_splitter,
            bootstrap=bootstrap,
            confidence=confidence,
            seed=seed,
        )
        for s in systems
    }
    prime_intervals(rouge.values())  # every system's CIs from one resampling
    values = concat_values([p[1] for p in parts]) if diagnose and parts else None
    if diagnose and values is None:
        values = diagnostic_values([], [])
    if faith is None:
        return Scored(rouge, values)
    names = [s.name for s in systems if chosen is None or s.name in chosen] + [REFERENCES]
    arrays = {k: FigureArrays.concat([p[2][0][k] for p in parts]) for k in names}
    rows = [r for p in parts for r in p[2][1]] if detailed is not None else None
    return Scored(rouge, values, arrays, rows)


def _sequential(system: System, split: Any) -> System:
    """A baseline whose output depends on the examples before (`random-k` draws from one
    seeded generator) runs here, over the whole split, and is scored as given predictions."""
    if system.baseline is None:
        return system
    from summarist.baselines import parse_baseline_name

    if parse_baseline_name(system.baseline)[0] != "random":
        return system
    outputs = system.outputs(list(split.texts), list(split.references))
    return System(system.name, outputs, seed=system.seed)


def _map(tasks: list[Any], state: tuple[Any, ...], workers: int) -> Iterator[Any]:
    if workers <= 1 or len(tasks) <= 1:
        for task in tasks:
            yield _chunk_scores(*state, *task)
        return
    import multiprocessing

    # fork is cheap (workers inherit imported nltk and the stem cache) but unsafe once torch has
    # started its thread pools (final evaluation after fine-tuning): spawn then.
    fork_ok = "torch" not in sys.modules and "fork" in multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if fork_ok else "spawn")
    with ctx.Pool(min(workers, len(tasks)), initializer=_init, initargs=state) as pool:
        yield from pool.imap(_run, tasks)
