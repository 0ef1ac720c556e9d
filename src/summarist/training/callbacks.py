"""What a training run shows and records: progress bar, train_log.jsonl, offline trackers."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from summarist.errors import ConfigError
from summarist.rundir import TRAIN_LOG, append_jsonl, read_jsonl, write_jsonl

log = logging.getLogger(__name__)


class TrainLog:
    """`train_log.jsonl`: one line per log step or evaluation (see summarist.rundir)."""

    def __init__(self, run_dir: Path) -> None:
        self.path = Path(run_dir) / TRAIN_LOG

    def truncate_after(self, step: int) -> None:
        """On resume, drop lines written after the checkpoint (they will be written again)."""
        if self.path.exists():
            write_jsonl(self.path, [r for r in read_jsonl(self.path) if r.get("step", 0) <= step])

    def write(self, row: dict[str, Any]) -> None:
        append_jsonl(self.path, row)


class Trackers:
    """TensorBoard and/or MLflow, both writing under the run directory (no server, no network)."""

    def __init__(self, names: list[str], run_dir: Path, config: dict[str, Any]) -> None:
        self.writers: list[Any] = []
        self.mlflow: Any = None
        names = [n for n in names if n != "none"]
        if "tensorboard" in names:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:
                raise ConfigError(
                    "--report-to tensorboard needs the tensorboard package",
                    "pip install 'summarist[tracking]'",
                ) from None
            self.writers.append(SummaryWriter(log_dir=str(Path(run_dir) / "tensorboard")))
        if "mlflow" in names:
            try:
                import mlflow
            except ImportError:
                raise ConfigError(
                    "--report-to mlflow needs the mlflow package", "pip install mlflow"
                ) from None
            mlflow.set_tracking_uri(mlflow_uri(Path(run_dir)))
            mlflow.start_run()
            mlflow.log_params({k: str(v)[:250] for k, v in config.items() if k != "data"})
            self.mlflow = mlflow

    def log(self, step: int, scalars: dict[str, float]) -> None:
        for writer in self.writers:
            for key, value in scalars.items():
                writer.add_scalar(key, value, step)
        if self.mlflow is not None:
            self.mlflow.log_metrics(scalars, step=step)

    def close(self) -> None:
        for writer in self.writers:
            writer.close()
        if self.mlflow is not None:
            self.mlflow.end_run()


def mlflow_uri(run_dir: Path) -> str:
    """Where MLflow writes: $MLFLOW_TRACKING_URI when set, else inside the run directory.

    MLflow 3 prefers a database store (`sqlite:///.../mlflow.db`, needs SQLAlchemy, which full
    `mlflow` brings); `mlflow-skinny` has only the file store (`mlruns/`), which MLflow 3
    refuses unless MLFLOW_ALLOW_FILE_STORE is set: it still works offline, so set it for it.
    """
    import importlib.util
    import os

    if os.environ.get("MLFLOW_TRACKING_URI"):
        return os.environ["MLFLOW_TRACKING_URI"]
    if importlib.util.find_spec("sqlalchemy") and importlib.util.find_spec("alembic"):
        return f"sqlite:///{(run_dir / 'mlflow.db').resolve()}"
    os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    return (run_dir / "mlruns").resolve().as_uri()


class ProgressBar:
    """A rich progress bar with loss, last evaluation ROUGE-L and ETA."""

    def __init__(self, total: int, start: int = 0, enabled: bool = True) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.progress = Progress(
            TextColumn("train"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]}  rougeL {task.fields[rouge]}"),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            disable=not enabled,
            transient=False,
        )
        self.task = self.progress.add_task(
            "train", total=total, completed=start, loss="-", rouge="-"
        )

    def __enter__(self) -> ProgressBar:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def update(self, step: int, loss: float | None = None, rouge: float | None = None) -> None:
        fields: dict[str, Any] = {}
        if loss is not None:
            fields["loss"] = f"{loss:.3f}"
        if rouge is not None:
            fields["rouge"] = f"{rouge:.1f}"
        self.progress.update(self.task, completed=step, **fields)
