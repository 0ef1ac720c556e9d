"""Tiny random seq2seq models for inference tests (built from configs; nothing downloaded).

Every builder takes seconds at most; weights are seeded so outputs are reproducible.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

SHARED_T5_TOKENIZER = Path(__file__).resolve().parents[2].parent / "shared/data/t5_tokenizer"


def t5_tokenizer() -> Any:
    import pytest
    from transformers import AutoTokenizer

    if not (SHARED_T5_TOKENIZER / "tokenizer.json").exists():
        pytest.skip(f"T5 tokenizer not found at {SHARED_T5_TOKENIZER}")
    return AutoTokenizer.from_pretrained(str(SHARED_T5_TOKENIZER))


def minilm_tokenizer() -> Any:
    from transformers import AutoTokenizer

    from summarist.models.resolve import resolve_model_path

    return AutoTokenizer.from_pretrained(resolve_model_path("minilm"))


def _seeded(build: Any) -> Any:
    import torch

    torch.manual_seed(0)
    return build().eval()


def tiny_t5(vocab_size: int = 32128, family: str = "t5") -> Any:
    from transformers import (
        MT5Config,
        MT5ForConditionalGeneration,
        T5Config,
        T5ForConditionalGeneration,
    )

    config_cls, model_cls = (
        (MT5Config, MT5ForConditionalGeneration)
        if family == "mt5"
        else (T5Config, T5ForConditionalGeneration)
    )
    config = config_cls(
        vocab_size=vocab_size,
        d_model=32,
        d_kv=8,
        d_ff=64,
        num_layers=1,
        num_decoder_layers=1,
        num_heads=4,
        decoder_start_token_id=0,
        pad_token_id=0,
        eos_token_id=1,
        task_specific_params={"summarization": {"prefix": "summarize: "}},
    )
    return _seeded(lambda: model_cls(config))


def tiny_bart(vocab_size: int = 32100, family: str = "bart") -> Any:
    """BART/PEGASUS shaped, using the T5 tokenizer's ids (pad 0, eos 1; no BOS)."""
    from transformers import (
        BartConfig,
        BartForConditionalGeneration,
        PegasusConfig,
        PegasusForConditionalGeneration,
    )

    common = {
        "vocab_size": vocab_size,
        "d_model": 32,
        "encoder_layers": 1,
        "decoder_layers": 1,
        "encoder_attention_heads": 4,
        "decoder_attention_heads": 4,
        "encoder_ffn_dim": 64,
        "decoder_ffn_dim": 64,
        "max_position_embeddings": 128,
        "pad_token_id": 0,
        "eos_token_id": 1,
        "bos_token_id": 0,
        "decoder_start_token_id": 1 if family == "bart" else 0,
        "forced_eos_token_id": 1,
    }
    if family == "pegasus":
        return _seeded(lambda: PegasusForConditionalGeneration(PegasusConfig(**common)))
    # Hub BART configs carry these two; CTranslate2's converter reads them.
    config = BartConfig(**common, normalize_before=False, normalize_embedding=True)
    return _seeded(lambda: BartForConditionalGeneration(config))


def tiny_bert2bert() -> Any:
    """A 1-layer random BERT2BERT with the MiniLM vocabulary and no generation token ids set."""
    from transformers import BertConfig, EncoderDecoderConfig, EncoderDecoderModel

    shape = {
        "vocab_size": 30522,
        "hidden_size": 32,
        "num_hidden_layers": 1,
        "num_attention_heads": 4,
        "intermediate_size": 64,
        "max_position_embeddings": 128,
    }
    enc = BertConfig(**shape)
    dec = BertConfig(**shape, is_decoder=True, add_cross_attention=True)
    config = EncoderDecoderConfig.from_encoder_decoder_configs(enc, dec)
    return _seeded(lambda: EncoderDecoderModel(config=config))


def save(model: Any, tokenizer: Any, path: Path, **generation: Any) -> Path:
    """Save like the training engineer's code does: weights, tokenizer, generation config."""
    from summarist.config.generation import GenerationSettings

    settings = GenerationSettings(**generation) if generation else GenerationSettings()
    model.generation_config = settings.to_hf(model.generation_config)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


MBART_WORDS = " ".join(
    (
        "the a to and of in is it you i that for on with be this have are was at as we not but "
        "can will do your my me so what all if just about up out one time get go like know now "
        "meeting report late again finish tonight promise thanks lunch call tomorrow person "
        "der die das und ist nicht ich du wir morgen heute bericht danke",
    )
).split()


def mbart_tokenizer(src_lang: str | None = None) -> Any:
    """A small real `MBartTokenizer` (unigram vocabulary made here; language codes included)."""
    from transformers import MBartTokenizer

    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)] + list("ABCDEFGHIJKLMNOPRSTUVWY")
    pieces = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
    pieces += [("▁" + w, -5.0) for w in MBART_WORDS] + [("▁", -8.0)]
    pieces += [(c, -10.0) for c in [*letters, *".,:;!?'#0123456789"]]
    return MBartTokenizer(vocab=pieces, src_lang=src_lang, tgt_lang=src_lang)


def tiny_mbart(tokenizer: Any) -> Any:
    """A 1-layer random mBART sized to `tokenizer` (decoding starts at </s>, like mBART's)."""
    from transformers import MBartConfig, MBartForConditionalGeneration

    config = MBartConfig(
        vocab_size=len(tokenizer),
        d_model=32,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=4,
        decoder_attention_heads=4,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        max_position_embeddings=128,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=tokenizer.bos_token_id,
        decoder_start_token_id=tokenizer.eos_token_id,
        forced_eos_token_id=tokenizer.eos_token_id,
    )
    return _seeded(lambda: MBartForConditionalGeneration(config))
