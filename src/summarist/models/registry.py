"""Model families: the quirks each model needs, as one data table.

Each row says how a family is fed (input prefix), which precisions it tolerates, where its
position limit lives, and what must be wired for generation. Decoder-only rows (`causal`) also
say which tokens end an assistant turn, whether a plain-text prompt starts with BOS, and which
layers LoRA adapts; the prompt itself is built by `models.prompt`. `family_for(config)` picks
the row from `config.model_type`; unknown types get the neutral `generic` row (or
`generic-causal` for a decoder-only config).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from summarist.errors import ConfigError


@dataclass(frozen=True)
class Family:
    """How one model family is fed and trained."""

    name: str
    model_types: tuple[str, ...]
    prefix: str = ""
    """Prepended to every source text (T5 was pretrained with task prefixes)."""
    fp16_ok: bool = True
    fp16_reason: str = ""
    position_attrs: tuple[str, ...] = ("max_position_embeddings",)
    """Config attributes holding the encoder's position limit (none: relative positions)."""
    needs_lang_codes: bool = False
    """mBART-style: source/target language codes and a forced BOS token."""
    warm_start: bool = False
    """An EncoderDecoderModel built from two pretrained encoders (BERT2BERT)."""
    learning_rate: float = 5e-5
    """Default peak learning rate (T5 fine-tunes best near 3e-4, BART/PEGASUS near 5e-5)."""
    lora_targets: tuple[str, ...] = ()
    """Linear layers `--lora` adapts unless `--lora-targets` says otherwise (peft's own map
    lacks PEGASUS and mBART, so every row names its own); none: the user must name them."""
    fresh_modules: tuple[str, ...] = ()
    """Modules a warm start initialises from scratch: trained in full under `--lora`
    (peft `modules_to_save`), since a low-rank update of random weights cannot train them."""
    lora_learning_rate: float = 1e-3
    """Default peak rate under `--lora` (adapters start at zero; LLM recipes use ~2e-4)."""
    causal: bool = False
    """Decoder-only: prompt and summary are one sequence, the loss is on the summary only, and
    generation continues the prompt (left-padded batches; `models.prompt`)."""
    end_of_turn: tuple[str, ...] = ()
    """Chat-template tokens that end the assistant's turn, the first one the vocabulary has is
    the stop token trained after each summary; generation stops at it and at EOS."""
    bos: bool = False
    """A plain-text prompt (no chat template) starts with the BOS token: Llama and Gemma were
    pretrained with it (Gemma degrades badly without); GPT-2, GPT-NeoX, Qwen have none."""
    pad_candidates: tuple[str, ...] = ()
    """Tokens to pad with when the tokenizer has no pad token, in order (else EOS; padding is
    masked out of attention and loss, so any id works, but a reserved one reads better)."""


T5_FP16 = (
    "T5 was pretrained in bf16 and its activations overflow fp16 (loss becomes NaN); "
    "use --precision bf16 or fp32"
)

# LoRA targets: the attention query and value projections (Hu et al. 2021; peft's defaults).
T5_QV = ("q", "v")
BART_QV = ("q_proj", "v_proj")
# Decoder-only LLMs: every projection of attention and MLP, the usual LLM recipe (QLoRA,
# Dettmers et al. 2023; LLaMA-Factory's `all`); q,v alone learned summaries markedly slower.
LLAMA_ALL = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
GEMMA_FP16 = (
    "Gemma's activations overflow fp16 (Google recommends bf16); use --precision bf16 or fp32"
)
LLM_LR = 5e-5
"""Full fine-tuning rate of a small instruct LLM (SFT recipes of 0.1-1B models: 1e-5 to 1e-4;
short CPU budgets favour the upper half)."""
LLM_LORA_LR = 2e-4
# ChatML (Qwen, SmolLM2), Llama 3, Gemma, Phi-3: the token that closes a turn.
CHATML_END = ("<|im_end|>",)

