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


@dataclass
class EvaluateConfig:
    """`summarist evaluate`: score a predictions file, or re-score a run directory."""

    predictions: Path | None = None
    """Predictions file (jsonl or one per line), aligned with the split."""
    run_dir: Path | None = None
    """A run directory to re-score (reads its predictions.jsonl and config.yaml)."""
    data: DataConfig | None = None
    """The corpus the predictions belong to (optional when the jsonl rows carry references)."""
    split: str | None = None
    """Split to score (default: test, else validation, else the only split)."""
    output_dir: Path | None = None
    """Where to write the run directory (re-scoring: default is the run directory itself)."""
    scoring: ScoringConfig = field(default_factory=ScoringConfig)
    baselines: list[str] = field(default_factory=list)
    """Baselines to score on the same split, next to the predictions (e.g. lead-3)."""
    report: bool = True
    """Also write report.html when the reports package is available."""

    def __post_init__(self) -> None:
        if (self.predictions is None) == (self.run_dir is None):
            raise ConfigError(
                "give either --predictions FILE or a RUN_DIR to re-score",
                "e.g. summarist evaluate --predictions preds.jsonl --data D --output-dir OUT",
            )
        if self.predictions is not None and self.output_dir is None:
            raise ConfigError(
                "--output-dir is required with --predictions", "pass --output-dir OUT"
            )


@dataclass
class BaselineRunConfig:
    """`summarist baseline NAME`: run an extractive baseline on a corpus and score it."""

    name: str
    """Baseline name with its k: lead-3, lead-3-utterances(-notags), textrank-3, oracle, ..."""
    data: DataConfig
    output_dir: Path
    splits: list[str] = field(default_factory=list)
    """Splits to run on (default: test, else validation, else the only split)."""
    scoring: ScoringConfig = field(default_factory=ScoringConfig)
    seed: int = 0
    """Seed of random baselines."""
    report: bool = True

    def __post_init__(self) -> None:
        from summarist.baselines import parse_baseline_name

        parse_baseline_name(self.name)  # fail before loading any data


def _default_split(names: Sequence[str]) -> str:
    for preferred in ("test", "validation"):
        if preferred in names:
            return preferred
    if len(names) == 1:
        return names[0]
    raise ConfigError(
        f"several splits ({', '.join(names)}) and none is test or validation", "pass --split NAME"
    )


def _scoring_kwargs(s: ScoringConfig) -> dict[str, Any]:
    return {
        "multi_ref": s.multi_ref,
        "lang": s.lang,
        "bootstrap": s.bootstrap,
        "seed": s.seed,
        "confidence": s.confidence,
        "workers": s.workers,
    }


def _row_field(rows: Sequence[dict[str, Any]], key: str) -> list[Any] | None:
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
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """`score_split`, plus each named baseline scored on the same split with the same settings."""
    from summarist.baselines import run_baseline

    kw = _scoring_kwargs(scoring)
    metrics, rows = score_split(predictions, split, hit_cap=hit_cap, new_tokens=new_tokens, **kw)
    if baselines:
        metrics["baselines"] = {}
        for name in baselines:
            preds = run_baseline(name, split.texts, references=split.references, seed=seed)
            base, _ = score_split(preds, split, **kw)
            metrics["baselines"][name] = base["rouge"]
    return metrics, rows


def run_evaluate(cfg: EvaluateConfig) -> Path:
    """Score a predictions file (or re-score a run directory); returns the run directory."""
    if cfg.run_dir is not None:
        return rescore_run(cfg.run_dir, cfg.scoring, output_dir=cfg.output_dir, report=cfg.report)
    assert cfg.predictions is not None and cfg.output_dir is not None
    rows = read_predictions(cfg.predictions)
    if cfg.data is not None:
        from summarist.data.loading import load_corpus

        corpus = load_corpus(cfg.data)
        split = corpus.split(cfg.split or _default_split(corpus.names()))
    else:
        split = split_from_rows(rows, cfg.split or str(rows[0].get("split") or "test"))
    predictions = [r["prediction"] for r in rows]
    metrics, out_rows = score_with_baselines(
        predictions,
        split,
        cfg.scoring,
        cfg.baselines,
        hit_cap=_row_field(rows, "hit_cap"),
        new_tokens=_row_field(rows, "new_tokens"),
    )
    config = {
        "data": data_config_dict(cfg.data) if cfg.data else None,
        "predictions": str(cfg.predictions),
        "split": split.name,
        "scoring": dataclasses.asdict(cfg.scoring),
        "baselines": list(cfg.baselines),
    }
    out = write_run(
        cfg.output_dir,
        kind="evaluate",
        name=Path(cfg.predictions).stem,
        config=config,
        metrics_by_split={split.name: metrics},
        prediction_rows=out_rows,
    )
    maybe_write_report(out, cfg.report)
    return out


