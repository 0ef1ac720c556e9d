"""Tiny random seq2seq models (T5, mT5, BART, BERT) built by the tests, cached per process.

Each is saved once to a temporary directory with a tokenizer, so tests load them by path
exactly like a user's checkpoint. Vocabularies: the real T5 SentencePiece tokenizer from
../shared/data when present, else small ones trained here on a few sentences.
"""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

SHARED_T5 = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "t5_tokenizer"

CORPUS = [
    f"{a}: Did you get {t}? {b}: Yes, I got {t} today. They meet at {h} pm."
    for a in ("Anna", "Ben", "Cara", "Dan", "Eve", "Finn")
    for b in ("Anna", "Ben", "Cara", "Dan")
    for t in ("the report", "lunch", "the train tickets", "a birthday gift", "the keys", "dinner")
    for h in range(1, 4)
]


@functools.cache
def _root() -> Path:
    return Path(tempfile.mkdtemp(prefix="summarist-tiny-models-"))


def _bpe_tokenizer() -> object:
    """A small byte-level BPE tokenizer with BART's special tokens."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(CORPUS, trainer)
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 2)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>",
        unk_token="<unk>", mask_token="<mask>",
    )  # fmt: skip


def _wordpiece_dir(out: Path) -> object:
    from transformers import BertTokenizer

    words = sorted({w.strip("?:.,").lower() for s in CORPUS for w in s.split()} - {""})
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "?", ":", ".", ",", "#", "'"] + words
    vocab += [str(i) for i in range(10)] + [chr(c) for c in range(ord("a"), ord("z") + 1)]
    vocab += ["##" + chr(c) for c in range(ord("a"), ord("z") + 1)]
    out.mkdir(parents=True, exist_ok=True)
    (out / "vocab.txt").write_text("\n".join(dict.fromkeys(vocab)) + "\n", encoding="utf-8")
    return BertTokenizer(str(out / "vocab.txt"))


def _t5_tokenizer() -> object:
    from transformers import AutoTokenizer

    if SHARED_T5.exists():
        return AutoTokenizer.from_pretrained(str(SHARED_T5))
    from tokenizers import Tokenizer, processors
    from transformers import PreTrainedTokenizerFast

    # Without ../shared: a stand-in vocabulary with T5's conventions (no BOS, `</s>` appended).
    # The generic fast class: transformers 5's T5TokenizerFast insists on its own Unigram model.
    tok = Tokenizer.from_str(_bpe_tokenizer()._tokenizer.to_str())
    eos = tok.token_to_id("</s>")
    tok.post_processor = processors.TemplateProcessing(
        single="$A </s>", special_tokens=[("</s>", eos)]
    )
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="</s>",
                                   pad_token="<pad>", unk_token="<unk>")  # fmt: skip


@functools.cache
def tiny_model(kind: str) -> Path:
    """Directory of a tiny random `kind` model: t5, mt5, bart, pegasus, mbart or bert (a bert2bert
    encoder)."""
    import torch
    from transformers import (
        BartConfig,
        BartForConditionalGeneration,
        BertConfig,
        BertModel,
        MT5Config,
        MT5ForConditionalGeneration,
        T5Config,
        T5ForConditionalGeneration,
    )

    torch.manual_seed(0)
    out = _root() / kind
    small = {"d_model": 32, "d_ff": 64, "num_layers": 2, "num_heads": 2, "d_kv": 16}
    if kind == "t5-nodropout":  # deterministic training: same gradient, same loss
        small["dropout_rate"] = 0.0
    if kind in ("t5", "mt5", "t5-nodropout"):
        tok = _t5_tokenizer()
        cls, conf = (
            (T5ForConditionalGeneration, T5Config)
            if kind != "mt5"
            else (MT5ForConditionalGeneration, MT5Config)
        )
        config = conf(vocab_size=len(tok), decoder_start_token_id=tok.pad_token_id,
                      pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id, **small)  # fmt: skip
        model = cls(config)
    elif kind == "bart":
        tok = _bpe_tokenizer()
        config = BartConfig(
            vocab_size=len(tok), d_model=32, encoder_layers=2, decoder_layers=2,
            encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=64,
            decoder_ffn_dim=64, max_position_embeddings=128, pad_token_id=1, bos_token_id=0,
            eos_token_id=2, decoder_start_token_id=2, forced_eos_token_id=2,
            normalize_before=False, normalize_embedding=True,
        )  # fmt: skip
        model = BartForConditionalGeneration(config)
    elif kind == "pegasus":
        from transformers import PegasusConfig, PegasusForConditionalGeneration

        tok = _bpe_tokenizer()
        config = PegasusConfig(
            vocab_size=len(tok), d_model=32, encoder_layers=2, decoder_layers=2,
            encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=64,
            decoder_ffn_dim=64, max_position_embeddings=128, pad_token_id=1, eos_token_id=2,
            decoder_start_token_id=1, forced_eos_token_id=2,
        )  # fmt: skip
        model = PegasusForConditionalGeneration(config)
    elif kind == "mbart":
        from tests.unit._tiny_seq2seq import mbart_tokenizer, tiny_mbart

        tok = mbart_tokenizer()
        model = tiny_mbart(tok, trained=False)  # random, as the training tests expect
    elif kind == "bert":
        tok = _wordpiece_dir(out)
        config = BertConfig(vocab_size=len(tok), hidden_size=32, num_hidden_layers=2,
                            num_attention_heads=2, intermediate_size=64,
                            max_position_embeddings=512)  # fmt: skip
        model = BertModel(config)
    else:
        raise ValueError(kind)
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out
