"""Loading: warm starts, special-token wiring, speaker tags as added tokens, clear errors."""

from __future__ import annotations

import pytest

from summarist.errors import ModelError
from summarist.models.bert2bert import new_parameter_names
from summarist.models.loading import add_tokens, load_for_training, speaker_tags
from tests.tiny_models import tiny_model


def test_speaker_tags_are_counted_and_ordered() -> None:
    texts = ["#Person1#: hi\n#Person2#: yo\n#Person1#: ok"] * 3 + ["#Person3#: once"]
    assert speaker_tags(texts) == ["#Person1#", "#Person2#"]
    assert speaker_tags(["no tags here"]) == []


def test_bert2bert_warm_start_is_wired_for_generation() -> None:
    loaded = load_for_training(f"bert2bert:{tiny_model('bert')}")
    model, tok = loaded.model, loaded.tokenizer
    assert loaded.family.name == "bert2bert"
    assert model.generation_config.decoder_start_token_id == tok.cls_token_id
    assert model.generation_config.eos_token_id == tok.sep_token_id
    assert model.config.pad_token_id == tok.pad_token_id
    fresh = new_parameter_names(model)
    assert any("crossattention" in n for n in fresh)
    assert not any(n.startswith("encoder.") for n in fresh)


def test_added_speaker_tokens_start_from_their_pieces() -> None:
    import torch

    loaded = load_for_training(f"bert2bert:{tiny_model('bert')}")
    tok = loaded.tokenizer
    pieces = tok("#Person1#", add_special_tokens=False)["input_ids"]
    enc = loaded.model.encoder.get_input_embeddings().weight
    expected = enc[pieces].mean(dim=0).detach().clone()
    assert add_tokens(loaded, ["#Person1#"]) == ["#Person1#"]
    new_id = tok.convert_tokens_to_ids("#Person1#")
    assert tok.tokenize("#Person1#: hi")[0] == "#Person1#"
    assert torch.allclose(loaded.model.encoder.get_input_embeddings().weight[new_id], expected)
    assert loaded.model.decoder.get_output_embeddings().weight.shape[0] == len(tok)
    assert add_tokens(loaded, ["#Person1#"]) == []  # already a single token


def test_encoder_only_checkpoint_needs_the_bert2bert_prefix() -> None:
    with pytest.raises(ModelError, match="bert2bert:"):
        load_for_training(str(tiny_model("bert")))


def test_missing_directory_is_a_model_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ModelError, match="not found"):
        load_for_training(str(tmp_path / "nope"))


def test_seq2seq_checkpoints_load_with_their_family() -> None:
    for kind, family in (("t5", "t5"), ("bart", "bart"), ("mt5", "mt5")):
        assert load_for_training(str(tiny_model(kind))).family.name == family


def test_mbart_language_codes_force_the_first_token() -> None:
    from summarist.models.loading import set_language

    loaded = load_for_training(str(tiny_model("bart")))
    tok, model = loaded.tokenizer, loaded.model
    tok.add_tokens(["de_DE", "en_XX"], special_tokens=True)
    set_language(model, tok, "de")
    code = tok.convert_tokens_to_ids("de_DE")
    assert model.generation_config.forced_bos_token_id == code
    assert tok.tgt_lang == "de_DE"
    with pytest.raises(ModelError, match="fr_XX"):
        set_language(model, tok, "fr")
