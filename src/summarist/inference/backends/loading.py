"""Load a trained or hub seq2seq model for inference, with its prefix and generation defaults."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from summarist.config.generation import GenerationSettings
from summarist.errors import ModelError

log = logging.getLogger(__name__)

WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin", "model.safetensors.index.json")


def load_seq2seq(name: str, *, lang: str | None = None) -> tuple[Any, Any]:
    """(model, tokenizer) for a local directory, hub id or short name; one-line errors.

    mBART-family models get their language codes (`lang`, else the saved target language).
    """
    from transformers import AutoConfig, AutoModelForSeq2SeqLM

    from summarist.models.resolve import _from_pretrained, load_tokenizer, resolve_model_path

    path = resolve_model_path(name)
    check_not_bare_adapter(path, name)
    config = _from_pretrained(AutoConfig.from_pretrained, path, name)
    if not getattr(config, "is_encoder_decoder", False) and config.model_type != "encoder-decoder":
        raise ModelError(
            f"'{name}' is not a trained summarization (encoder-decoder) model "
            f"but a {config.model_type} checkpoint",
            f"train one first (summarist train --model {name}) and pass its model/ directory",
        )
    tokenizer = load_tokenizer(name)
    with _quiet_transformers():
        model = _from_pretrained(AutoModelForSeq2SeqLM.from_pretrained, path, name)
    if config.model_type == "encoder-decoder":
        from summarist.models.bert2bert import wire_special_tokens

        if model.config.decoder_start_token_id is None:
            wire_special_tokens(model, tokenizer)
    from summarist.models.registry import family_for

    if family_for(model.config).needs_lang_codes:
        from summarist.models.loading import language_for_inference

        language_for_inference(model, tokenizer, lang, name)
    return model.eval(), tokenizer


def check_not_bare_adapter(path: str, name: str) -> None:
    """A PEFT adapter directory holds no base weights: say which base it needs."""
    folder = Path(path)
    adapter = folder / "adapter_config.json"
    if not adapter.exists() or any((folder / f).exists() for f in WEIGHT_FILES):
        return
    base = json.loads(adapter.read_text(encoding="utf-8")).get("base_model_name_or_path")
    raise ModelError(
        f"'{name}' is an adapter (adapter_config.json) without base model weights",
        f"merge it into its base ({base or 'unknown base'}) and save the merged model, "
        "then pass that directory",
    )


def prefix_for(config: Any) -> str:
    """The input prefix saved with the model, else its family's (T5: 'summarize: ')."""
    params = getattr(config, "task_specific_params", None) or {}
    saved = (params.get("summarization") or {}).get("prefix")
    if isinstance(saved, str):
        return saved
    from summarist.models.registry import family_for

    return family_for(config).prefix


def settings_for(model: Any, path: str) -> GenerationSettings:
    """Generation defaults saved with the model (generation_config.json).

    Hub checkpoints often bound length with `max_length`/`min_length` only (bart-large-cnn:
    142/56); these become max/min_new_tokens (less the decoder start token) instead of
    falling back to an unrelated default. The legacy default max_length=20 is ignored.
    """
    file = Path(path) / "generation_config.json"
    if file.exists():
        data = json.loads(file.read_text(encoding="utf-8"))
    else:
        data = model.generation_config.to_dict()
    if data.get("max_new_tokens") is None and data.get("max_length") not in (None, 20):
        data["max_new_tokens"] = max(1, int(data["max_length"]) - 1)
        if data.get("min_length"):
            data["min_new_tokens"] = min(data["max_new_tokens"], int(data["min_length"]) - 1)
    return GenerationSettings.from_dict(data)


def _quiet_transformers() -> Any:
    from summarist.models.loading import quiet_transformers

    return quiet_transformers()
