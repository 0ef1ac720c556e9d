"""Read run directories for the report: every file optional, nothing imported but the contract.

A report must never fail because a run lacks a piece (a baseline has no training log, an
interrupted run has no metrics yet): each missing or unreadable file is recorded in
`Run.problems` and the page shows a note in place of the section that needed it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from summarist import rundir
from summarist.errors import DataError

logger = logging.getLogger(__name__)

RUN_FILES = (rundir.CONFIG, rundir.METRICS, rundir.PREDICTIONS, rundir.TRAIN_LOG)


@dataclass
class Run:
    """What one run directory holds; a field is None when its file is missing or unreadable."""

    path: Path
    name: str
    kind: str | None = None
    config: dict[str, Any] | None = None
    metrics: dict[str, Any] | None = None
    predictions: list[dict[str, Any]] | None = None
    train_log: list[dict[str, Any]] | None = None
    problems: dict[str, str] = field(default_factory=dict)

    def note(self, filename: str) -> str:
        """Why `filename` is not available, for the note that replaces its section."""
        why = self.problems.get(filename, "not found")
        return f"{filename} {why} in {self.path}"

    def splits_with_predictions(self) -> list[str]:
        return sorted({str(r.get("split", "?")) for r in self.predictions or []}, key=split_order)

    def prediction_rows(self, split: str) -> list[dict[str, Any]]:
        return [r for r in self.predictions or [] if str(r.get("split", "?")) == split]


def split_order(split: str) -> tuple[int, str]:
    """test first (the number people quote), then validation, then the rest alphabetically."""
    rank = {"test": 0, "validation": 1, "dev": 1, "val": 1, "train": 3}
    return rank.get(split, 2), split


def load_runs(paths: list[Path]) -> list[Run]:
    """Load every run directory; names are made unique so tables can tell the runs apart."""
    if not paths:
        raise DataError("no run directory given", "pass one or more directories to report on")
    runs = [load_run(Path(p)) for p in paths]
    seen: dict[str, int] = {}
    for run in runs:
        count = seen.get(run.name, 0)
        seen[run.name] = count + 1
        if count:
            run.name = f"{run.name} #{count + 1}"
    return runs


def load_run(path: Path) -> Run:
    """Read one run directory; raise DataError only when it is not a run directory at all."""
    if path.is_file():
        raise DataError(
            f"{path} is a file, not a run directory",
            "pass a directory written by summarist train, evaluate or baseline",
        )
    if not path.is_dir():
        raise DataError(
            f"run directory not found: {path}",
            "pass a directory written by summarist train, evaluate or baseline",
        )
    if not any((path / name).exists() for name in RUN_FILES):
        raise DataError(
            f"{path} is not a run directory (none of {', '.join(RUN_FILES)})",
            "pass a directory written by summarist train, evaluate or baseline",
        )
    run = Run(path=path, name=path.resolve().name)
    run.config = _read(run, rundir.CONFIG, rundir.read_yaml, dict)
    run.metrics = _read(run, rundir.METRICS, rundir.read_json, dict)
    run.predictions = _read_rows(run, rundir.PREDICTIONS, required=("prediction",))
    run.train_log = _read_rows(run, rundir.TRAIN_LOG, required=("step",))
    if run.metrics is not None and not isinstance(run.metrics.get("splits"), dict):
        run.problems[rundir.METRICS] = "has no 'splits' table"
        run.metrics = None
    for source in (run.metrics, run.config):
        if source:
            run.name = str(source.get("name") or run.name)
            run.kind = run.kind or (str(source["kind"]) if source.get("kind") else None)
    return run


def _read(run: Run, filename: str, reader: Any, expected: type) -> Any:
    file = run.path / filename
    if not file.exists():
        run.problems[filename] = "not found"
        return None
    try:
        value = reader(file)
    except (OSError, ValueError, yaml.YAMLError) as err:  # JSON errors are ValueErrors
        logger.warning("report: cannot read %s: %s", file, err)
        run.problems[filename] = f"unreadable ({type(err).__name__})"
        return None
    if not isinstance(value, expected):
        run.problems[filename] = f"is not a {expected.__name__}"
        return None
    return value


def _read_rows(run: Run, filename: str, required: tuple[str, ...]) -> list[dict[str, Any]] | None:
    rows = _read(run, filename, rundir.read_jsonl, list)
    if rows is None:
        return None
    kept = [r for r in rows if isinstance(r, dict) and all(k in r for k in required)]
    if len(kept) < len(rows):
        logger.warning(
            "report: %s: skipped %d malformed rows", run.path / filename, len(rows) - len(kept)
        )
    if not kept:
        run.problems[filename] = "is empty"
        return None
    return kept
