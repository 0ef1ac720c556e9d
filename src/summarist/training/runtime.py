"""The device/precision/ranks seam: everything the loop needs to know about hardware lives here.

`Runtime` wraps 🤗 Accelerate's `Accelerator`. Without a launcher it is one process on one
device; under `torchrun` or `accelerate launch` the same object places the model on this rank's
device, wraps it for DDP (or FSDP / DeepSpeed from an Accelerate config), synchronises gradients
once per optimizer step and runs the collectives the loop needs to agree across ranks. The loop
never calls torch.distributed or moves tensors itself.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from summarist.distributed import Ranks, launcher_name, local_world_size
from summarist.errors import ConfigError
from summarist.models.registry import Family, check_precision

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    device: Any
    precision: str
    """fp32, bf16 or fp16 (what autocast runs in)."""
    threads: int
    accelerator: Any = None
    launcher: str = "none"
    ranks: Ranks = field(default_factory=Ranks)
    scaler: Any = None

    @classmethod
    def create(cls, precision: str, threads: int | None) -> Runtime:
        """Start (or join) the run's processes; `precision` auto picks per hardware."""
        import torch
        from accelerate import Accelerator
        from accelerate.utils import DistributedDataParallelKwargs

        cuda = torch.cuda.is_available()
        if precision == "auto":
            # An Accelerate config's mixed_precision reaches us as this variable.
            launched = os.environ.get("ACCELERATE_MIXED_PRECISION", "no")
            precision = launched if launched in ("bf16", "fp16") else auto_precision(cuda)
        # DDP and one device: autocast here, as before Accelerate (prepare() would wrap forward
        # in autocast for good, and generation would inherit it). FSDP and DeepSpeed cast the
        # weights themselves and must be told the precision.
        handed_over = sharded_strategy() is not None
        accelerator = Accelerator(
            cpu=not cuda,
            mixed_precision=_accelerate_name(precision) if handed_over else "no",
            # BERT2BERT's encoder keeps BertModel's pooler, which the loss never reaches.
            kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=True)],
        )
        ranks = Ranks(accelerator.process_index, accelerator.num_processes, accelerator.state)
        quiet = logging.getLogger("summarist").getEffectiveLevel() > logging.DEBUG
        if not accelerator.is_main_process and quiet:
            # One voice per run: the other ranks say only what goes wrong (--debug: all speak).
            logging.getLogger("summarist").setLevel(logging.ERROR)
        threads = configure_threads(threads)
        fp16 = precision == "fp16" and cuda and not handed_over
        scaler = torch.amp.GradScaler() if fp16 else None
        return cls(accelerator.device, precision, threads, accelerator, launcher_name(), ranks,
                   scaler)  # fmt: skip

    def check(self, family: Family) -> None:
        """Refuse a precision the model family or the device cannot train in, then say what runs."""
        check_precision(self.precision, family)
        if self.precision == "fp16" and self.device.type != "cuda":
            raise ConfigError("fp16 needs a CUDA GPU", "use --precision bf16 or fp32 on CPU")
        log.info("device %s, precision %s, %d torch threads", self.device, self.precision,
                 self.threads)  # fmt: skip
        if self.world > 1:
            log.info("%d processes (%s, launcher %s)", self.world, self.strategy, self.launcher)

    # ------------------------------------------------------------------ who and where

    @property
    def world(self) -> int:
        return self.ranks.world

    @property
    def rank(self) -> int:
        return self.ranks.rank

    @property
    def is_main(self) -> bool:
        return self.ranks.is_main

    @property
    def strategy(self) -> str:
        """NO, MULTI_CPU, MULTI_GPU (DDP), FSDP or DEEPSPEED."""
        return self.accelerator.distributed_type.value if self.accelerator else "NO"

    @property
    def sharded(self) -> bool:
        """Weights or optimizer state split over ranks (FSDP, DeepSpeed)."""
        return self.strategy in ("FSDP", "DEEPSPEED")

    @property
    def synced_generate(self) -> bool:
        """ZeRO-3 (and FSDP) gather each layer's weights from every rank at each forward, so
        all ranks must keep calling generate until the slowest is done (`synced_gpus=True`)."""
        if self.world == 1:
            return False
        if self.strategy == "FSDP":
            return True
        plugin = getattr(self.accelerator.state, "deepspeed_plugin", None)
        return bool(plugin is not None and plugin.zero_stage == 3)

    def describe(self) -> dict[str, Any]:
        """For config.yaml: how the run was launched."""
        return {"world_size": self.world, "launcher": self.launcher, "strategy": self.strategy}

    # ------------------------------------------------------------------ model and steps

    def prepare(self, model: Any, optimizer: Any, batch_size: int) -> tuple[Any, Any]:
        """Place and wrap the model (DDP/FSDP/DeepSpeed); FSDP and DeepSpeed own the optimizer.

        `batch_size` (per rank) is what DeepSpeed's config calls the micro batch: Accelerate
        reads it from a prepared DataLoader, and the loop batches without one.
        """
        if self.strategy == "DEEPSPEED":
            ds = self.accelerator.state.deepspeed_plugin.deepspeed_config
            if ds.get("train_micro_batch_size_per_gpu") in (None, "auto"):
                ds["train_micro_batch_size_per_gpu"] = batch_size
        if self.sharded:
            return self.accelerator.prepare(model, optimizer)
        return self.accelerator.prepare_model(model), optimizer

    def unwrap(self, model: Any) -> Any:
        return self.accelerator.unwrap_model(model) if self.accelerator else model

    @contextlib.contextmanager
    def autocast(self) -> Iterator[None]:
        import torch

        if self.precision == "fp32" or self.sharded:
            yield
            return
        dtype = torch.bfloat16 if self.precision == "bf16" else torch.float16
        with torch.autocast(device_type=self.device.type, dtype=dtype):
            yield

    @contextlib.contextmanager
    def accumulating(self, model: Any, last: bool) -> Iterator[None]:
        """Backward passes before the step's last one keep gradients local (no all-reduce)."""
        if self.accelerator is None:
            yield
            return
        self.accelerator.sync_gradients = last  # DeepSpeed steps only at the boundary
        if last:
            yield
            return
        with self.accelerator.no_sync(model):
            yield

    def backward(self, loss: Any) -> None:
        if self.strategy == "DEEPSPEED":
            self.accelerator.backward(loss)
        elif self.scaler is not None:
            self.scaler.scale(loss).backward()
        else:
            loss.backward()

    def clip(self, model: Any, optimizer: Any, max_norm: float) -> float | None:
        """Unscale (fp16) and clip to `max_norm`; the norm, None where DeepSpeed clips itself."""
        if self.strategy == "DEEPSPEED":  # the engine clipped and stepped in backward()
            return None
        if self.scaler is not None:
            self.scaler.unscale_(optimizer)
        return float(self.accelerator.clip_grad_norm_(model.parameters(), max_norm))

    def step(self, optimizer: Any) -> None:
        if self.strategy == "DEEPSPEED":
            pass
        elif self.scaler is not None:
            self.scaler.step(optimizer)
            self.scaler.update()
        else:
            optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    def scaler_state(self) -> dict[str, Any]:
        return self.scaler.state_dict() if self.scaler is not None else {}

    def model_state(self, model: Any) -> dict[str, Any]:
        """The full state dict (a collective under FSDP and ZeRO-3: every rank calls it)."""
        return self.accelerator.get_state_dict(model)

    def to_device(self, batch: dict[str, Any]) -> dict[str, Any]:
        return {k: v.to(self.device) for k, v in batch.items()}

    # ------------------------------------------------------------------ agreeing

    def sum(self, values: list[float]) -> list[float]:
        return self.ranks.sum(values, self.device)

    def any(self, flag: bool) -> bool:
        return self.ranks.any(flag) if self.world > 1 else flag

    def gather(self, items: list[Any]) -> list[Any]:
        return self.ranks.gather(items)

    def barrier(self) -> None:
        self.ranks.barrier()

    def main_process_first(self) -> Any:
        if self.accelerator is None:
            return contextlib.nullcontext()
        return self.accelerator.main_process_first()