def run_baseline_eval(cfg: BaselineRunConfig) -> Path:
    """Run baseline `cfg.name` on each split, score it and write a baseline run directory."""
    from summarist.baselines import run_baseline
    from summarist.data.loading import load_corpus

    corpus = load_corpus(cfg.data)
    names = cfg.splits or [_default_split(corpus.names())]
    metrics_by_split: dict[str, Any] = {}
    all_rows: list[dict[str, Any]] = []
    for name in names:
        split = corpus.split(name)
        logger.info("baseline %s on %s (%d examples)", cfg.name, split.name, len(split))
        preds = run_baseline(cfg.name, split.texts, references=split.references, seed=cfg.seed)
        metrics, rows = score_split(preds, split, **_scoring_kwargs(cfg.scoring))
        metrics_by_split[split.name] = metrics
        all_rows.extend(rows)
    config = {
        "data": data_config_dict(cfg.data),
        "baseline": {"name": cfg.name, "seed": cfg.seed},
        "splits": list(metrics_by_split),
        "scoring": dataclasses.asdict(cfg.scoring),
    }
    out = write_run(
        cfg.output_dir,
        kind="baseline",
        name=cfg.name,
        config=config,
        metrics_by_split=metrics_by_split,
        prediction_rows=all_rows,
    )
    maybe_write_report(out, cfg.report)
    return out


# ---------------------------------------------------------------- re-scoring and comparing
def read_run_rows(run_dir: Path) -> dict[str, list[dict[str, Any]]]:
    """A run directory's predictions.jsonl rows grouped by split, in index order."""
    path = Path(run_dir) / rundir.PREDICTIONS
    if not path.is_file():
        raise DataError(
            f"{run_dir} is not a run directory (no {rundir.PREDICTIONS})",
            "pass a directory written by summarist train/evaluate/baseline",
        )
    by_split: dict[str, list[dict[str, Any]]] = {}
    for row in rundir.read_jsonl(path):
        by_split.setdefault(str(row.get("split", "test")), []).append(row)
    for rows in by_split.values():
        rows.sort(key=lambda r: r.get("index", 0))
    if not by_split:
        raise DataError(f"{path} has no predictions")
    return by_split


def _split_for_rows(run_dir: Path, name: str, rows: list[dict[str, Any]]) -> Split:
    """The rows' own references when present, else the corpus named in config.yaml."""
    if all(r.get("references") for r in rows):
        return split_from_rows(rows, name)
    config_path = Path(run_dir) / rundir.CONFIG
    data = (rundir.read_yaml(config_path) or {}).get("data") if config_path.is_file() else None
    if not data:
        raise DataError(
            f"{run_dir}: predictions have no references and config.yaml names no data",
            "score it with --predictions FILE --data D instead",
        )
    from summarist.data.loading import load_corpus

    split = load_corpus(DataConfig(**data)).split(name)
    return split.select([int(r.get("index", i)) for i, r in enumerate(rows)])


def rescore_run(
    run_dir: Path,
    scoring: ScoringConfig,
    *,
    output_dir: Path | None = None,
    report: bool = True,
) -> Path:
    """Re-score every split of a run with `scoring`; baselines listed in its metrics are re-run.

    Without `output_dir` the run's own metrics.json and predictions.jsonl are rewritten (its
    config.yaml and model are left alone); with it, a new `evaluate` run is written there.
    """
    run_dir = Path(run_dir)
    old_path = run_dir / rundir.METRICS
    old = rundir.read_json(old_path) if old_path.is_file() else {}
    metrics_by_split: dict[str, Any] = {}
    all_rows: list[dict[str, Any]] = []
    for name, rows in read_run_rows(run_dir).items():
        split = _split_for_rows(run_dir, name, rows)
        old_split = (old.get("splits") or {}).get(name) or {}
        metrics, new_rows = score_with_baselines(
            [str(r.get("prediction") or "") for r in rows],
            split,
            scoring,
            list(old_split.get("baselines") or {}),
            hit_cap=_row_field(rows, "hit_cap"),
            new_tokens=_row_field(rows, "new_tokens"),
        )
        metrics_by_split[name] = {**old_split, **metrics}
        all_rows.extend(new_rows)
    if output_dir is None:
        rundir.write_jsonl(run_dir / rundir.PREDICTIONS, all_rows)
        old.setdefault("kind", "evaluate")
        old.setdefault("name", run_dir.name)
        rundir.write_json(old_path, {**old, "splits": metrics_by_split})
        out = run_dir
    else:
        config = (
            rundir.read_yaml(run_dir / rundir.CONFIG) if (run_dir / rundir.CONFIG).is_file() else {}
        )
        out = write_run(
            output_dir,
            kind="evaluate",
            name=f"{old.get('name') or run_dir.name} (re-scored)",
            config={
                "data": (config or {}).get("data"),
                "rescored_from": str(run_dir),
                "scoring": dataclasses.asdict(scoring),
            },
            metrics_by_split=metrics_by_split,
            prediction_rows=all_rows,
        )
    maybe_write_report(out, report)
    return out


