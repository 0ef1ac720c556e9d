"""Tiny seq2seq models for inference tests (built from configs; nothing downloaded).

The T5, mT5, BART and PEGASUS shapes are trained here for a few hundred steps on a
project-written dialogue -> summary task, so greedy and beam outputs are non-empty, differ from
input to input and come in mixed lengths (a random tiny model says `''` or one constant string,
and equality tests over those prove nothing). Weights are seeded and cached per process; every
call returns a fresh copy. The tokenizer is a word-level T5 (SentencePiece-style) vocabulary
built here too, so no test needs ../shared/data for it.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

PEOPLE = ("Anna", "Ben", "Cara", "Dan", "Eve", "Finn")
THINGS = ("the report", "lunch", "the train tickets", "a birthday gift", "the keys", "dinner")
DAYS = ("Monday", "Tuesday", "Friday", "tomorrow", "tonight")
# Every word the tests' own texts use gets a piece (unknown words fall back to letters).
TEST_WORDS = (
    "did you book the train yes for at nine eve lunch short the report is late again i will "
    "finish it tonight promise thanks lost keys check car found them speaker item number on list "
    "please word see great today meet pm in room they got get what time hello how are summary "
    "summarize this text one two three four five six seven eight ten more words here"
)


def training_pairs() -> list[tuple[str, str]]:
    """Dialogues and summaries of varied length (2 to ~14 words), all written here."""
    pairs = []
    for i in range(96):
        a, b = PEOPLE[i % 6], PEOPLE[(i // 6 + i + 1) % 6]
        thing, day = THINGS[(i * 5) % 6], DAYS[i % 5]
        kind = i % 4
        if kind == 0:
            pairs.append((f"{a}: lunch? {b}: yes.", f"{a} and {b} eat lunch."))
        elif kind == 1:
            pairs.append((f"{a}: Did you get {thing}? {b}: Yes.", f"{b} got {thing}."))
        elif kind == 2:
            pairs.append(
                (
                    f"{a}: Did you book {thing} for {day}? {b}: Yes, at {i % 9 + 1} pm.",
                    f"{b} booked {thing} for {day} at {i % 9 + 1} pm for {a}.",
                )
            )
        else:
            pairs.append(
                (
                    f"{a}: {thing} is late again. {b}: I will finish {thing} {day}, promise. "
                    f"{a}: Thanks.",
                    f"{b} will finish {thing} {day} and {a} thanks {b} again and again and again.",
                )
            )
    return pairs


@functools.cache
def _t5_pieces() -> tuple[tuple[str, float], ...]:
    import re

    text = " ".join(f"{s} {t}" for s, t in training_pairs()) + " " + TEST_WORDS
    words = dict.fromkeys(re.findall(r"[A-Za-z]+|\d+|[^\sA-Za-z\d]", text))
    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)]
    letters += [chr(c) for c in range(ord("A"), ord("Z") + 1)] + list("0123456789.,:;!?'#-")
    pieces = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
    pieces += [("▁" + w, -5.0) for w in words] + [(w, -6.0) for w in words if len(w) == 1]
    pieces += [("▁", -8.0)] + [(c, -10.0) for c in letters]
    unique: dict[str, float] = {}
    for piece, score in pieces:
        unique.setdefault(piece, score)
    return tuple(unique.items())


def t5_tokenizer() -> Any:
    """A word-level `T5TokenizerFast` (pad 0, eos 1, unk 2; no BOS; `</s>` appended)."""
    return copy.deepcopy(_t5_tokenizer())


@functools.cache
def _t5_tokenizer() -> Any:
    from transformers import T5TokenizerFast

    return T5TokenizerFast(vocab=list(_t5_pieces()), extra_ids=0)


def vocab_size() -> int:
    return len(t5_tokenizer())


def assert_varied(outputs: list[str], at_least: int = 3) -> None:
    """Outputs worth comparing: none empty, and at least `at_least` different ones (equality
    over `''` or one constant string, which random tiny models emit, proves nothing)."""
    assert outputs and all(o.strip() for o in outputs), f"empty outputs: {outputs}"
    assert len(set(outputs)) >= min(at_least, len(outputs)), f"too few distinct: {outputs}"


def minilm_tokenizer() -> Any:
    from transformers import AutoTokenizer

    from summarist.models.resolve import resolve_model_path

    return AutoTokenizer.from_pretrained(resolve_model_path("minilm"))


def _seeded(build: Any) -> Any:
    import torch

    torch.manual_seed(0)
    return build().eval()


TRAIN_STEPS = 150


def train_briefly(
    model: Any, sources: list[list[int]], labels: list[list[int]], steps: int = TRAIN_STEPS
) -> Any:
    """`steps` seeded AdamW steps on (source ids, label ids) pairs; in eval mode after."""
    import torch

    def padded(rows: list[list[int]], fill: int) -> torch.Tensor:
        out = torch.full((len(rows), max(map(len, rows))), fill, dtype=torch.long)
        for i, ids in enumerate(rows):
            out[i, : len(ids)] = torch.tensor(ids)
        return out

    pad = model.config.pad_token_id
    input_ids, label_ids = padded(sources, pad), padded(labels, -100)
    torch.manual_seed(0)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    model.train()
    for step in range(steps):  # 16 pairs a step, in a fixed order
        rows = torch.arange(step * 16, step * 16 + 16) % len(sources)
        batch = input_ids[rows]
        loss = model(input_ids=batch, attention_mask=batch != pad, labels=label_ids[rows]).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    return model.eval()


def tiny_t5(vocab_size: int | None = None, family: str = "t5") -> Any:
    """A 1-layer T5 (or mT5): trained on `training_pairs()`, or random with `vocab_size` given."""
    if vocab_size is None:
        return copy.deepcopy(_trained(family))
    return _seeded(lambda: _t5_model(vocab_size, family))


def tiny_bart(vocab_size: int | None = None, family: str = "bart") -> Any:
    """BART/PEGASUS shaped, on the T5 tokenizer's ids (pad 0, eos 1; no BOS): trained on
    `training_pairs()`, or random with `vocab_size` given."""
    if vocab_size is None:
        return copy.deepcopy(_trained(family))
    return _seeded(lambda: _bart_model(vocab_size, family))


@functools.cache
def _trained(family: str) -> Any:
    build = _t5_model if "t5" in family else _bart_model
    model = _seeded(lambda: build(vocab_size(), family))
    tok, prefix = t5_tokenizer(), "summarize: " if "t5" in family else ""
    pairs = training_pairs()
    sources = tok([prefix + source for source, _ in pairs])["input_ids"]
    return train_briefly(model, sources, tok([target for _, target in pairs])["input_ids"])


def _t5_model(vocab_size: int, family: str) -> Any:
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
    return model_cls(config)


def _bart_model(vocab_size: int, family: str) -> Any:
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
        return PegasusForConditionalGeneration(PegasusConfig(**common))
    # Hub BART configs carry these two; CTranslate2's converter reads them.
    return BartForConditionalGeneration(
        BartConfig(**common, normalize_before=False, normalize_embedding=True)
    )


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


def tiny_mbart(tokenizer: Any, trained: bool = True) -> Any:
    """A 1-layer mBART sized to `tokenizer` (decoding starts at </s>, like mBART's), trained on
    `training_pairs()` with German language codes (`mbart_tokenizer()`'s vocabulary)."""
    if not trained:
        return _random_mbart(tokenizer)
    model = copy.deepcopy(_trained_mbart())
    assert model.config.vocab_size == len(tokenizer), "trained for mbart_tokenizer()'s vocabulary"
    return model


@functools.cache
def _trained_mbart() -> Any:
    tok = mbart_tokenizer("de_DE")
    code = tok.convert_tokens_to_ids("de_DE")
    pairs = training_pairs()
    sources = tok([source for source, _ in pairs])["input_ids"]  # ... </s> de_DE
    targets = tok([target for _, target in pairs], add_special_tokens=False)["input_ids"]
    # what generation produces after the </s> it starts from: the forced code, text, </s>
    labels = [[code, *ids, tok.eos_token_id] for ids in targets]
    return train_briefly(_random_mbart(tok), sources, labels)


def _random_mbart(tokenizer: Any) -> Any:
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
