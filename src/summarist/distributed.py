"""Ranks: who this process is among the ones a launcher started, and the few collectives we use.

A launcher (`torchrun`, `accelerate launch`, a cluster's `srun`) starts the same command once
per rank with RANK/WORLD_SIZE in the environment. Without one, this process is rank 0 of 1 and
every collective below is the identity, so the one-process run is the N=1 case of the same code.
The process group itself is set up by 🤗 Accelerate (`PartialState`): gloo on CPU, NCCL on GPUs.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def launcher_name() -> str:
    """What started this process: accelerate, torchrun, env (RANK/WORLD_SIZE only) or none."""
    if any(k.startswith("ACCELERATE_") and k != "ACCELERATE_LOG_LEVEL" for k in os.environ):
        return "accelerate"
    if "TORCHELASTIC_RUN_ID" in os.environ:
        return "torchrun"
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        return "env"
    return "none"


def is_main_rank() -> bool:
    """Rank 0 of a launcher, or a process started without one."""
    return int(os.environ.get("RANK", "0")) == 0


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

    def gpu(self) -> str | None:
        """This rank's GPU (`cuda:LOCAL_RANK`) under a launcher on a GPU machine, else None."""
        device = getattr(self.state, "device", None)
        return str(device) if device is not None and device.type == "cuda" else None

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


# ------------------------------------------------------------------ sharded batch work


def fingerprint(*parts: Any) -> str:
    """A short key of everything a shard's content depends on (inputs, model, settings)."""
    import hashlib
    import json

    blob = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:12]


def map_in_shards(
    n: int,
    compute: Any,
    parts: Path,
    key: str,
    ranks: Ranks,
    shard_size: int = 256,
) -> list[dict[str, Any]]:
    """Rows for items 0..n-1, computed shard by shard over the ranks; all rows, in order.

    `compute(start, end)` returns one JSON-able row per item of [start, end). Shard `i` (items
    [i*shard_size, (i+1)*shard_size)) belongs to rank `i % world` and is written atomically to
    `parts/KEY-i.jsonl` when done, so a run killed part-way keeps its finished shards and a
    re-run with the same key (same inputs and settings) computes only the missing ones, with any
    number of ranks. `parts` must be a folder every rank sees (one machine, or a shared disk).
    """
    from summarist.rundir import read_jsonl, write_jsonl

    shards = [(i, s, min(s + shard_size, n)) for i, s in enumerate(range(0, n, shard_size))]
    if ranks.is_main:
        parts.mkdir(parents=True, exist_ok=True)
    ranks.barrier()
    done = [i for i, s, e in shards if _complete(parts / f"{key}-{i:05d}.jsonl", e - s)]
    if done:
        log.info("%d of %d shards already done (kept from an earlier run)", len(done), len(shards))
    written = 0
    for i, start, end in shards[ranks.rank :: ranks.world]:
        if i in done:
            continue
        write_jsonl(parts / f"{key}-{i:05d}.jsonl", compute(start, end))
        written += 1
        _debug_kill_after(ranks.rank, written)
    ranks.barrier()  # every shard is on disk
    rows = [row for i, _, _ in shards for row in read_jsonl(parts / f"{key}-{i:05d}.jsonl")]
    ranks.barrier()  # every rank has read them: the main one may now remove them
    return rows


def remove_shards(parts: Path, ranks: Ranks) -> None:
    """Delete the shard folder once the merged output is safely written."""
    import shutil

    if ranks.is_main:
        shutil.rmtree(parts, ignore_errors=True)


def _complete(path: Path, rows: int) -> bool:
    if not path.is_file():
        return False
    with open(path, encoding="utf-8") as fh:
        return sum(1 for _ in fh) == rows  # writes are atomic: a file is whole or absent


def _debug_kill_after(rank: int, shards: int) -> None:
    """Tests kill one rank (`kill -9`) after it wrote some shards:
    SUMMARIST_TEST_KILL_AFTER_SHARDS=RANK:COUNT."""
    at = os.environ.get("SUMMARIST_TEST_KILL_AFTER_SHARDS")
    if at and at == f"{rank}:{shards}":
        import signal

        os.kill(os.getpid(), signal.SIGKILL)
