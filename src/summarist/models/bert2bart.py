"""BERT2BART: a BART initialised from a BERT-like encoder, which CTranslate2 can convert.

`summarist train --model minilm-bart` (offline) or `--model bert2bart:ENCODER`. BART's encoder and
decoder layers are post-LayerNorm like BERT's (attention, add & norm, feed-forward, add & norm),
so the BERT weights map onto a BART of the same size one to one:

- word embeddings -> the shared embeddings (and the tied output head);
- position embeddings plus the token-type-0 embedding -> both learned position tables (BART
  offsets positions by 2); the embedding LayerNorm -> both `layernorm_embedding`s;
- each BERT layer -> the same encoder layer and the same decoder layer (q/k/v, attention output,
  feed-forward, both LayerNorms); the decoder's cross-attention starts as a copy of the layer's
  self-attention. (Left random, as BERT2BERT leaves it, and trained at the base learning rate,
  it had not learnt to read the encoder after 600 steps: one summary for every input.)

Lost on the way: BERT's MLM head transform (sentence-transformers ships none anyway) and the
LayerNorm epsilon (BART hard-codes 1e-5 against BERT's 1e-12). The encoder's output matches
BERT's to about 1e-3, checked on every build. Unlike BERT2BERT (`EncoderDecoderModel`), the
result is a plain BART: CTranslate2 converts it, and int8 decoding ran 12.4x the tutorials'
one-at-a-time loop on the MiniLM-sized model (docs/benchmarks.md).
"""

from __future__ import annotations

from typing import Any

from summarist.errors import ModelError

# Encoder weights start in decoder and cross-attention roles they were never trained for, so the
# warm start wants a brisk rate: 3e-4 (T5's) took the MiniLM BART to ROUGE-1 32.0 on DialogSum
# in 600 steps of 8 (docs/benchmarks.md).
WARM_START_LEARNING_RATE = 3e-4
# The encoder must reproduce BERT's output; the LayerNorm epsilon alone gives ~1e-3.
MAX_ENCODER_DIFFERENCE = 1e-2


def build_bert2bart(path: str, tokenizer: Any) -> Any:
    """A BART carrying the BERT at `path`; `tokenizer` gets [CLS]/[SEP] as its BOS/EOS."""
    from transformers import BertModel

    from summarist.quiet import quiet_transformers

    with quiet_transformers():
        bert = BertModel.from_pretrained(path).eval()
    # BERT tokenizers name no BOS/EOS; CTranslate2's converter reads them from the tokenizer.
    tokenizer.bos_token, tokenizer.eos_token = tokenizer.cls_token, tokenizer.sep_token
    bart = bart_from_bert(bert, tokenizer)
    diff = encoder_difference(bert, bart.eval(), tokenizer)
    if diff > MAX_ENCODER_DIFFERENCE:
        raise ModelError(
            f"the BART built from '{path}' does not reproduce its encoder (max difference "
            f"{diff:.1e})",
            "bert2bart: takes BERT-like encoders with post-LayerNorm layers",
        )
    return bart


def bart_from_bert(bert: Any, tokenizer: Any) -> Any:
    """A `BartForConditionalGeneration` carrying `bert`'s weights in encoder and decoder."""
    import torch
    from transformers import BartForConditionalGeneration

    c = bert.config
    bart = BartForConditionalGeneration(bart_config(c, tokenizer))
    src = bert.state_dict()
    positions = (
        src["embeddings.position_embeddings.weight"]
        + src["embeddings.token_type_embeddings.weight"][0]
    )
    out: dict[str, torch.Tensor] = {"model.shared.weight": src["embeddings.word_embeddings.weight"]}
    for side in ("encoder", "decoder"):
        table = torch.cat([positions[:2], positions])  # rows 0-1: BART's offset, never looked up
        out[f"model.{side}.embed_positions.weight"] = table
        out[f"model.{side}.embed_tokens.weight"] = out["model.shared.weight"]
        for p in ("weight", "bias"):
            out[f"model.{side}.layernorm_embedding.{p}"] = src[f"embeddings.LayerNorm.{p}"]
        for i in range(c.num_hidden_layers):
            bert_layer, bart_layer = f"encoder.layer.{i}", f"model.{side}.layers.{i}"
            names = {
                "self_attn.q_proj": "attention.self.query",
                "self_attn.k_proj": "attention.self.key",
                "self_attn.v_proj": "attention.self.value",
                "self_attn.out_proj": "attention.output.dense",
                "self_attn_layer_norm": "attention.output.LayerNorm",
                "fc1": "intermediate.dense",
                "fc2": "output.dense",
                "final_layer_norm": "output.LayerNorm",
            }
            if side == "decoder":
                names |= {
                    "encoder_attn.q_proj": "attention.self.query",
                    "encoder_attn.k_proj": "attention.self.key",
                    "encoder_attn.v_proj": "attention.self.value",
                    "encoder_attn.out_proj": "attention.output.dense",
                    "encoder_attn_layer_norm": "attention.output.LayerNorm",
                }
            for new, old in names.items():
                for p in ("weight", "bias"):
                    out[f"{bart_layer}.{new}.{p}"] = src[f"{bert_layer}.{old}.{p}"].clone()
    missing = set(bart.state_dict()) - set(out)
    fresh = {k for k in missing if k in ("final_logits_bias", "lm_head.weight")}
    if missing - fresh:
        raise ModelError(f"unmapped BART parameters: {sorted(missing - fresh)[:5]}")
    bart.load_state_dict(out, strict=False)
    bart.tie_weights()
    bart.generation_config.update(
        decoder_start_token_id=tokenizer.cls_token_id, bos_token_id=tokenizer.cls_token_id,
        eos_token_id=tokenizer.sep_token_id, pad_token_id=tokenizer.pad_token_id,
        forced_bos_token_id=None, forced_eos_token_id=None,
    )  # fmt: skip
    return bart


def bart_config(c: Any, tokenizer: Any) -> Any:
    """The `BartConfig` the size of BERT config `c`: post-LayerNorm, head tied to embeddings."""
    from transformers import BartConfig

    config = BartConfig(
        vocab_size=c.vocab_size, d_model=c.hidden_size, max_position_embeddings=c.max_position_embeddings,
        encoder_layers=c.num_hidden_layers, decoder_layers=c.num_hidden_layers,
        encoder_attention_heads=c.num_attention_heads, decoder_attention_heads=c.num_attention_heads,
        encoder_ffn_dim=c.intermediate_size, decoder_ffn_dim=c.intermediate_size,
        activation_function=c.hidden_act, dropout=c.hidden_dropout_prob,
        attention_dropout=c.attention_probs_dropout_prob, activation_dropout=0.0,
        scale_embedding=False, normalize_before=False, normalize_embedding=True,
        pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.cls_token_id,
        eos_token_id=tokenizer.sep_token_id, decoder_start_token_id=tokenizer.cls_token_id,
        forced_bos_token_id=None, forced_eos_token_id=None, tie_word_embeddings=True,
    )  # fmt: skip
    return config


def encoder_difference(bert: Any, bart: Any, tokenizer: Any) -> float:
    """Largest absolute difference between BERT's and the BART encoder's last hidden states."""
    import torch

    enc = tokenizer(["#Person1#: Could you book the train for Friday? #Person2#: Sure."],
                    return_tensors="pt")  # fmt: skip
    with torch.no_grad():
        a = bert(**enc).last_hidden_state
        b = bart.get_encoder()(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"])
    return float((a - b.last_hidden_state).abs().max())
