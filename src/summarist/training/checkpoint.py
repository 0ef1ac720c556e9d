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

from summarist.errors import SummaristError
from summarist.rundir import atomic_writer

CHECKPOINT = "checkpoint.pt"
KEYS = ("model", "optimizer", "scheduler", "progress", "rng", "extra")


class CheckpointError(SummaristError):
    """A run's checkpoint cannot be read, or does not belong to the run's settings."""


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
        "model": trainable_state(model),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "progress": asdict(progress),
        "rng": rng_state(),
        "extra": extra,
    }
    with atomic_writer(path, "wb") as fh:
        torch.save(state, fh)
    return path


def trainable_state(model: Any) -> dict[str, Any]:
    """The model state a resume needs: everything but frozen weights (LoRA: the adapters and
    the modules trained in full, a few MB; full fine-tuning: the whole state dict). Frozen
    weights come back from the base model, which a resume loads again as the run did."""
    # every name of a frozen tensor, tied aliases included (T5's three embedding names)
    frozen = {n for n, p in model.named_parameters(remove_duplicate=False) if not p.requires_grad}
    return {k: v for k, v in model.state_dict().items() if k not in frozen}


def load_trainable_state(model: Any, saved: dict[str, Any]) -> None:
    """Load `trainable_state` output: every trainable tensor must be there, nothing else."""
    expected = trainable_state(model)
    missing, unexpected = sorted(set(expected) - set(saved)), sorted(set(saved) - set(expected))
    if missing or unexpected:
        first = (missing or unexpected)[0]
        raise RuntimeError(f"{'missing' if missing else 'unexpected'} key {first}")
    model.load_state_dict(saved, strict=False)


def load_checkpoint(run_dir: Path) -> dict[str, Any] | None:
    """The run's checkpoint, or None when it has none. Our own file, so full unpickling is fine.

    Raises:
        CheckpointError: the file is not a complete summarist checkpoint (damaged or foreign;
            our own writes are atomic, so never torn by an interruption).
    """
    import torch

    path = Path(run_dir) / CHECKPOINT
    if not path.exists():
        return None
    hint = f"delete it to train again from step 0 with `summarist train --config {run_dir}/config.yaml`"
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as err:  # zip, pickle and EOF errors alike: one line
        raise CheckpointError(f"{path} is unreadable ({type(err).__name__})", hint) from None
    if not isinstance(state, dict) or not set(KEYS) <= set(state):
        raise CheckpointError(f"{path} is not a summarist checkpoint", hint)
    return state


def restore(
    state: dict[str, Any],
    model: Any,
    optimizer: Any,
    scheduler: Any,
    scaler: Any = None,
    *,
    rank: int = 0,
) -> Progress:
    """Load every state the next step depends on; the RNG last, after anything that draws.

    Each rank of a multi-process run gets back its own RNG state (dropout, for one).
    """
    try:
        load_trainable_state(model, state["model"])
        optimizer.load_state_dict(state["optimizer"])
    except (RuntimeError, ValueError, KeyError) as err:
        raise CheckpointError(
            f"{CHECKPOINT} does not fit this model ({' '.join(str(err).split())[:200]})",
            "the run's model or config.yaml changed since it was written",
        ) from None
    scheduler.load_state_dict(state["scheduler"])
    if scaler is not None and "scaler" in state["extra"]:
        scaler.load_state_dict(state["extra"]["scaler"])
    set_rng_state(state["extra"].get("rng_ranks", [state["rng"]])[rank])
    return Progress(**state["progress"])


def check_world_size(state: dict[str, Any], world: int) -> None:
    """Refuse to resume on another number of processes than the checkpoint was written by.

    Raises:
        CheckpointError: the batch shares and every rank's RNG state depend on the count.
    """
    saved = int(state["extra"].get("world_size", 1))
    if saved != world:
        how = "plain `summarist train`" if saved == 1 else f"`torchrun --nproc_per_node {saved}`"
        raise CheckpointError(
            f"{CHECKPOINT} was written by {saved} process(es), this run has {world}: each "
            "rank's share of the batches and its RNG state depend on the count",
            f"resume it with {how} (or the same launcher config)",
        )


def check_settings(saved: dict[str, Any], current: dict[str, Any]) -> None:
    """Refuse to resume when a setting that shapes the training path changed since the save.

    Raises:
        CheckpointError: naming the first setting that differs.
    """
    for key in sorted(set(saved) | set(current)):
        if saved.get(key) != current.get(key):
            raise CheckpointError(
                f"{CHECKPOINT} was saved with {key}={saved.get(key)!r}, but the run's config now "
                f"has {key}={current.get(key)!r}",
                "restore config.yaml to continue, or train a new run with another --output-dir",
            )
