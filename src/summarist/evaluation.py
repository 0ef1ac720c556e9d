"""Evaluation workflows: score a split, write an evaluate/baseline run, re-score, compare runs.

Building blocks (`score_split`, `write_run`) are used by training's final evaluation too; the
`run_*` functions are what the CLI calls (one per command). Everything follows the run-directory
contract in `summarist.rundir`.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from summarist import rundir
from summarist.data.config import DataConfig
from summarist.data.corpus import Split
from summarist.errors import ConfigError, DataError
from summarist.metrics import ROUGE_TYPES, compute_diagnostics, compute_rouge, paired_bootstrap
from summarist.metrics.rouge import MULTI_REF_RULES

logger = logging.getLogger(__name__)

ID_COLUMNS = ("id", "fname", "example_id", "doc_id", "guid")
PREDICTION_FIELDS = ("prediction", "summary", "text", "pred", "output")


@dataclass
class ScoringConfig:
    """How predictions are scored (the same for every command)."""

    multi_ref: str = "max"
    """Multi-reference rule: max (rouge-score), avg, or pooled (ROUGE-1.5.5 -f A)."""
    lang: str | None = None
    """Tokenizer language: None/auto detects (CJK → unicode), en, zh, ..."""
    bootstrap: int = 1000
    """Bootstrap resamples for the confidence intervals (0 = none)."""
    confidence: float = 0.95
    """Confidence level of the intervals."""
    seed: int = 0
    """Bootstrap seed."""
    workers: int | None = None
    """Scoring processes (None: automatic)."""

    def __post_init__(self) -> None:
        if self.multi_ref not in MULTI_REF_RULES:
            raise ConfigError(
                f"--multi-ref must be one of {', '.join(MULTI_REF_RULES)}, not '{self.multi_ref}'"
            )
        if self.bootstrap < 0:
            raise ConfigError("--bootstrap must be >= 0")
        if not 0 < self.confidence < 1:
            raise ConfigError("--confidence must be between 0 and 1, e.g. 0.95")


# ---------------------------------------------------------------- scoring one split
def example_ids(split: Split) -> list[Any] | None:
    for col in ID_COLUMNS:
        if col in split.extra:
            return list(split.extra[col])
    return None


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
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Score `predictions` against `split`'s references.

    Returns (SplitMetrics dict, predictions.jsonl rows), both per `summarist.rundir`.

    >>> from summarist.data.corpus import Split
    >>> m, rows = score_split(["a cat"], Split("test", ["a cat sat"], [["a cat"]]), bootstrap=0)
    >>> m["n"], m["rouge"]["rouge1"]["fmeasure"]["mid"], rows[0]["scores"]["rouge1"]
    (1, 100.0, 100.0)
    """
    n = len(split)
    if len(predictions) != n:
        raise DataError(
            f"{len(predictions)} predictions for {n} examples in split '{split.name}'",
            "predictions must be aligned one-to-one with the split (same order, same filters)",
        )
    if n == 0:
        raise DataError(f"split '{split.name}' has no examples to score")
    missing = [i for i, refs in enumerate(split.references) if not any(r.strip() for r in refs)]
    if missing:
        raise DataError(
            f"{len(missing)} examples of split '{split.name}' have no reference "
            f"(first: index {missing[0]})",
            "pass --summary-column NAME or drop them with --min-summary-words 1",
        )
    sources = list(split.texts) if sources is None else sources
    result = compute_rouge(
        predictions,
        [list(r) for r in split.references],
        multi_ref=multi_ref,
        lang=lang,
        bootstrap=bootstrap,
        confidence=confidence,
        seed=seed,
        workers=workers,
    )
    metrics: dict[str, Any] = {
        "n": n,
        "rouge": result.summary(),
        "rouge_settings": result.settings(),
        "diagnostics": compute_diagnostics(predictions, sources, hit_cap=hit_cap),
    }
    ids = example_ids(split)
    rows = []
    for i, scores in enumerate(result.per_example):
        row: dict[str, Any] = {"split": split.name, "index": i}
        if ids is not None:
            row["id"] = ids[i]
        row.update(
            source=sources[i],
            prediction=predictions[i],
            references=list(split.references[i]),
            scores={k: round(v, 6) for k, v in scores.items()},
        )
        if new_tokens is not None:
            row["new_tokens"] = int(new_tokens[i])
        if hit_cap is not None:
            row["hit_cap"] = bool(hit_cap[i])
        rows.append(row)
    return metrics, rows


