"""The device/precision seam: everything the loop needs to know about hardware lives here.

One process, one device. `Runtime` moves batches, opens the autocast region and decides the
precision; a multi-GPU launcher (`accelerate launch`) would replace this object, not the loop.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from summarist.errors import ConfigError
from summarist.models.registry import Family, check_precision

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    device: Any
    precision: str
    """fp32, bf16 or fp16 (what autocast runs in)."""
    threads: int

    @classmethod
    def create(cls, precision: str, family: Family, threads: int | None) -> Runtime:
        import torch

        threads = configure_threads(threads)
        cuda = torch.cuda.is_available()
        device = torch.device("cuda" if cuda else "cpu")
        if precision == "auto":
            # bf16 where the hardware has it. On CPU, fp32: bf16 autocast gave no end-to-end
            # gain when measured on this project's CPUs (shared/NOTES.md), only rounding.
            precision = "bf16" if cuda and torch.cuda.is_bf16_supported() else "fp32"
        check_precision(precision, family)
        if precision == "fp16" and not cuda:
            raise ConfigError("fp16 needs a CUDA GPU", "use --precision bf16 or fp32 on CPU")
        log.info("device %s, precision %s, %d torch threads", device, precision, threads)
        return cls(device, precision, threads)

    @contextlib.contextmanager
    def autocast(self) -> Iterator[None]:
        import torch

        if self.precision == "fp32":
            yield
            return
        dtype = torch.bfloat16 if self.precision == "bf16" else torch.float16
        with torch.autocast(device_type=self.device.type, dtype=dtype):
            yield

    def to_device(self, batch: dict[str, Any]) -> dict[str, Any]:
        return {k: v.to(self.device) for k, v in batch.items()}


def default_threads() -> int:
    """Cores not already busy: all cores on an idle machine, fewer when others are running.

    torch spins one thread per core; when other jobs hold some cores, those threads wait on
    each other and steps got ~4x slower here (2 threads vs 1 on a busy 2-core machine).
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cores = cores or 1
    try:
        busy = int(os.getloadavg()[0] + 0.5)
    except OSError:  # no load average on this platform
        busy = 0
    return max(1, min(cores, cores - busy))


def configure_threads(threads: int | None) -> int:
    """Set torch's intra-op threads (default: `default_threads()`)."""
    import torch

    if threads is None:
        threads = default_threads()
    torch.set_num_threads(threads)
    return threads