FAMILIES: tuple[Family, ...] = (
    Family("t5", ("t5",), prefix="summarize: ", fp16_ok=False, fp16_reason=T5_FP16,
           position_attrs=(), learning_rate=3e-4, lora_targets=T5_QV),
    Family("mt5", ("mt5", "umt5"), fp16_ok=False, fp16_reason=T5_FP16, position_attrs=(),
           learning_rate=3e-4, lora_targets=T5_QV),
    Family("longt5", ("longt5",), fp16_ok=False, fp16_reason=T5_FP16, position_attrs=(),
           learning_rate=3e-4, lora_targets=T5_QV),
    Family("bart", ("bart",), lora_targets=BART_QV),
    Family("mbart", ("mbart",), needs_lang_codes=True, lora_targets=BART_QV),
    Family("pegasus", ("pegasus", "pegasus_x"), lora_targets=BART_QV),
    # LED's encoder is Longformer attention (query/value), its decoder BART's (q_proj/v_proj).
    Family("led", ("led",), position_attrs=("max_encoder_position_embeddings",),
           lora_targets=("query", "value", "q_proj", "v_proj")),
    # Short budgets need a brisk rate; the fresh cross-attention gets a further multiplier.
    Family("bert2bert", ("encoder-decoder",), warm_start=True, learning_rate=1e-4,
           lora_targets=("query", "value"),
           fresh_modules=("crossattention", "predictions.transform")),
    # Decoder-only LLMs.
    Family("llama", ("llama", "mistral"), causal=True, bos=True, learning_rate=LLM_LR,
           lora_targets=LLAMA_ALL, lora_learning_rate=LLM_LORA_LR,
           end_of_turn=("<|eot_id|>", *CHATML_END, "</s>"),
           pad_candidates=("<|finetune_right_pad_id|>", "<unk>")),
    Family("qwen2", ("qwen2",), causal=True, learning_rate=LLM_LR, lora_targets=LLAMA_ALL,
           lora_learning_rate=LLM_LORA_LR, end_of_turn=CHATML_END,
           pad_candidates=("<|endoftext|>",)),
    Family("qwen3", ("qwen3",), causal=True, learning_rate=LLM_LR, lora_targets=LLAMA_ALL,
           lora_learning_rate=LLM_LORA_LR, end_of_turn=CHATML_END,
           pad_candidates=("<|endoftext|>",)),
    Family("gemma", ("gemma", "gemma2"), causal=True, bos=True, fp16_ok=False,
           fp16_reason=GEMMA_FP16, learning_rate=LLM_LR, lora_targets=LLAMA_ALL,
           lora_learning_rate=LLM_LORA_LR, end_of_turn=("<end_of_turn>",)),
    Family("gemma3", ("gemma3_text", "gemma3"), causal=True, bos=True, fp16_ok=False,
           fp16_reason=GEMMA_FP16, learning_rate=LLM_LR, lora_targets=LLAMA_ALL,
           lora_learning_rate=LLM_LORA_LR, end_of_turn=("<end_of_turn>",)),
    Family("phi3", ("phi3",), causal=True, learning_rate=LLM_LR,
           lora_targets=("qkv_proj", "o_proj", "gate_up_proj", "down_proj"),
           lora_learning_rate=LLM_LORA_LR, end_of_turn=("<|end|>",)),
    # GPT-2's layers are transformers `Conv1D` (weights stored transposed; peft handles them).
    Family("gpt2", ("gpt2",), causal=True, position_attrs=("n_positions",),
           learning_rate=5e-5, lora_targets=("c_attn", "c_proj", "c_fc"),
           lora_learning_rate=LLM_LORA_LR),
    Family("gpt_neox", ("gpt_neox",), causal=True, learning_rate=LLM_LR,
           lora_targets=("query_key_value", "dense", "dense_h_to_4h", "dense_4h_to_h"),
           lora_learning_rate=LLM_LORA_LR, end_of_turn=CHATML_END),
    Family("generic", ()),
    Family("generic-causal", (), causal=True, learning_rate=LLM_LR,
           lora_learning_rate=LLM_LORA_LR, end_of_turn=CHATML_END),
)  # fmt: skip
GENERIC = "generic"
GENERIC_CAUSAL = "generic-causal"

# mBART-50 language codes for the languages people summarize most (full list in the tokenizer).
MBART_LANG_CODES: dict[str, str] = {
    "ar": "ar_AR", "cs": "cs_CZ", "de": "de_DE", "en": "en_XX", "es": "es_XX", "et": "et_EE",
    "fi": "fi_FI", "fr": "fr_XX", "gu": "gu_IN", "hi": "hi_IN", "it": "it_IT", "ja": "ja_XX",
    "kk": "kk_KZ", "ko": "ko_KR", "lt": "lt_LT", "lv": "lv_LV", "my": "my_MM", "ne": "ne_NP",
    "nl": "nl_XX", "ro": "ro_RO", "ru": "ru_RU", "si": "si_LK", "tr": "tr_TR", "vi": "vi_VN",
    "zh": "zh_CN", "pt": "pt_XX", "pl": "pl_PL", "uk": "uk_UA", "id": "id_ID", "fa": "fa_IR",
}  # fmt: skip