# ---------------------------------------------------------------- run directories
def data_config_dict(cfg: DataConfig) -> dict[str, Any]:
    """DataConfig → plain YAML-safe dict (tuples become lists)."""
    out = dataclasses.asdict(cfg)
    return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}


def write_run(
    out_dir: Path,
    *,
    kind: str,
    name: str,
    config: dict[str, Any],
    metrics_by_split: dict[str, Any],
    prediction_rows: list[dict[str, Any]],
) -> Path:
    """Write config.yaml, metrics.json and predictions.jsonl (each atomically) into `out_dir`."""
    from summarist import __version__

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    full_config = {"kind": kind, "summarist_version": __version__, **config}
    rundir.write_jsonl(out_dir / rundir.PREDICTIONS, prediction_rows)
    rundir.write_json(
        out_dir / rundir.METRICS,
        {"kind": kind, "name": name, "data": config.get("data"), "splits": metrics_by_split},
    )
    rundir.write_yaml(out_dir / rundir.CONFIG, full_config)
    return out_dir


def maybe_write_report(out_dir: Path, enabled: bool = True) -> Path | None:
    """Write `out_dir/report.html` when the reports package is available; never fail the run."""
    if not enabled:
        return None
    try:
        from summarist import reports
    except ImportError:
        return None
    write_report = getattr(reports, "write_report", None)
    if write_report is None:
        return None
    try:
        return Path(write_report([Path(out_dir)], Path(out_dir) / "report.html"))
    except Exception as err:  # a report is a convenience; the metrics are already written
        logger.warning("could not write report.html: %s", err)
        return None


# ---------------------------------------------------------------- predictions files
def read_predictions(path: Path) -> list[dict[str, Any]]:
    """Rows with at least `prediction` (and `references`/`source` when the file has them).

    Accepts JSON lines (objects with a `prediction`, `summary`, `text`, `pred` or `output` field,
    or bare JSON strings) or plain text with one prediction per line.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"predictions file not found: {path}", "pass --predictions FILE")
    text = path.read_text(encoding="utf-8")
    if path.suffix in (".jsonl", ".json", ".ndjson"):
        rows = [_prediction_row(r, path, i) for i, r in enumerate(rundir.read_jsonl(path))]
    else:
        rows = [{"prediction": line} for line in text.splitlines()]
    if not rows:
        raise DataError(f"predictions file {path} has no predictions", "write one per line")
    return rows


def _prediction_row(raw: Any, path: Path, i: int) -> dict[str, Any]:
    if isinstance(raw, str):
        return {"prediction": raw}
    if not isinstance(raw, dict):
        raise DataError(f"{path} line {i + 1} is not a JSON object or string")
    for key in PREDICTION_FIELDS:
        if key in raw and isinstance(raw[key], str):
            return {**raw, "prediction": raw[key]}
    raise DataError(
        f"{path} line {i + 1} has no prediction field (keys: {', '.join(raw) or 'none'})",
        f"name the field one of {', '.join(PREDICTION_FIELDS)}",
    )


def split_from_rows(rows: Sequence[dict[str, Any]], name: str) -> Split:
    """A Split rebuilt from predictions rows that carry `references` (and maybe `source`)."""
    refs = []
    for i, row in enumerate(rows):
        r = row.get("references", row.get("reference"))
        if isinstance(r, str):
            r = [r]
        if not r:
            raise DataError(
                f"predictions row {i} has no references", "pass --data to score against a corpus"
            )
        refs.append(list(r))
    extra = {"id": [r.get("id") for r in rows]} if all("id" in r for r in rows) else {}
    return Split(name, [str(r.get("source") or "") for r in rows], refs, extra)


# ---------------------------------------------------------------- paired comparison
def compare_scores(
    a: np.ndarray, b: np.ndarray, *, bootstrap: int = 1000, confidence: float = 0.95, seed: int = 0
) -> dict[str, dict[str, float]]:
    """Paired bootstrap on per-example F1 (N, 4) of two systems; 0-100 scale."""
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


@dataclass
class CompareConfig:
    """`summarist evaluate --compare RUN_A RUN_B`."""

    run_a: Path
    run_b: Path
    split: str | None = None
    scoring: ScoringConfig = field(default_factory=ScoringConfig)
    output_dir: Path | None = None
