"""The one model loader: for training and for inference, sharing the family checks.

`load_for_training("t5-small")`, `load_for_training("./my-bart")`,
`load_for_training("bert2bert:bert-base-uncased")`, `load_for_training("minilm-bert2bert")`
and `load_for_training("minilm-bart")` (the offline default: the same encoder as a BART, which
CTranslate2 converts; `bert2bart:ENCODER` for others) all return a `LoadedModel`.
`load_for_inference(name)` loads a trained model (directory, run directory, hub id) with the
prefix, generation settings and source limit saved with it. Both refuse encoder-only
checkpoints, wire an `EncoderDecoderModel`'s special tokens and set mBART languages the same way.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from summarist.config.generation import GenerationSettings
from summarist.errors import ModelError
from summarist.models.pretrained import load_pretrained, load_tokenizer
from summarist.models.registry import (
    Family,
    family_for,
    is_causal_config,
    mbart_code,
    position_limit,
    source_limit,
)
from summarist.models.resolve import (
    BERT2BART_NAMES,
    BERT2BART_PREFIX,
    BERT2BERT_PREFIX,
    OFFLINE_MODELS,
    resolve_model_path,
)
from summarist.quiet import quiet_transformers

log = logging.getLogger(__name__)

# Speaker tags such as DialogSum's `#Person1#`; tokenizers split them into ~5 pieces.
SPEAKER_TAG = re.compile(r"#[A-Za-z]+\d*#")
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin", "model.safetensors.index.json")


@dataclass
class LoadedModel:
    model: Any
    tokenizer: Any
    family: Family
    name: str
    adapter: Any = None
    """The peft `PeftModel` around `model` while LoRA adapters train (`models.lora`)."""


@dataclass
class InferenceDefaults:
    """What a saved model says about its own use: input prefix, generation, source limit,
    and for a decoder-only model its prompt (`models.prompt`)."""

    prefix: str
    settings: GenerationSettings
    source_limit: int
    prompt: Any = None
    """The `PromptBuilder` of a decoder-only model (None for seq2seq)."""


def is_bart_warm_start(name: str) -> bool:
    """`bert2bart:ENCODER` or `minilm-bart`: a BART built from a BERT-like encoder."""
    return name.startswith(BERT2BART_PREFIX) or name in BERT2BART_NAMES


def is_warm_start(name: str, model_type: str | None) -> bool:
    """A BERT2BERT `EncoderDecoderModel` to build from an encoder."""
    if is_bart_warm_start(name):
        return False
    if name.startswith(BERT2BERT_PREFIX) or name in OFFLINE_MODELS:
        return model_type != "encoder-decoder"
    return False


def load_for_training(name: str, *, lang: str | None = None) -> LoadedModel:
    """Model + tokenizer + family for a hub id, local directory, short name or `bert2bert:X`."""
    from transformers import AutoConfig

    from summarist.models.bert2bert import build_bert2bert

    path = resolve_model_path(name)
    refuse_adapter_for_training(path, name)
    config = load_pretrained(AutoConfig.from_pretrained, path, name)
    tokenizer = load_tokenizer(name)
    if is_bart_warm_start(name):
        from summarist.models.bert2bart import WARM_START_LEARNING_RATE, build_bert2bart

        if config.model_type != "bert":  # the mapping reads BERT's parameter names
            raise ModelError(
                f"bert2bart needs a BERT checkpoint, '{name}' is {config.model_type}",
                f"use --model bert2bert:{path} for other encoders",
            )

        model = build_bert2bart(path, tokenizer)
        family = replace(family_for(model.config), learning_rate=WARM_START_LEARNING_RATE)
        return LoadedModel(model, tokenizer, family, name)
    if is_causal_config(config):
        from summarist.models.causal import load_causal_weights

        model = load_causal_weights(path, name, tokenizer, family_for(config))
        return LoadedModel(model, tokenizer, family_for(model.config), name)
    if is_warm_start(name, config.model_type):
        model = build_bert2bert(path, tokenizer)
    else:
        refuse_encoder_only(config, name, for_training=True)
        model = load_seq2seq_weights(path, name, config, tokenizer, rewire=True)
    family = family_for(model.config)
    if family.needs_lang_codes:
        set_language(model, tokenizer, lang or "en")
    return LoadedModel(model, tokenizer, family, name)


def load_for_inference(name: str, *, lang: str | None = None) -> tuple[Any, Any]:
    """(model in eval mode, tokenizer) for a trained model: directory, run directory, hub id or
    short name; one-line errors.

    mBART-family models get their language codes (`lang`, else the saved target language).

    >>> model, tokenizer = load_for_inference("runs/dialogsum")  # doctest: +SKIP
    """
    from transformers import AutoConfig

    from summarist.models.lora import is_adapter_dir

    path = resolve_model_path(name)
    if is_adapter_dir(path) and not any((Path(path) / f).exists() for f in WEIGHT_FILES):
        model, tokenizer = load_adapter(path, name, lang=lang)  # the base it names + adapter
        if family_for(model.config).needs_lang_codes:
            language_for_inference(model, tokenizer, lang, name)
        return model.eval(), tokenizer
    config = load_pretrained(AutoConfig.from_pretrained, path, name)
    refuse_encoder_only(config, name, for_training=False)
    tokenizer = load_tokenizer(name)
    if is_causal_config(config):
        from summarist.models.causal import load_causal_weights

        return load_causal_weights(path, name, tokenizer, family_for(config)).eval(), tokenizer
    model = load_seq2seq_weights(path, name, config, tokenizer)
    if family_for(model.config).needs_lang_codes:
        language_for_inference(model, tokenizer, lang, name)
    return model.eval(), tokenizer


def refuse_encoder_only(config: Any, name: str, *, for_training: bool) -> None:
    """An encoder-only checkpoint (BERT, ...) cannot summarize: say what to do instead."""
    if config.model_type == "encoder-decoder" or getattr(config, "is_encoder_decoder", False):
        return
    if is_causal_config(config):
        return  # decoder-only: prompted (`models.prompt`)
    if for_training:
        raise ModelError(
            f"'{name}' is an encoder-only ({config.model_type}) checkpoint, not seq2seq",
            f"warm-start a seq2seq model from it with --model bert2bert:{name}",
        )
    raise ModelError(
        f"'{name}' is not a trained summarization (encoder-decoder) model "
        f"but a {config.model_type} checkpoint",
        f"train one first (summarist train --model {name}) and pass its model/ directory",
    )


def load_seq2seq_weights(
    path: str, name: str, config: Any, tokenizer: Any, *, rewire: bool = False
) -> Any:
    """`AutoModelForSeq2SeqLM` weights; an `EncoderDecoderModel` gets its special tokens wired
    (for training always, for inference when none were saved)."""
    from transformers import AutoModelForSeq2SeqLM

    from summarist.models.bert2bert import wire_special_tokens

    with quiet_transformers():
        model = load_pretrained(AutoModelForSeq2SeqLM.from_pretrained, path, name)
    unwired = model.config.decoder_start_token_id is None
    if config.model_type == "encoder-decoder" and (rewire or unwired):
        wire_special_tokens(model, tokenizer)
    return model


def inference_defaults(
    model: Any, tokenizer: Any, name: str, prompt: Any = None
) -> InferenceDefaults:
    """Prefix, generation settings and source limit saved with `name` (or its family's).

    A decoder-only model also gets its prompt: `prompt` (a PromptSettings) when given, else
    the one it was trained with, else the default instruction (zero-shot). Its source limit is
    the context less the tokens to generate, capped by the prompt length it was trained on.
    """
    settings = settings_for(model, resolve_model_path(name))
    family = family_for(model.config)
    if not family.causal:
        return InferenceDefaults(prefix_for(model.config), settings, source_limit(model, tokenizer))
    from summarist.config.prompt import PromptSettings
    from summarist.models.prompt import PromptBuilder, saved_prompt

    chosen = prompt or saved_prompt(model.config) or PromptSettings()
    builder = PromptBuilder(tokenizer, chosen, family)
    return InferenceDefaults("", settings, causal_source_limit(model, settings), builder)


def causal_source_limit(model: Any, settings: GenerationSettings) -> int:
    """Prompt tokens a decoder-only model reads: its context less `max_new_tokens`, at most
    the `max_source_length` it was trained with (a trained model's saved limit)."""
    from summarist.models.registry import DEFAULT_SOURCE_LENGTH

    config = model.config
    context = position_limit(config, family_for(config)) or DEFAULT_SOURCE_LENGTH * 4
    params = (getattr(config, "task_specific_params", None) or {}).get("summarization") or {}
    room = context - settings.max_new_tokens
    saved = params.get("max_source_length")
    return min(room, int(saved)) if isinstance(saved, int) and saved > 0 else room


def load_adapter(path: str, name: str, *, lang: str | None = None, merged: bool = True) -> Any:
    """(model, tokenizer) of a LoRA adapter directory: the base it names, loaded as training
    loads it, the tokens the run added, the adapter on top (folded in unless `merged=False`).

    Raises:
        ModelError: the adapter names no base, or the base cannot be loaded.
    """
    from summarist.errors import SummaristError
    from summarist.models.lora import attach_adapter, read_adapter

    base, meta = read_adapter(path, name)
    try:
        loaded = load_for_training(base, lang=lang or meta.get("lang"))
    except SummaristError as err:
        raise ModelError(
            f"adapter '{name}': cannot load its base model '{base}' ({err.message})",
            err.hint or "make the base model available, or pass the run's merged model/",
        ) from None
    add_tokens(loaded, meta.get("added_tokens") or [])
    return attach_adapter(loaded.model, path, meta, merged=merged), loaded.tokenizer


def refuse_adapter_for_training(path: str, name: str) -> None:
    """An adapter directory is not a starting point: its run's merged model/ is."""
    from summarist.models.lora import adapter_base, is_adapter_dir

    if not is_adapter_dir(path):
        return
    merged = Path(path).parent / "model"
    start = str(merged) if (merged / "config.json").is_file() else "its merged model/ directory"
    raise ModelError(
        f"--model {name} is a LoRA adapter (adapter_config.json, base "
        f"{adapter_base(path) or 'unknown'}), not a model to train from",
        f"continue from {start}, or train from the base with --lora",
    )


def load_skeleton(name: str) -> LoadedModel:
    """The model `load_for_training(name)` would give, built on the meta device: shapes and
    module names without reading or allocating a single weight (for memory planning and
    checking --lora-targets before the load)."""
    import torch
    from transformers import (
        AutoConfig,
        AutoModelForSeq2SeqLM,
        BartForConditionalGeneration,
        EncoderDecoderConfig,
        EncoderDecoderModel,
    )

    from summarist.models.bert2bart import bart_config

    path = resolve_model_path(name)
    refuse_adapter_for_training(path, name)
    config = load_pretrained(AutoConfig.from_pretrained, path, name)
    tokenizer = load_tokenizer(name)
    with torch.device("meta"), quiet_transformers():
        if is_bart_warm_start(name):
            model = BartForConditionalGeneration(bart_config(config, tokenizer))
        elif is_warm_start(name, config.model_type):
            decoder = config.__class__(**{**config.to_dict(), "is_decoder": True,
                                          "add_cross_attention": True})  # fmt: skip
            both = EncoderDecoderConfig.from_encoder_decoder_configs(config, decoder)
            model = EncoderDecoderModel(config=both)
        elif is_causal_config(config):
            from summarist.models.causal import causal_skeleton

            model = causal_skeleton(config)
        else:
            refuse_encoder_only(config, name, for_training=True)
            model = AutoModelForSeq2SeqLM.from_config(config)
    return LoadedModel(model, tokenizer, family_for(model.config), name)


def prefix_for(config: Any) -> str:
    """The input prefix saved with the model, else its family's (T5: 'summarize: ')."""
    params = getattr(config, "task_specific_params", None) or {}
    saved = (params.get("summarization") or {}).get("prefix")
    if isinstance(saved, str):
        return saved
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


def set_language(model: Any, tokenizer: Any, lang: str) -> None:
    """mBART: source/target language codes, and the target code forced as the first token."""
    code = mbart_code(lang)
    if code not in tokenizer.get_vocab():
        raise ModelError(f"the tokenizer has no language code '{code}'", "check --lang")
    tokenizer.src_lang = code
    tokenizer.tgt_lang = code
    code_id = tokenizer.convert_tokens_to_ids(code)
    # generation_config only: transformers 5 refuses to save generation keys in model.config
    model.generation_config.forced_bos_token_id = code_id
    model.config.decoder_start_token_id = model.config.decoder_start_token_id or code_id


def language_for_inference(model: Any, tokenizer: Any, lang: str | None, name: str) -> None:
    """mBART at inference: `lang` when given, else the target language saved with the model.

    The source is tagged with the language code by the tokenizer (src_lang) and the same code
    is forced as the first generated token; a model saved without one needs `--lang`.
    """
    from summarist.errors import ConfigError

    if lang:
        set_language(model, tokenizer, lang)
        return
    forced = getattr(model.generation_config, "forced_bos_token_id", None)
    if forced is None:
        forced = getattr(model.config, "forced_bos_token_id", None)
    if forced is None:
        raise ConfigError(
            f"'{name}' is an mBART model without a saved target language",
            "pass --lang (en, de, fr_XX, ...)",
        )
    if not getattr(tokenizer, "src_lang", None):
        tokenizer.src_lang = tokenizer.convert_ids_to_tokens(int(forced))


def speaker_tags(texts: Sequence[str], min_count: int = 3) -> list[str]:
    """Speaker tags (`#Person1#`) seen at least `min_count` times, most frequent first."""
    counts: dict[str, int] = {}
    for text in texts:
        for tag in SPEAKER_TAG.findall(text):
            counts[tag] = counts.get(tag, 0) + 1
    return rank_speaker_tags(counts, min_count)


def rank_speaker_tags(counts: dict[str, int], min_count: int = 3) -> list[str]:
    """`speaker_tags` from tag counts in order of first appearance (`Split.count_matches`)."""
    return sorted((t for t, c in counts.items() if c >= min_count), key=lambda t: -counts[t])


def add_tokens(loaded: LoadedModel, tokens: Sequence[str]) -> list[str]:
    """Add `tokens` as single tokens (when the tokenizer splits them) and grow the embeddings.

    Each new embedding row starts as the mean of the pieces the token used to be split into,
    so the model keeps what it knew about the text. Returns the tokens actually added.
    """
    import torch
    from tokenizers import AddedToken

    tok, model = loaded.tokenizer, loaded.model
    new = [t for t in tokens if len(tok.tokenize(t)) > 1]
    if not new:
        return []
    pieces = [tok(t, add_special_tokens=False)["input_ids"] for t in new]
    tok.add_tokens([AddedToken(t, normalized=False, single_word=False) for t in new])
    size = len(tok)
    targets = [model.encoder, model.decoder] if loaded.family.warm_start else [model]
    with torch.no_grad():
        for target in targets:
            target.resize_token_embeddings(size, mean_resizing=False)
            emb = target.get_input_embeddings().weight
            for token, ids in zip(new, pieces, strict=True):
                emb[tok.convert_tokens_to_ids(token)] = emb[ids].mean(dim=0)
    if loaded.family.warm_start:
        model.config.decoder.vocab_size = size
        model.config.encoder.vocab_size = size
        model.config.vocab_size = size
    log.info("added %d tokens to the vocabulary: %s", len(new), ", ".join(new))
    return new
