"""bench/warm_start_bart.py: BERT weights mapped onto a BART reproduce BERT's encoder."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.unit import _tiny_seq2seq as tiny

torch = pytest.importorskip("torch")
torch.set_num_threads(1)
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import warm_start_bart  # noqa: E402


def _tiny_bert() -> object:
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    config = BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=4, intermediate_size=64, max_position_embeddings=64)  # fmt: skip
    bert = BertModel(config).eval()
    with torch.no_grad():  # make the token-type embedding matter: it must be folded in
        bert.embeddings.token_type_embeddings.weight.normal_(0, 0.5)
    return bert


def test_bart_encoder_reproduces_bert_and_decoder_layers_carry_its_weights() -> None:
    bert, tok = _tiny_bert(), tiny.minilm_tokenizer()
    bart = warm_start_bart.bart_from_bert(bert, tok).eval()
    assert warm_start_bart.encoder_difference(bert, bart, tok) < 1e-3
    layer = bert.encoder.layer[1]
    dec = bart.model.decoder.layers[1]
    assert torch.equal(dec.self_attn.k_proj.weight, layer.attention.self.key.weight)
    assert torch.equal(dec.fc2.bias, layer.output.dense.bias)
    # cross-attention starts as a copy of the self-attention (not the same tensor)
    assert torch.equal(dec.encoder_attn.q_proj.weight, layer.attention.self.query.weight)
    assert dec.encoder_attn.q_proj.weight.data_ptr() != dec.self_attn.q_proj.weight.data_ptr()
    assert bart.lm_head.weight.data_ptr() == bart.model.shared.weight.data_ptr()
    assert bart.generation_config.decoder_start_token_id == tok.cls_token_id
    assert bart.generation_config.eos_token_id == tok.sep_token_id


def test_a_bert_without_the_token_type_fold_would_differ() -> None:
    """The check above can fail: dropping the token-type embedding moves the encoder output."""
    bert, tok = _tiny_bert(), tiny.minilm_tokenizer()
    bart = warm_start_bart.bart_from_bert(bert, tok).eval()
    with torch.no_grad():
        for side in (bart.model.encoder, bart.model.decoder):
            side.embed_positions.weight[2:] -= bert.embeddings.token_type_embeddings.weight[0]
    assert warm_start_bart.encoder_difference(bert, bart, tok) > 1e-2
