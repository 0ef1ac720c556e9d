"""Batched generation: tokenize once, sort by length, batch through a backend, restore order.

The tutorials' loop tokenizes one text, calls `model.generate`, decodes, and repeats. Here
texts are tokenized once, sorted by length so each batch pads little, generated in batches
under `torch.inference_mode()`, and put back in input order. The same loop serves every
backend (torch fp32/bf16/int8, CTranslate2).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from summarist.config.generation import GenerationSettings
from summarist.inference.backends.base import DEFAULT_BATCH_SIZE, Backend, count_new_tokens
from summarist.inference.detokenize import detokenizer_for

# Texts handed at once to a backend that streams its results (CTranslate2): many batches per
# call keep every replica busy to the end of the call (one call per 32 texts left one idle
# while the other finished: +10% summaries/s for bart-base int8 here), and results still arrive
# batch by batch for the progress bar.
STREAM_WINDOW = 256


def default_batch_size(backend: Backend, settings: GenerationSettings) -> int:
    """Texts per batch when the user did not say: the backend's preference, else 16."""
    preferred = getattr(backend, "preferred_batch_size", None)
    return int(preferred(settings)) if preferred is not None else DEFAULT_BATCH_SIZE


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
    synced_gpus: bool = False,
    prompt: Any = None,
) -> tuple[list[str], list[int]]:
    """Summaries in input order and the number of generated tokens of each.

    A decoder-only model takes `prompt` (its `models.prompt.PromptBuilder`) instead of `prefix`.

    Works for any `AutoModelForSeq2SeqLM` (T5, BART, mT5, PEGASUS, ...) and for a BERT2BERT
    `EncoderDecoderModel` (decoding starts at [CLS] and stops at [SEP] unless its config says
    otherwise). Inputs longer than `max_source_length` (default: the model's limit) are
    truncated here; `Summarizer` chunks them instead.

    >>> summaries, new_tokens = generate_batched(model, tok, texts, GenerationSettings())
    """
    from summarist.inference.backends.torch_backend import TorchBackend
    from summarist.models.registry import source_limit

    was_training = model.training  # evaluation during training: hand the model back as found
    backend = TorchBackend(model, tokenizer, device=device, synced_gpus=synced_gpus)
    limit = max_source_length or source_limit(model, tokenizer)
    try:
        return run_batched(
            backend, tokenizer, texts, settings, batch_size=batch_size, prefix=prefix,
            limit=limit, prompt=prompt,
        )  # fmt: skip
    finally:
        model.train(was_training)


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
    prompt: Any = None,
) -> tuple[list[str], list[int]]:
    """Encode, length-sort, batch through `backend`, decode, restore order.

    With `prompt` (a decoder-only model's `PromptBuilder`) each text becomes its prompt, cut
    in the text only to fit `limit`; the backend returns the new tokens alone, up to the stop
    token, which is not counted (as EOS is not for seq2seq).

    Empty (whitespace-only) texts get an empty summary and 0 tokens without reaching the model.
    Summaries of uncased WordPiece models are detokenized (`summarist.inference.detokenize`).
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
    if prompt is not None:
        encoded = prompt.encode([texts[i] for i in todo], limit)
    else:
        encoded = encode(tokenizer, [prefix + texts[i] for i in todo], limit)
    # Longest first: the slowest batch runs while memory is fresh, and batches pad little.
    order = sorted(range(len(todo)), key=lambda k: -len(encoded[k]))
    # A decoder-only output is cut after its stop token, with no padding (which may be EOS).
    pad = None if prompt is not None else tokenizer.pad_token_id
    # Uncased WordPiece output (`# person1 # ' s`) made readable here, the one place every
    # summary leaves the model; other tokenizers' text is left exactly as decoded.
    restore = detokenizer_for(tokenizer)

    def finish(chunk: list[int], outputs: list[list[int]]) -> None:
        decoded = tokenizer.batch_decode(outputs, skip_special_tokens=True)
        for k, ids, text in zip(chunk, outputs, decoded, strict=True):
            source = texts[todo[k]]
            summaries[todo[k]] = restore(text, source) if restore else text.strip()
            counts[todo[k]] = count_new_tokens(ids, pad, settings.max_new_tokens)
        if on_batch is not None:
            on_batch(len(chunk))

    stream = getattr(backend, "stream_ids", None)
    if stream is None:
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            finish(chunk, backend.generate_ids([encoded[k] for k in chunk], settings))
        return summaries, counts
    for start in range(0, len(order), STREAM_WINDOW):
        window = order[start : start + STREAM_WINDOW]
        results = stream([encoded[k] for k in window], settings, batch_size=batch_size)
        done: list[list[int]] = []
        reported = 0
        for ids in results:  # in input order, as they complete: progress stays live
            done.append(ids)
            if len(done) - reported == batch_size or len(done) == len(window):
                finish(window[reported : len(done)], done[reported:])
                reported = len(done)
    return summaries, counts


def encode(tokenizer: Any, texts: list[str], limit: int | None) -> list[list[int]]:
    """Token ids per text (with the tokenizer's special tokens), cut at `limit` if given."""
    kwargs: dict[str, Any] = {"truncation": True, "max_length": limit} if limit else {}
    return list(tokenizer(texts, **kwargs)["input_ids"])
