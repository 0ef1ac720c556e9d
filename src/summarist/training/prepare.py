"""The loaded model made ready for the loop: `--gradient-checkpointing` and `--lora`.

`prepare_model` runs in `setup()` after the speaker tokens are added (their embedding rows
are trained through peft's `trainable_token_indices`) and before the optimizer is built, so
the loop itself only ever sees a transformers model whose frozen weights have
`requires_grad=False`. After the loop, `training.save` writes the adapter and the merged model.
"""

from __future__ import annotations

import logging
from typing import Any

from summarist.models.lora import LoraSummary, apply_lora

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
