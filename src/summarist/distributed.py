"""Ranks: who this process is among the ones a launcher started, and the few collectives we use.

A launcher (`torchrun`, `accelerate launch`, a cluster's `srun`) starts the same command once
per rank with RANK/WORLD_SIZE in the environment. Without one, this process is rank 0 of 1 and
every collective below is the identity, so the one-process run is the N=1 case of the same code.
The process group itself is set up by 🤗 Accelerate (`PartialState`): gloo on CPU, NCCL on GPUs.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


def launcher_name() -> str:
    """What started this process: accelerate, torchrun, env (RANK/WORLD_SIZE only) or none."""
    if any(k.startswith("ACCELERATE_") and k != "ACCELERATE_LOG_LEVEL" for k in os.environ):
        return "accelerate"
    if "TORCHELASTIC_RUN_ID" in os.environ:
        return "torchrun"
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        return "env"
    return "none"


def local_world_size() -> int:
    """Processes of this run on this machine (they share its cores)."""
    return max(1, int(os.environ.get("LOCAL_WORLD_SIZE", "1")))


def shard_bounds(n: int, rank: int, world: int) -> tuple[int, int]:
    """The contiguous slice [start, end) of `n` items that `rank` of `world` takes.

    Sizes differ by at most one, and concatenating the slices in rank order gives back the
    items in their order, so results gathered by rank need no padding and no reordering.
    """
    base, extra = divmod(n, world)
    start = rank * base + min(rank, extra)
    return start, start + base + (1 if rank < extra else 0)


@dataclass
class Ranks:
    """This process's place in the run; collectives that are no-ops for a single process."""

    rank: int = 0
    world: int = 1
    state: Any = None
    """accelerate's PartialState (None for a single process)."""

    @classmethod
    def start(cls) -> Ranks:
        """Join the launcher's process group (nothing to join without a launcher)."""
        if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
            return cls()
        import torch
        from accelerate import PartialState

        state = PartialState(cpu=not torch.cuda.is_available())
        return cls(state.process_index, state.num_processes, state)

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def barrier(self) -> None:
        if self.world > 1:
            self.state.wait_for_everyone()

    def gather(self, items: Sequence[Any]) -> list[Any]:
        """Every rank's `items`, concatenated in rank order, on every rank."""
        if self.world == 1:
            return list(items)
        import torch.distributed as dist

        parts: list[Any] = [None] * self.world
        dist.all_gather_object(parts, list(items))
        return [x for part in parts for x in part]

    def any(self, flag: bool) -> bool:
        """True on every rank when it is true on any (agreeing to stop together)."""
        return bool(self.sum([float(flag)])[0] > 0)

    def sum(self, values: Sequence[float], device: Any = None) -> list[float]:
        """Element-wise sum over ranks (float64, so token counts stay exact)."""
        if self.world == 1:
            return [float(v) for v in values]
        import torch
        import torch.distributed as dist

        tensor = torch.tensor(list(values), dtype=torch.float64, device=device or self.state.device)
        dist.all_reduce(tensor)
        return [float(v) for v in tensor.cpu()]
