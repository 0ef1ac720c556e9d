"""One atomic checkpoint file per run: weights, optimizer, scheduler, RNG states and position.

The file is written under a temporary name, fsynced and renamed over the old one, so Ctrl-C or
`kill -9` at any moment leaves either the previous checkpoint or the new one, never a torn file.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from summarist.rundir import atomic_writer

CHECKPOINT = "checkpoint.pt"


@dataclass
class Progress:
    """Where training stands: optimizer steps done, epoch, micro-batches done in that epoch."""

    step: int = 0
    epoch: int = 0
    batch_in_epoch: int = 0
    tokens_seen: int = 0
    train_seconds: float = 0.0
    cpu_seconds: float = 0.0
    """CPU time of the training process (all threads), summed over resumed sessions."""


def rng_state() -> dict[str, Any]:
    import torch

    state = {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    import torch

    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(
    run_dir: Path, model: Any, optimizer: Any, scheduler: Any, progress: Progress, extra: dict
) -> Path:
    import torch

    path = Path(run_dir) / CHECKPOINT
    state = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "progress": asdict(progress),
        "rng": rng_state(),
        "extra": extra,
    }
    with atomic_writer(path, "wb") as fh:
        torch.save(state, fh)
    return path


def load_checkpoint(run_dir: Path) -> dict[str, Any] | None:
    """The run's checkpoint, or None when it has none. Our own file, so full unpickling is fine."""
    import torch

    path = Path(run_dir) / CHECKPOINT
    if not path.exists():
        return None
    return torch.load(path, map_location="cpu", weights_only=False)


def restore(state: dict[str, Any], model: Any, optimizer: Any, scheduler: Any) -> Progress:
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    set_rng_state(state["rng"])
    return Progress(**state["progress"])
