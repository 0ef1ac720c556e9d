"""Batched generation and the `Summarizer` (from_pretrained → summarize).

The tutorials' loop tokenizes one text, calls `model.generate`, decodes, and repeats. Here
texts are tokenized once, sorted by length so each batch pads little, generated in batches
under `torch.inference_mode()`, and put back in input order. The same loop serves every
backend (torch, torch int8, CTranslate2).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from summarist.backends.base import Backend, structural_ids
from summarist.genconfig import GenerationSettings

log = logging.getLogger(__name__)

# Tokenizers report 1e30 when they have no limit of their own.
_NO_LIMIT = 1_000_000


def generate_batched(
    model: Any,
    tokenizer: Any,
    texts: list[str],
    settings: GenerationSettings,
    *,
    batch_size: int = 16,
    prefix: str = "",
    max_source_length: int | None = None,
    device: Any = None,
) -> tuple[list[str], list[int]]:
    """Summaries in input order and the number of generated tokens of each.

    Works for any `AutoModelForSeq2SeqLM` (T5, BART, mT5, PEGASUS, ...) and for a BERT2BERT
    `EncoderDecoderModel` (decoding starts at [CLS] and stops at [SEP] unless its config says
    otherwise). Inputs longer than `max_source_length` (default: the model's limit) are
    truncated here; `Summarizer` chunks them instead.

    >>> summaries, new_tokens = generate_batched(model, tok, texts, GenerationSettings())
    """
    from summarist.backends.torch_backend import TorchBackend

    backend = TorchBackend(model, tokenizer, device=device)
    limit = max_source_length or source_limit(model, tokenizer)
    return run_batched(
        backend, tokenizer, texts, settings, batch_size=batch_size, prefix=prefix, limit=limit
    )


def run_batched(
    backend: Backend,
    tokenizer: Any,
    texts: Sequence[str],
    settings: GenerationSettings,
    *,
    batch_size: int = 16,
    prefix: str = "",
    limit: int | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> tuple[list[str], list[int]]:
    """Encode, length-sort, batch through `backend`, decode, restore order.

    Empty (whitespace-only) texts get an empty summary and 0 tokens without reaching the model.
    `on_batch(n)` is called after each batch with its size (progress bars).
    """
    if batch_size < 1:
        from summarist.errors import ConfigError

        raise ConfigError(f"batch size must be >= 1, got {batch_size}", "--batch-size 16")
    summaries = [""] * len(texts)
    counts = [0] * len(texts)
    todo = [i for i, t in enumerate(texts) if t.strip()]
    if not todo:
        return summaries, counts
    encoded = encode(tokenizer, [prefix + texts[i] for i in todo], limit)
    # Longest first: the slowest batch runs while memory is fresh, and batches pad little.
    order = sorted(range(len(todo)), key=lambda k: -len(encoded[k]))
    framing = structural_ids(tokenizer)
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        outputs = backend.generate_ids([encoded[k] for k in chunk], settings)
        decoded = tokenizer.batch_decode(outputs, skip_special_tokens=True)
        for k, ids, text in zip(chunk, outputs, decoded, strict=True):
            summaries[todo[k]] = text.strip()
            counts[todo[k]] = sum(1 for t in ids if t not in framing)
        if on_batch is not None:
            on_batch(len(chunk))
    return summaries, counts


def encode(tokenizer: Any, texts: list[str], limit: int | None) -> list[list[int]]:
    """Token ids per text (with the tokenizer's special tokens), cut at `limit` if given."""
    kwargs: dict[str, Any] = {"truncation": True, "max_length": limit} if limit else {}
    return list(tokenizer(texts, **kwargs)["input_ids"])


def source_limit(model: Any, tokenizer: Any) -> int:
    """The most source tokens the model takes: position table size or tokenizer limit."""
    limits = []
    config = getattr(model, "config", None)
    encoder = getattr(config, "encoder", None) or config  # EncoderDecoderConfig nests it
    positions = getattr(encoder, "max_position_embeddings", None)
    if isinstance(positions, int) and positions > 0:
        limits.append(positions)
    model_max = getattr(tokenizer, "model_max_length", None)
    if isinstance(model_max, int) and 0 < model_max < _NO_LIMIT:
        limits.append(model_max)
    return min(limits) if limits else 512
