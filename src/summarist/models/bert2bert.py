"""BERT2BERT warm starts: an `EncoderDecoderModel` built from two copies of a BERT-like encoder.

Rothe et al. (2020) showed that a pretrained encoder can initialise both halves of a seq2seq
model. The decoder copy gains cross-attention layers (freshly initialised) and an LM head whose
transform is untrained when the checkpoint is a bare encoder (sentence-transformers models are),
so those parameters are reported by `new_parameter_names` for a higher learning rate.
"""

from __future__ import annotations

from typing import Any

# Parameters that the warm start creates from scratch (substrings of parameter names).
NEW_PARAMETER_MARKERS = ("crossattention", "cls.predictions.transform", "cls.predictions.bias")


def build_bert2bert(path: str, tokenizer: Any) -> Any:
    """Encoder and decoder both initialised from `path`; special tokens wired for generation."""
    from transformers import EncoderDecoderModel

    from summarist.quiet import quiet_transformers

    with quiet_transformers():
        model = EncoderDecoderModel.from_encoder_decoder_pretrained(path, path)
    wire_special_tokens(model, tokenizer)
    return model


def wire_special_tokens(model: Any, tokenizer: Any) -> None:
    """Decoding starts at [CLS], stops at [SEP] and pads with [PAD] (BERT has no BOS/EOS)."""
    start = tokenizer.cls_token_id if tokenizer.cls_token_id is not None else tokenizer.bos_token_id
    end = tokenizer.sep_token_id if tokenizer.sep_token_id is not None else tokenizer.eos_token_id
    if start is None or end is None or tokenizer.pad_token_id is None:
        from summarist.errors import ModelError

        raise ModelError(
            "a BERT2BERT warm start needs a tokenizer with CLS/SEP (or BOS/EOS) and PAD tokens",
            "use a BERT-like encoder checkpoint",
        )
    for cfg in (model.config, model.generation_config):
        cfg.decoder_start_token_id = start
        cfg.bos_token_id = start
        cfg.eos_token_id = end
        cfg.pad_token_id = tokenizer.pad_token_id
    model.config.vocab_size = model.config.decoder.vocab_size


def new_parameter_names(model: Any) -> set[str]:
    """Names of parameters that start untrained in a warm start (empty for other models)."""
    if getattr(model.config, "model_type", "") != "encoder-decoder":
        return set()
    return {
        name
        for name, _ in model.named_parameters()
        if name.startswith("decoder.") and any(m in name for m in NEW_PARAMETER_MARKERS)
    }