def sharded_strategy() -> str | None:
    """FSDP or DEEPSPEED when an Accelerate config asked for it, before Accelerate starts."""
    for name in ("FSDP", "DEEPSPEED"):
        if os.environ.get(f"ACCELERATE_USE_{name}", "false").lower() == "true":
            return name
    return None


def _accelerate_name(precision: str) -> str:
    return {"fp32": "no"}.get(precision, precision)


def auto_precision(cuda: bool) -> str:
    """bf16 where the hardware computes it natively, else fp32.

    GPUs: bf16 when supported (Ampere and later). CPUs: bf16 autocast only with native bf16
    (AVX512-BF16/AMX): measured here on the MiniLM warm start, 20 steps, 1 thread, it gave 1.28x
    the real tokens per CPU-second of fp32 with the same loss curve (mean 6.381 vs 6.380).
    Without it bf16 is emulated and slower, so fp32.
    """
    import torch

    from summarist.hardware import cpu_has_native_bf16

    if cuda:
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    return "bf16" if cpu_has_native_bf16() else "fp32"


THREADS_ENV = "SUMMARIST_THREADS"
"""Environment variable: torch threads per process when --threads (or `threads:`) is unset."""


def default_threads() -> int:
    """Threads per process when --threads is unset: SUMMARIST_THREADS if set, else every core
    of this process's CPU set (`os.sched_getaffinity`) shared out between this machine's ranks.

    No load-average heuristic: one run's speed must not depend on what ran a minute before it
    (right after a pip install the 1-minute load made an idle 2-core machine train on 1 thread).
    On a machine shared with other jobs, pin the count with --threads or SUMMARIST_THREADS.
    """
    env = os.environ.get(THREADS_ENV)
    if env is not None and env.strip():
        return threads_from_env(env)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, (cores or 1) // local_world_size())


def threads_from_env(value: str) -> int:
    """SUMMARIST_THREADS as a whole number >= 1; anything else is a one-line ConfigError."""
    try:
        threads = int(value.strip())
    except ValueError:
        threads = 0
    if threads < 1:
        raise ConfigError(
            f"{THREADS_ENV}={value!r} is not a whole number >= 1",
            f"set e.g. {THREADS_ENV}=2, or unset it to use every core",
        )
    return threads


def configure_threads(threads: int | None) -> int:
    """Set torch's intra-op threads (default: `default_threads()`)."""
    import torch

    if threads is None:
        threads = default_threads()
    torch.set_num_threads(threads)
    return threads
