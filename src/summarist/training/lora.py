"""The training side of `--lora` and `--gradient-checkpointing`: prepare the loaded model
before the loop, and save both artefacts (adapter/ and the merged model/) after it.

`prepare_model` runs in `setup()` after the speaker tokens are added (their embedding rows
are trained through peft's `trainable_token_indices`) and before the optimizer is built, so
the loop itself only ever sees a transformers model whose frozen weights have
`requires_grad=False`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from summarist.models.lora import LoraSummary, apply_lora, base_name, merge, save_adapter
from summarist.rundir import ADAPTER_DIR, atomic_dir

log = logging.getLogger(__name__)


def prepare_model(loaded: Any, cfg: Any, added_tokens: list[str]) -> LoraSummary | None:
    """Gradient checkpointing and LoRA as `cfg` (a TrainConfig) asks; the LoRA summary."""
    if cfg.gradient_checkpointing:
        enable_gradient_checkpointing(loaded.model)
    if not cfg.lora:
        return None
    return apply_lora(loaded, cfg, added_tokens)


def enable_gradient_checkpointing(model: Any) -> None:
    """Keep only each layer's input in the forward pass; recompute the rest in backward.

    Non-reentrant checkpointing: it needs no input that requires grad, so frozen embeddings
    (LoRA) work without `enable_input_require_grads`.
    """
    from summarist.errors import ConfigError

    if not getattr(model, "supports_gradient_checkpointing", False):
        raise ConfigError(
            f"'{model.config.model_type}' models do not support gradient checkpointing",
            "drop --gradient-checkpointing (use a smaller --batch-size with --grad-accum)",
        )
    model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    model.config.use_cache = False  # the decoder's cache is meaningless when recomputing


def save_adapter_and_merge(s: Any) -> Path | None:
    """LoRA runs: write adapter/ (swapped in whole), then fold it into `s.loaded.model` so that
    model/ is a plain transformers checkpoint. Others: nothing (None)."""
    if s.loaded.adapter is None:
        return None
    meta = {
        "base": base_name(s.cfg.model),
        "lang": s.cfg.lang,
        "added_tokens": s.added_tokens,
        "task_params": {
            "prefix": s.prefix,
            "max_source_length": s.cfg.max_source_length,
            **s.settings.to_dict(),
        },
    }
    out = Path(s.run_dir) / ADAPTER_DIR
    from summarist.quiet import quiet_transformers

    if s.runtime.is_main:  # one writer; every rank merges (each evaluates its shard after)
        with atomic_dir(out) as tmp, quiet_transformers():
            save_adapter(s.loaded, tmp, meta)
    merge(s.loaded)
    s.loaded.model.config.use_cache = True
    return out


def adapter_size(run_dir: Path) -> int:
    """Bytes of the adapter weights in a run's adapter/ (0 when there is none)."""
    folder = Path(run_dir) / ADAPTER_DIR
    return sum(f.stat().st_size for f in folder.glob("adapter_model.*")) if folder.is_dir() else 0
