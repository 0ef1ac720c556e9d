"""The one thing a generation backend must do: source ids in, generated ids out."""

from __future__ import annotations

from typing import Protocol

from summarist.config.generation import GenerationSettings

DEFAULT_BATCH_SIZE = 16
"""Texts per batch when neither the user nor the backend (`preferred_batch_size`) chooses."""


class Backend(Protocol):
    """Generates token ids for one batch of (unpadded) source token id lists."""

    name: str
    # Optional: `stream_ids(batch, settings, *, batch_size) -> Iterator[list[int]]`, for a
    # backend that splits many sources into batches of at most `batch_size` itself and runs
    # them concurrently (CTranslate2: one replica per core); it yields each source's ids in
    # input order as they complete, and `run_batched` then hands it a whole window of sources.
    # Optional: `preferred_batch_size(settings) -> int`, the batch size `Summarizer` uses when
    # the user gives none (default: DEFAULT_BATCH_SIZE).

    def generate_ids(self, batch: list[list[int]], settings: GenerationSettings) -> list[list[int]]:
        """Generated ids per source, without the decoder start token; an early EOS included,
        then padding (or nothing) up to the batch's longest output."""
        ...


def count_new_tokens(ids: list[int], pad_id: int | None, max_new_tokens: int) -> int:
    """Generation steps of one output, for the hit-the-cap check.

    Padding is not counted, nor the end-of-sequence token that stopped a summary before the
    cap (an output shorter than the cap always ends with one). An output that used every step
    counts `max_new_tokens` even when its last step was a forced EOS: BART and PEGASUS force
    EOS at the cap, so counting text tokens alone would never reach it.
    """
    n = sum(1 for t in ids if t != pad_id)
    return n if n >= max_new_tokens else max(0, n - 1)
