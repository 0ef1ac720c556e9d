"""The `Summarizer`: a model ready to use (from_pretrained → summarize), stateless per call.

Prefix, source limit and saved generation settings are applied; inputs over the limit are
summarized by map-reduce (`summarist.inference.longdoc`) or truncated. Everything a call
produces (summaries, token counts, map-reduce traces, wall time) comes back in its
`SummaryBatch`, so one instance can serve several callers at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from summarist.config.generation import GenerationSettings
from summarist.inference.backends.base import Backend
from summarist.inference.batching import default_batch_size, run_batched

if TYPE_CHECKING:
    from summarist.inference.longdoc import LongDocTrace

log = logging.getLogger(__name__)

LONG_MODES = ("chunk", "truncate")


@dataclass
class SummaryBatch:
    """Summaries with what it took to make them (all lists in input order)."""

    summaries: list[str]
    new_tokens: list[int]
    source_tokens: list[int]
    levels: list[int]
    """Map-reduce levels per text: 0 when the text fitted the model."""
    seconds: float
    """Wall time of the whole call."""
    traces: list[LongDocTrace | None] = field(default_factory=list)
    """Per text, how map-reduce split and merged it (`summarist.inference.longdoc`); None for
    texts that fitted the model (an empty list when none were long)."""

    @property
    def per_second(self) -> float:
        return len(self.summaries) / self.seconds if self.seconds > 0 else 0.0


class Summarizer:
    """A summarization model ready to use: prefix, limits and generation defaults applied.

    Nothing changes between calls: per-call settings go in, per-call results (with
    map-reduce traces) come out, so threads may share one instance.

    >>> s = Summarizer.from_pretrained("runs/dialogsum-t5")  # doctest: +SKIP
    >>> s.summarize(["#Person1#: Hi ... #Person2#: ..."])  # doctest: +SKIP
    ['Person1 and Person2 ...']
    >>> batch = s.summarize_detailed(texts, GenerationSettings(num_beams=1))  # doctest: +SKIP
    >>> batch.summaries, batch.new_tokens, batch.seconds  # doctest: +SKIP
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
        prompt: Any = None,
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
        self.prompt = prompt
        """A decoder-only model's `models.prompt.PromptBuilder` (None: seq2seq, `prefix`)."""

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
        prompt: Any = None,
        **kwargs: Any,
    ) -> Summarizer:
        """Load a model directory, hub id, short name or CTranslate2 export.

        Args:
            path_or_id: where the model is: a model directory, a training run directory
                (its `model/` is used), a hub id or short name; a `summarist export`
                directory is used as is.
            device: "cpu", "cuda", ... (default: the model's, i.e. CPU).
            backend: "torch" or "ctranslate2" (converted on the fly when the family allows;
                other families fall back to torch with a warning).
            quantize: "int8" for int8 weights (torch dynamic quantization on CPU, or
                CTranslate2's int8); "bf16" for bfloat16 weights (torch; CTranslate2 on GPU).
            max_source_length: source token limit (default: the model's).
            lang: language of an mBART-family model ("de", "de_DE", ...; default: the one
                saved with it). Other families ignore it.
            prompt: a decoder-only model's `PromptSettings` (default: the one it was trained
                with, else the default instruction); seq2seq models ignore it.
            **kwargs: batch_size (default: the backend's choice, `default_batch_size`),
                long ("chunk" | "truncate"), overlap (tokens).
        """
        from summarist.inference.backends.select import open_backend

        opened = open_backend(
            path_or_id, backend=backend, device=device, quantize=quantize, lang=lang,
            prompt=prompt,
        )  # fmt: skip
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
            prompt=opened.prompt,
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
        settings: GenerationSettings | None = None,
        *,
        progress: Callable[[int], None] | None = None,
        **overrides: Any,
    ) -> SummaryBatch:
        """Summaries of `texts` with token counts, map-reduce depth and traces, and wall time.

        The call a server makes: `settings` (default: the model's saved ones) and `overrides`
        (max_new_tokens=, num_beams=...) apply to this call only.
        """
        settings = (settings or self.settings).with_overrides(**overrides)
        texts = list(texts)
        _check_texts(texts)
        start = time.perf_counter()
        source_tokens = self.count_tokens(texts)
        long_ones = [i for i, n in enumerate(source_tokens) if n > self.source_limit]
        levels = [0] * len(texts)
        traces: list[LongDocTrace | None] = []
        if long_ones and self.long == "truncate":
            _warn_truncated([source_tokens[i] for i in long_ones], len(texts), self.source_limit)
        if not long_ones or self.long == "truncate":
            summaries, counts = self._run(texts, settings, progress)
        else:
            summaries, counts, traces = self._run_long(texts, long_ones, settings, progress)
            levels = [0 if t is None else t.depth for t in traces]
        seconds = time.perf_counter() - start
        return SummaryBatch(summaries, counts, source_tokens, levels, seconds, traces)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Source tokens per text as the model sees it (prefix and special tokens included)."""
        if not texts:
            return []
        if self.prompt is not None:  # decoder-only: the whole prompt around the text
            return self.prompt.count(texts)
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
            prompt=self.prompt,
        )

    def _run_long(
        self,
        texts: list[str],
        long_ones: list[int],
        settings: GenerationSettings,
        progress: Callable[[int], None] | None,
    ) -> tuple[list[str], list[int], list[LongDocTrace | None]]:
        from summarist.inference.longdoc import map_reduce

        long_set = set(long_ones)
        short = [i for i in range(len(texts)) if i not in long_set]
        summaries = [""] * len(texts)
        counts = [0] * len(texts)
        per_text: list[LongDocTrace | None] = [None] * len(texts)
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
            summaries[i], counts[i], per_text[i] = s, n, trace
        if progress is not None:
            progress(len(long_ones))
        return summaries, counts, per_text


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