def _pick_common_split(a: dict[str, Any], b: dict[str, Any], wanted: str | None) -> str:
    common = [s for s in a if s in b]
    if wanted is not None:
        if wanted not in common:
            raise DataError(
                f"split '{wanted}' is not in both runs",
                f"common splits: {', '.join(common) or 'none'}",
            )
        return wanted
    if not common:
        raise DataError("the two runs share no split", "compare runs scored on the same data")
    return _default_split(common) if len(common) > 1 else common[0]


def compare_runs(cfg: CompareConfig) -> dict[str, Any]:
    """Paired bootstrap between two runs on the same examples (re-scored with the same settings).

    The p-value is two-sided: twice the share of resamples in which the difference has the
    opposite sign of (or equals zero unlike) the observed one, capped at 1.
    """
    rows_a, rows_b = read_run_rows(cfg.run_a), read_run_rows(cfg.run_b)
    name = _pick_common_split(rows_a, rows_b, cfg.split)
    a, b = rows_a[name], rows_b[name]
    idx_a = [r.get("index") for r in a]
    if idx_a != [r.get("index") for r in b]:
        raise DataError(
            f"runs have different examples in split '{name}' ({len(a)} vs {len(b)} rows)",
            "compare runs evaluated on the same split with the same data settings",
        )
    split_a, split_b = _split_for_rows(cfg.run_a, name, a), _split_for_rows(cfg.run_b, name, b)
    if split_a.references != split_b.references:
        raise DataError(
            f"runs have different references in split '{name}'",
            "compare runs evaluated on the same data",
        )
    kw = _scoring_kwargs(cfg.scoring)
    kw["bootstrap"] = 0
    refs = [list(r) for r in split_a.references]
    res_a = compute_rouge([str(r.get("prediction") or "") for r in a], refs, **kw)
    res_b = compute_rouge([str(r.get("prediction") or "") for r in b], refs, **kw)
    result = {
        "a": str(cfg.run_a),
        "b": str(cfg.run_b),
        "split": name,
        "n": len(a),
        "rouge_settings": {**res_a.settings(), "bootstrap": cfg.scoring.bootstrap},
        "p_value": "two-sided paired bootstrap: 2 x share of resamples where a-b flips sign",
        "rouge": compare_scores(
            res_a.fmeasure(),
            res_b.fmeasure(),
            bootstrap=cfg.scoring.bootstrap,
            confidence=cfg.scoring.confidence,
            seed=cfg.scoring.seed,
        ),
    }
    if cfg.output_dir is not None:
        rundir.write_json(Path(cfg.output_dir) / "comparison.json", result)
    return result


# ---------------------------------------------------------------- terminal output
def render_metrics(metrics: dict[str, Any]) -> Any:
    """A rich Table of a metrics.json: per split, F1 [95% CI], precision and recall."""
    from rich.table import Table

    table = Table(title=f"{metrics.get('kind', '')} {metrics.get('name', '')}".strip())
    for col in ("split", "system", "metric", "F1", "95% CI", "P", "R"):
        table.add_column(col, justify="right" if col in ("F1", "P", "R") else "left")
    for split, m in (metrics.get("splits") or {}).items():
        systems = {"this run": m.get("rouge") or {}, **(m.get("baselines") or {})}
        for system, rouge in systems.items():
            for rt, stats in rouge.items():
                f = stats["fmeasure"]
                table.add_row(
                    split,
                    system,
                    rt,
                    f"{f['mid']:.2f}",
                    f"[{f['low']:.2f}, {f['high']:.2f}]",
                    f"{stats['precision']['mid']:.2f}",
                    f"{stats['recall']['mid']:.2f}",
                )
        settings = m.get("rouge_settings") or {}
        table.caption = ", ".join(f"{k}={v}" for k, v in settings.items())
    return table


def render_comparison(result: dict[str, Any]) -> Any:
    """A rich Table of `compare_runs` output."""
    from rich.table import Table

    table = Table(
        title=f"A = {result['a']}  vs  B = {result['b']}  ({result['split']}, n={result['n']})"
    )
    for col in ("metric", "A", "B", "A-B", "95% CI", "p"):
        table.add_column(col, justify="left" if col == "metric" else "right")
    for rt, r in result["rouge"].items():
        table.add_row(
            rt,
            f"{r['a']:.2f}",
            f"{r['b']:.2f}",
            f"{r['diff']:+.2f}",
            f"[{r['low']:+.2f}, {r['high']:+.2f}]",
            f"{r['p_value']:.3f}",
        )
    table.caption = result["p_value"]
    return table
