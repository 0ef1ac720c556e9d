"""Reading and writing scored runs: write an evaluate/baseline/train run's metrics and predictions,
read predictions files and a run's predictions back (file names and atomic writes: `summarist.rundir`)."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from summarist import rundir
from summarist.config.data import DataConfig
from summarist.data.corpus import Split
from summarist.errors import ConfigError, DataError

logger = logging.getLogger(__name__)

PREDICTION_FIELDS = ("prediction", "summary", "text", "pred", "output")


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
    prediction_rows: Iterable[dict[str, Any]],
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


def read_predictions(path: Path) -> list[dict[str, Any]]:
    """Rows with at least `prediction` (and `references`/`source` when the file has them).

    Accepts JSON lines (objects with a `prediction`, `summary`, `text`, `pred` or `output` field,
    or bare JSON strings) or plain text with one prediction per line.
    """
    from summarist.data.readers import decode_file

    path = Path(path)
    if path.is_dir():
        raise DataError(
            f"--predictions {path} is a directory",
            "pass the predictions file (.jsonl or one per line); to re-score a run: "
            "summarist evaluate RUN_DIR",
        )
    if not path.is_file():
        raise DataError(f"predictions file not found: {path}", "pass --predictions FILE")
    text = decode_file(path, "utf-8")
    if path.suffix in (".jsonl", ".json", ".ndjson"):
        rows = [_prediction_row(r, path, i) for i, r in enumerate(_json_lines(text, path))]
    else:
        rows = [{"prediction": line} for line in text.splitlines()]
    if not rows:
        raise DataError(f"predictions file {path} has no predictions", "write one per line")
    return rows


def _json_lines(text: str, path: Path) -> list[Any]:
    import json

    out = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError as err:
                raise DataError(
                    f"{path}:{lineno}: malformed JSON line ({err.msg})",
                    "fix that line, or pass plain text with one prediction per line as .txt",
                ) from None
    return out


def _prediction_row(raw: Any, path: Path, i: int) -> dict[str, Any]:
    if isinstance(raw, str):
        return {"prediction": raw}
    if not isinstance(raw, dict):
        raise DataError(
            f"{path} line {i + 1} is not a JSON object or string",
            'write one {"prediction": "..."} object or one "..." string per line',
        )
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


def default_split(names: Sequence[str]) -> str:
    for preferred in ("test", "validation"):
        if preferred in names:
            return preferred
    if len(names) == 1:
        return names[0]
    raise ConfigError(
        f"several splits ({', '.join(names)}) and none is test or validation", "pass --split NAME"
    )


def read_run_rows(run_dir: Path) -> dict[str, list[dict[str, Any]]]:
    """A run directory's predictions.jsonl rows grouped by split, in index order."""
    path = Path(run_dir) / rundir.PREDICTIONS
    if not Path(run_dir).exists():
        raise DataError(f"run directory not found: {run_dir}", "check the path")
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


def split_for_rows(run_dir: Path, name: str, rows: list[dict[str, Any]]) -> Split:
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
