"""BERT2BART: BERT weights mapped onto a BART reproduce BERT's encoder; `minilm-bart` loads."""

from __future__ import annotations

import pytest

from tests import tiny_models as tiny

torch = pytest.importorskip("torch")
torch.set_num_threads(1)
from summarist.models import bert2bart  # noqa: E402


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
    bart = bert2bart.bart_from_bert(bert, tok).eval()
    assert bert2bart.encoder_difference(bert, bart, tok) < 1e-3
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
    bart = bert2bart.bart_from_bert(bert, tok).eval()
    with torch.no_grad():
        for side in (bart.model.encoder, bart.model.decoder):
            side.embed_positions.weight[2:] -= bert.embeddings.token_type_embeddings.weight[0]
    assert bert2bart.encoder_difference(bert, bart, tok) > 1e-2


def test_minilm_bart_loads_offline_as_a_bart_with_the_warm_start_learning_rate() -> None:
    from summarist.models.loading import load_for_training

    loaded = load_for_training("minilm-bart")
    assert loaded.model.config.model_type == "bart" and loaded.family.name == "bart"
    assert loaded.family.learning_rate == bert2bart.WARM_START_LEARNING_RATE
    assert loaded.tokenizer.bos_token == "[CLS]" and loaded.tokenizer.eos_token == "[SEP]"
    assert loaded.model.config.d_model == 384 and loaded.model.config.encoder_layers == 6
    # the plain BART family row is untouched
    from summarist.models.registry import family_for

    assert family_for(loaded.model.config).learning_rate != bert2bart.WARM_START_LEARNING_RATE


def test_a_bert2bart_export_generates_the_same_as_torch(tmp_path) -> None:
    """The point of a BART: CTranslate2 converts it, and fp32 greedy output equals torch's."""
    pytest.importorskip("ctranslate2")
    from summarist.config.generation import GenerationSettings
    from summarist.inference.summarizer import Summarizer

    bert, tok = _tiny_bert(), tiny.minilm_tokenizer()
    tok.bos_token, tok.eos_token = tok.cls_token, tok.sep_token
    bart = bert2bart.bart_from_bert(bert, tok).eval()
    settings = GenerationSettings(max_new_tokens=8, num_beams=1, no_repeat_ngram_size=0)
    bart.generation_config = settings.to_hf(bart.generation_config)
    bart.save_pretrained(tmp_path / "m")
    tok.save_pretrained(tmp_path / "m")
    texts = ["#Person1#: Could you book the train? #Person2#: Sure, for Friday.", "Hello there."]
    ref = Summarizer.from_pretrained(str(tmp_path / "m")).summarize(texts, min_new_tokens=4)
    fast = Summarizer.from_pretrained(str(tmp_path / "m"), backend="ctranslate2")
    assert fast.backend.name == "ctranslate2"
    assert all(ref) and fast.summarize(texts, min_new_tokens=4) == ref


def test_bert2bart_of_a_non_bert_checkpoint_is_a_one_line_error(tmp_path) -> None:
    from summarist.errors import ModelError
    from summarist.models.loading import load_for_training

    tiny.save(tiny.tiny_seq2seq("t5"), tiny.t5_tokenizer(), tmp_path / "t5")
    with pytest.raises(ModelError, match="bert2bart needs a BERT checkpoint"):
        load_for_training(f"bert2bart:{tmp_path / 't5'}")
