"""Load any seq2seq checkpoint (or build a BERT2BERT warm start) with its tokenizer and family.

`load_for_training("t5-small")`, `load_for_training("./my-bart")`,
`load_for_training("bert2bert:bert-base-uncased")`, `load_for_training("minilm-bert2bert")`
and `load_for_training("minilm-bart")` (the offline default: the same encoder as a BART, which
CTranslate2 converts; `bert2bart:ENCODER` for others) all return a `LoadedModel`.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from summarist.errors import ModelError
from summarist.models.registry import Family, family_for, mbart_code
from summarist.models.resolve import (
    BERT2BART_NAMES,
    BERT2BART_PREFIX,
    BERT2BERT_PREFIX,
    OFFLINE_MODELS,
    _from_pretrained,
    resolve_model_path,
)

log = logging.getLogger(__name__)

# Speaker tags such as DialogSum's `#Person1#`; tokenizers split them into ~5 pieces.
SPEAKER_TAG = re.compile(r"#[A-Za-z]+\d*#")


@dataclass
class LoadedModel:
    model: Any
    tokenizer: Any
    family: Family
    name: str


@contextlib.contextmanager
def quiet_transformers() -> Iterator[None]:
    """Silence transformers' loading report (the MISSING/UNEXPECTED table) for one block."""
    from transformers.utils import logging as hf_logging

    before = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(before)
        if bars:
            hf_logging.enable_progress_bar()


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
    from transformers import AutoConfig, AutoModelForSeq2SeqLM

    from summarist.models.bert2bert import build_bert2bert, wire_special_tokens
    from summarist.models.resolve import load_tokenizer

    path = resolve_model_path(name)
    config = _from_pretrained(AutoConfig.from_pretrained, path, name)
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
    if is_warm_start(name, config.model_type):
        model = build_bert2bert(path, tokenizer)
    else:
        if config.model_type == "bert" or getattr(config, "is_encoder_decoder", True) is False:
            raise ModelError(
                f"'{name}' is an encoder-only ({config.model_type}) checkpoint, not seq2seq",
                f"warm-start a seq2seq model from it with --model bert2bert:{name}",
            )
        with quiet_transformers():
            model = _from_pretrained(AutoModelForSeq2SeqLM.from_pretrained, path, name)
        if config.model_type == "encoder-decoder":
            wire_special_tokens(model, tokenizer)
    family = family_for(model.config)
    if family.needs_lang_codes:
        set_language(model, tokenizer, lang or "en")
    return LoadedModel(model, tokenizer, family, name)


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
