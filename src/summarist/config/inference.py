"""How a saved model is run: the settings `summarize` and `compare` share, written once."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(kw_only=True)
class InferenceSettings:
    """Backend, precision, batching and input reading of a model that summarizes (the checks
    are the commands', which know the backends: `summarize.SummarizeConfig`,
    `model_comparison.CompareModelsConfig`)."""

    text_column: str | None = None
    """Column holding the text in a table (default: detected)."""
    encoding: str = "utf-8"
    """Encoding of the input files."""
    backend: str = "torch"
    """torch or ctranslate2 (converted on the fly; other families fall back to torch).
    CTranslate2 equals torch under greedy decoding; with beams plus n-gram blocking
    (no_repeat_ngram_size, 3 by default) or a minimum length it renormalizes after banning
    tokens and torch (like transformers) does not, so some summaries differ (docs)."""
    quantize: str | None = None
    """int8: torch dynamic int8 on CPU, or CTranslate2 int8. bf16: bfloat16 weights (torch;
    about 2x fp32 on CPUs with AMX/AVX512-BF16, and on GPUs). Default: none."""
    device: str | None = None
    """cpu, cuda, ... (default: cpu)."""
    lang: str | None = None
    """Language of mBART-family models (default: the one saved with the model)."""
    batch_size: int | None = None
    """Texts per batch (default: the backend's choice, 16; 32 for greedy bf16 on CPU)."""
    long: str = "chunk"
    """Inputs over the model's limit: chunk (map-reduce) or truncate (with a warning)."""
    shard_size: int = 256
    """Under a launcher: inputs per shard file (a crashed run redoes only unfinished shards)."""