def family_for(config: Any) -> Family:
    """The family row of a transformers config (by `model_type`); an unknown type gets
    `generic-causal` when its architectures are `...ForCausalLM`, else `generic`."""
    model_type = getattr(config, "model_type", "")
    for fam in FAMILIES:
        if model_type in fam.model_types:
            return fam
    return family_named(GENERIC_CAUSAL if is_causal_config(config) else GENERIC)


def family_named(name: str) -> Family:
    return next(f for f in FAMILIES if f.name == name)


def is_causal_config(config: Any) -> bool:
    """A decoder-only language model: a known causal row, or `...ForCausalLM` architectures
    (`...LMHeadModel` for GPT-2 style names) on a config that is not encoder-decoder."""
    if getattr(config, "is_encoder_decoder", False) or getattr(config, "is_decoder", False):
        return False
    model_type = getattr(config, "model_type", "")
    if any(model_type in f.model_types for f in FAMILIES if f.causal):
        return True
    archs = getattr(config, "architectures", None) or []
    return any(a.endswith(("ForCausalLM", "LMHeadModel")) for a in archs)


def position_limit(config: Any, family: Family) -> int | None:
    """The longest source the encoder can read, or None for relative-position models (T5)."""
    cfg = getattr(config, "encoder", config) if family.warm_start else config
    for attr in family.position_attrs:
        value = getattr(cfg, attr, None)
        if isinstance(value, int) and value > 0:
            return value
    return None


DEFAULT_SOURCE_LENGTH = 512
# Tokenizers report 1e30 when they have no limit of their own.
NO_LIMIT = 1_000_000


def source_limit(model: Any, tokenizer: Any) -> int:
    """The most source tokens a loaded model takes: its position limit, capped by the
    tokenizer's own limit (relative-position T5: the tokenizer's; neither: 512)."""
    config = model.config
    limits = [n for n in (position_limit(config, family_for(config)),) if n is not None]
    model_max = getattr(tokenizer, "model_max_length", None)
    if isinstance(model_max, int) and 0 < model_max < NO_LIMIT:
        limits.append(model_max)
    return min(limits) if limits else DEFAULT_SOURCE_LENGTH


def check_source_length(max_source_length: int | None, config: Any, family: Family) -> int:
    """The source length to use: the requested one if the encoder can hold it, else an error.

    With no request: 512, or the model's position limit when that is lower.
    """
    limit = position_limit(config, family)
    if max_source_length is None:
        return min(DEFAULT_SOURCE_LENGTH, limit or DEFAULT_SOURCE_LENGTH)
    if limit is not None and max_source_length > limit:
        raise ConfigError(
            f"--max-source-length {max_source_length} exceeds this {family.name} model's "
            f"position limit of {limit} tokens",
            f"use --max-source-length {limit} or less (or a long-input model such as LED)",
        )
    return max_source_length


def check_context(
    max_source_length: int | None, max_target_length: int, config: Any, family: Family
) -> int:
    """Decoder-only: the prompt length to use, so that prompt + summary fit the context.

    With no request: 512, or less when the context minus `max_target_length` is smaller.

    Raises:
        ConfigError: prompt + summary exceed the context, or the summary alone fills it.
    """
    limit = position_limit(config, family)
    room = None if limit is None else limit - max_target_length
    if room is not None and room < 1:
        raise ConfigError(
            f"--max-target-length {max_target_length} fills this {family.name} model's "
            f"{limit}-token context", f"use --max-target-length {max(1, limit // 4)} or less",
        )  # fmt: skip
    if max_source_length is None:
        return min(DEFAULT_SOURCE_LENGTH, room or DEFAULT_SOURCE_LENGTH)
    if room is not None and max_source_length > room:
        raise ConfigError(
            f"--max-source-length {max_source_length} + --max-target-length "
            f"{max_target_length} exceed this {family.name} model's context of {limit} tokens",
            f"use --max-source-length {room} or less",
        )
    return max_source_length


def check_precision(precision: str, family: Family) -> None:
    """Refuse fp16 for families known to overflow in it, saying why."""
    if precision == "fp16" and not family.fp16_ok:
        raise ConfigError(f"fp16 is not safe for {family.name}: {family.fp16_reason}")


def mbart_code(lang: str) -> str:
    """'de' or 'de_DE' → 'de_DE'; unknown short codes are a ConfigError."""
    if "_" in lang:
        return lang
    if lang not in MBART_LANG_CODES:
        raise ConfigError(
            f"no mBART language code known for '{lang}'",
            "pass the full code, e.g. --lang de_DE",
        )
    return MBART_LANG_CODES[lang]
