"""Run a function over a split chunk by chunk, on every core, results in order.

Workers are forked where the platform can (as torch's DataLoader does: they only tokenize, never
touch torch, so its threads in the parent do not matter) and spawned elsewhere; either way they
get the function once, when they start (a tokenizer travels once per worker, not per chunk). Each worker maps
the cached Arrow table itself and reads only its chunks' rows; nothing but the results travels
back. Small splits run in this process: starting a worker costs more than it saves.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

CHUNK_ROWS = 1000
MIN_ROWS_PER_WORKER = 4000
"""Below this many rows per worker, one process does the work."""

_STATE: dict[str, Any] = {}


def available_cores() -> int:
    """Cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def worker_count(n_rows: int, workers: int | None) -> int:
    """Processes for `n_rows`: `workers` (default every core), fewer for small inputs."""
    wanted = available_cores() if workers is None else workers
    return max(1, min(wanted, n_rows // MIN_ROWS_PER_WORKER))


def _init(split: Any, columns: Sequence[str], fn: Callable[[Any], Any]) -> None:
    os.environ["TOKENIZERS_PARALLELISM"] = "false"  # one thread per worker: the workers are it
    _STATE.update(split=split, columns=list(columns), fn=fn)


def _run(bounds: tuple[int, int]) -> Any:
    split = _STATE["split"]
    table = split.take(np.arange(*bounds), _STATE["columns"])
    split.store.release()
    return _STATE["fn"](table)


def map_split(
    split: Any,
    columns: Sequence[str],
    fn: Callable[[Any], Any],
    *,
    workers: int | None = None,
    chunk: int = CHUNK_ROWS,
) -> Iterator[Any]:
    """`fn(table)` for each chunk of `chunk` rows of `split` (with `columns`), in order."""
    n = len(split)
    bounds = [(lo, min(lo + chunk, n)) for lo in range(0, n, chunk)]
    procs = worker_count(n, workers)
    if procs == 1:
        for lo, table in split.batches(columns, chunk):
            del lo
            yield fn(table)
        return
    import multiprocessing

    log.debug("%d worker processes over %d rows", procs, n)
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    ctx = multiprocessing.get_context(method)
    with ctx.Pool(procs, initializer=_init, initargs=(split, columns, fn)) as pool:
        yield from pool.imap(_run, bounds)
