"""Decoder-only models (Llama, Qwen, Gemma, Phi-3, GPT-2, GPT-NeoX): loading and token quirks.

`models.loading` hands a causal config here. The quirks, each a row field in `models.registry`:
no pad token (GPT-2, Llama 3: a reserved token or EOS pads, always masked out), left padding
for generation (`tokenizer.padding_side`), tied embeddings (resizing for added tokens keeps
the head tied), GGUF weights dequantized on load (`models.gguf`).
"""

from __future__ import annotations

import logging
from typing import Any

from summarist.errors import ModelError
from summarist.models.gguf import forget_quantization, is_gguf
from summarist.models.pretrained import load_pretrained
from summarist.models.registry import Family
from summarist.quiet import quiet_transformers

log = logging.getLogger(__name__)


def load_causal_weights(path: str, name: str, tokenizer: Any, family: Family) -> Any:
    """`AutoModelForCausalLM` weights (a GGUF file dequantized), with the pad token wired."""
    from transformers import AutoModelForCausalLM

    with quiet_transformers():
        model = load_pretrained(AutoModelForCausalLM.from_pretrained, path, name)
    if is_gguf(path):
        forget_quantization(model, name)
    prepare_tokenizer(tokenizer, family, name)
    wire_token_ids(model, tokenizer)
    return model


def prepare_tokenizer(tokenizer: Any, family: Family, name: str) -> None:
    """A pad token (the family's reserved one, else EOS) and left padding, in place.

    Raises:
        ModelError: the tokenizer has neither a pad nor an EOS token to pad with.
    """
    if tokenizer.pad_token_id is None:
        vocab = tokenizer.get_vocab()
        pad = next((t for t in family.pad_candidates if t in vocab), None)
        if pad is None and tokenizer.eos_token is not None:
            pad = tokenizer.eos_token
        if pad is None:
            raise ModelError(
                f"'{name}': the tokenizer has no pad token and no EOS token to pad with",
                "set pad_token or eos_token in its tokenizer_config.json",
            )
        tokenizer.pad_token = pad
    if tokenizer.eos_token_id is None:
        raise ModelError(
            f"'{name}': the tokenizer has no EOS token, so generation could never stop",
            "set eos_token in its tokenizer_config.json (e.g. <|endoftext|>)",
        )
    tokenizer.padding_side = "left"  # generation continues the prompt: pad before it


def wire_token_ids(model: Any, tokenizer: Any) -> None:
    """pad/eos/bos ids on the model's generation config where it lacks them."""
    gen = model.generation_config
    for key in ("pad_token_id", "eos_token_id", "bos_token_id"):
        if getattr(gen, key, None) is None and getattr(tokenizer, key, None) is not None:
            setattr(gen, key, getattr(tokenizer, key))
    if getattr(model.config, "pad_token_id", None) is None:
        model.config.pad_token_id = tokenizer.pad_token_id


def causal_skeleton(config: Any) -> Any:
    """The model on the meta device (shapes only), for memory planning."""
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_config(config)
