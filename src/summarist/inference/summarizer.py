"""Batched generation and the `Summarizer` (from_pretrained → summarize).

The tutorials' loop tokenizes one text, calls `model.generate`, decodes, and repeats. Here
texts are tokenized once, sorted by length so each batch pads little, generated in batches
under `torch.inference_mode()`, and put back in input order. The same loop serves every
backend (torch fp32/bf16/int8, CTranslate2).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from summarist.config.generation import GenerationSettings
from summarist.inference.backends.base import DEFAULT_BATCH_SIZE, Backend, count_new_tokens

log = logging.getLogger(__name__)

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
) -> tuple[list[str], list[int]]:
    """Summaries in input order and the number of generated tokens of each.

    Works for any `AutoModelForSeq2SeqLM` (T5, BART, mT5, PEGASUS, ...) and for a BERT2BERT
    `EncoderDecoderModel` (decoding starts at [CLS] and stops at [SEP] unless its config says
    otherwise). Inputs longer than `max_source_length` (default: the model's limit) are
    truncated here; `Summarizer` chunks them instead.

    >>> summaries, new_tokens = generate_batched(model, tok, texts, GenerationSettings())
    """
    from summarist.inference.backends.torch_backend import TorchBackend
    from summarist.models.registry import source_limit

    was_training = model.training  # evaluation during training: hand the model back as found
    backend = TorchBackend(model, tokenizer, device=device)
    limit = max_source_length or source_limit(model, tokenizer)
    try:
        return run_batched(
            backend, tokenizer, texts, settings, batch_size=batch_size, prefix=prefix, limit=limit
        )
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
    pad = tokenizer.pad_token_id

    def finish(chunk: list[int], outputs: list[list[int]]) -> None:
        decoded = tokenizer.batch_decode(outputs, skip_special_tokens=True)
        for k, ids, text in zip(chunk, outputs, decoded, strict=True):
            summaries[todo[k]] = text.strip()
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


LONG_MODES = ("chunk", "truncate")
BACKENDS = ("torch", "ctranslate2")


@dataclass
class SummaryBatch:
    """Summaries with what it took to make them (all lists in input order)."""

    summaries: list[str]
    new_tokens: list[int]
    source_tokens: list[int]
    levels: list[int]
    """Map-reduce levels per text: 0 when the text fitted the model."""
    seconds: float

    @property
    def per_second(self) -> float:
        return len(self.summaries) / self.seconds if self.seconds > 0 else 0.0


class Summarizer:
    """A summarization model ready to use: prefix, limits and generation defaults applied.

    >>> s = Summarizer.from_pretrained("runs/dialogsum-t5/model")
    >>> s.summarize(["#Person1#: Hi ... #Person2#: ..."])
    ['Person1 and Person2 ...']
    """

    def __init__(
        self,
        backend: Backend,
        tokenizer: Any,
        settings: GenerationSettings,
        *,
        prefix: str = "",
        source_limit: int = 512,
        name: str = "",
        batch_size: int | None = None,
        long: str = "chunk",
        overlap: int | None = None,
    ) -> None:
        if long not in LONG_MODES:
            from summarist.errors import ConfigError

            raise ConfigError(
                f"unknown --long mode '{long}'", f"use one of {', '.join(LONG_MODES)}"
            )
        self.backend = backend
        self.tokenizer = tokenizer
        self.settings = settings
        self.prefix = prefix
        self.source_limit = source_limit
        self.name = name
        self.batch_size = batch_size
        """Texts per batch; None: the backend's choice (`default_batch_size`)."""
        self.long = long
        self.overlap = source_limit // 8 if overlap is None else overlap
        self.last_traces: list[Any] = []
        """Map-reduce traces of the long inputs of the last call (`summarist.inference.longdoc`)."""

    @classmethod
    def from_pretrained(
        cls,
        path_or_id: str,
        *,
        device: str | None = None,
        backend: str = "torch",
        quantize: str | None = None,
        max_source_length: int | None = None,
        lang: str | None = None,
        **kwargs: Any,
    ) -> Summarizer:
        """Load a model directory, hub id, short name or CTranslate2 export.

        Args:
            path_or_id: where the model is; a `summarist export` directory is used as is.
            device: "cpu", "cuda", ... (default: the model's, i.e. CPU).
            backend: "torch" or "ctranslate2" (converted on the fly when the family allows;
                other families fall back to torch with a warning).
            quantize: "int8" for int8 weights (torch dynamic quantization on CPU, or
                CTranslate2's int8); "bf16" for bfloat16 weights (torch; CTranslate2 on GPU).
            max_source_length: source token limit (default: the model's).
            lang: language of an mBART-family model ("de", "de_DE", ...; default: the one
                saved with it). Other families ignore it.
            **kwargs: batch_size (default: the backend's choice, `default_batch_size`),
                long ("chunk" | "truncate"), overlap (tokens).
        """
        from summarist.inference.backends.select import open_backend

        opened = open_backend(
            path_or_id, backend=backend, device=device, quantize=quantize, lang=lang
        )
        limit = max_source_length or opened.source_limit
        if max_source_length and max_source_length > opened.source_limit:
            from summarist.errors import ConfigError

            raise ConfigError(
                f"--max-source-length {max_source_length} exceeds the model's limit of "
                f"{opened.source_limit} tokens",
                f"use {opened.source_limit} or less",
            )
        return cls(
            opened.backend,
            opened.tokenizer,
            opened.settings,
            prefix=opened.prefix,
            source_limit=limit,
            name=path_or_id,
            **kwargs,
        )

    def summarize(self, texts: str | Sequence[str], **overrides: Any) -> Any:
        """Summaries of `texts` (a list, or one string → one string), input order kept.

        `overrides` replace generation settings for this call (max_new_tokens=, num_beams=...).
        """
        if isinstance(texts, str):
            return self.summarize_detailed([texts], **overrides).summaries[0]
        return self.summarize_detailed(list(texts), **overrides).summaries

    def summarize_detailed(
        self,
        texts: Sequence[str],
        *,
        progress: Callable[[int], None] | None = None,
        **overrides: Any,
    ) -> SummaryBatch:
        """Like `summarize`, with token counts, map-reduce depth and wall time."""
        settings = self.settings.with_overrides(**overrides)
        texts = list(texts)
        _check_texts(texts)
        start = time.perf_counter()
        source_tokens = self.count_tokens(texts)
        long_ones = [i for i, n in enumerate(source_tokens) if n > self.source_limit]
        levels = [0] * len(texts)
        if long_ones and self.long == "truncate":
            _warn_truncated([source_tokens[i] for i in long_ones], len(texts), self.source_limit)
        if not long_ones or self.long == "truncate":
            summaries, counts = self._run(texts, settings, progress)
        else:
            summaries, counts = self._run_long(texts, long_ones, settings, levels, progress)
        seconds = time.perf_counter() - start
        return SummaryBatch(summaries, counts, source_tokens, levels, seconds)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Source tokens per text as the model sees it (prefix and special tokens included)."""
        if not texts:
            return []
        # verbose=False: counting long inputs is the point; no "longer than the maximum" warning.
        encoded = self.tokenizer([self.prefix + t for t in texts], verbose=False)
        return [len(ids) for ids in encoded["input_ids"]]

    def _run(
        self,
        texts: Sequence[str],
        settings: GenerationSettings,
        progress: Callable[[int], None] | None = None,
    ) -> tuple[list[str], list[int]]:
        return run_batched(
            self.backend,
            self.tokenizer,
            texts,
            settings,
            batch_size=self.batch_size or default_batch_size(self.backend, settings),
            prefix=self.prefix,
            limit=self.source_limit,
            on_batch=progress,
        )

    def _run_long(
        self,
        texts: list[str],
        long_ones: list[int],
        settings: GenerationSettings,
        levels: list[int],
        progress: Callable[[int], None] | None,
    ) -> tuple[list[str], list[int]]:
        from summarist.inference.longdoc import map_reduce

        long_set = set(long_ones)
        short = [i for i in range(len(texts)) if i not in long_set]
        summaries = [""] * len(texts)
        counts = [0] * len(texts)
        got, got_counts = self._run([texts[i] for i in short], settings, progress)
        for i, s, n in zip(short, got, got_counts, strict=True):
            summaries[i], counts[i] = s, n
        log.info(
            "%d input(s) exceed %d tokens: summarizing them in overlapping windows (map-reduce)",
            len(long_ones),
            self.source_limit,
        )
        long_summaries, long_counts, traces = map_reduce(
            [texts[i] for i in long_ones],
            lambda batch: self._run(batch, settings),
            self.count_tokens,
            limit=self.source_limit,
            overlap=self.overlap,
        )
        for i, s, n, trace in zip(long_ones, long_summaries, long_counts, traces, strict=True):
            summaries[i], counts[i], levels[i] = s, n, trace.depth
        if progress is not None:
            progress(len(long_ones))
        self.last_traces = traces
        return summaries, counts


def _check_texts(texts: list[str]) -> None:
    bad = [i for i, t in enumerate(texts) if not isinstance(t, str)]
    if bad:
        from summarist.errors import DataError

        raise DataError(
            f"input {bad[0]} is a {type(texts[bad[0]]).__name__}, not text",
            "pass strings (for a table, choose the text column with --text-column)",
        )
    empty = sum(1 for t in texts if not t.strip())
    if empty:
        log.warning("%d of %d inputs are empty; their summaries are empty", empty, len(texts))


def _warn_truncated(lengths: list[int], total: int, limit: int) -> None:
    cut = [n - limit for n in lengths]
    log.warning(
        "%d of %d inputs exceed the %d-token limit and were truncated (--long truncate): "
        "%d tokens cut on average, %d at most (%.0f%% of the longest); use --long chunk to keep "
        "all of it",
        len(lengths),
        total,
        limit,
        round(sum(cut) / len(cut)),
        max(cut),
        100 * max(cut) / max(lengths),
    )
