"""The one prompt builder of decoder-only models: text in, prompt token ids out.

Training, evaluation, `summarize`, serving and export all call `PromptBuilder`, so a model sees
at inference exactly the prompt it was trained on. With a chat template (the tokenizer's
`chat_template`) the prompt is the rendered conversation: optional system message, a user turn
of `instruction` + blank line + text, and the generation prompt (`<|im_start|>assistant\\n`);
without one it is `PromptSettings.plain_template` (BOS first for families that need it).

The template is rendered once with a marker where the text goes and cut into a head and a tail,
tokenized once each; a prompt is then `head + text ids + tail`. Truncation cuts only the text:
the instruction, the template's tags and the generation prompt always stay whole. The target
trained after the prompt is the summary's tokens and the turn's stop token (`<|im_end|>`,
`<end_of_turn>`, ... else EOS), which generation stops at.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from summarist.config.prompt import TEXT_SLOT, PromptSettings
from summarist.errors import ConfigError, ModelError
from summarist.models.registry import Family

MARKER = "\u2063SUMMARIST_TEXT\u2063"
"""Stands in for the text while the template renders (an invisible separator around it)."""
PROMPT_KEY = "prompt"
"""Where a saved model keeps its prompt: `config.task_specific_params["summarization"]`."""


@dataclass(frozen=True)
class PromptParts:
    """A prompt as token ids: `head + text + tail`."""

    head: list[int]
    tail: list[int]
    mode: str
    """"chat" or "plain"."""

    @property
    def overhead(self) -> int:
        return len(self.head) + len(self.tail)


class PromptBuilder:
    """Builds the prompt ids of texts and the target ids of summaries for one tokenizer.

    >>> builder = PromptBuilder(tokenizer, PromptSettings(), family)  # doctest: +SKIP
    >>> ids = builder.encode(["#Person1#: Hi ..."], limit=512)  # doctest: +SKIP
    """

    def __init__(self, tokenizer: Any, settings: PromptSettings, family: Family) -> None:
        self.tokenizer = tokenizer
        self.settings = settings
        self.family = family
        self.parts = build_parts(tokenizer, settings, family)
        self.stop_ids = stop_token_ids(tokenizer, family, self.parts.mode)
        """Generation stops at any of these; the first is trained after every summary."""

    @property
    def mode(self) -> str:
        return self.parts.mode

    @property
    def overhead(self) -> int:
        """Tokens of the prompt that are not the text (instruction, tags, generation prompt)."""
        return self.parts.overhead

    def text_budget(self, limit: int) -> int:
        """Text tokens a prompt of at most `limit` tokens holds.

        Raises:
            ConfigError: the instruction and template alone fill `limit`.
        """
        budget = limit - self.overhead
        if budget < 1:
            raise ConfigError(
                f"the prompt's instruction and template take {self.overhead} tokens, which "
                f"leaves no room for the text within the {limit}-token limit",
                "shorten --instruction (or the system prompt), or raise --max-source-length",
            )
        return budget

    def text_ids(self, texts: Sequence[str]) -> list[list[int]]:
        if not texts:
            return []
        encoded = self.tokenizer(list(texts), add_special_tokens=False, verbose=False)
        return [list(ids) for ids in encoded["input_ids"]]

    def encode(self, texts: Sequence[str], limit: int | None = None) -> list[list[int]]:
        """Prompt ids per text; with `limit`, the text is cut so each prompt fits it."""
        budget = self.text_budget(limit) if limit else None
        head, tail = self.parts.head, self.parts.tail
        return [head + ids[:budget] + tail for ids in self.text_ids(texts)]

    def count(self, texts: Sequence[str]) -> list[int]:
        """Prompt tokens per text, untruncated (for deciding what is too long)."""
        return [self.overhead + len(ids) for ids in self.text_ids(texts)]

    def encode_targets(self, summaries: Sequence[str], max_length: int) -> list[list[int]]:
        """Summary ids + the stop token, at most `max_length` tokens (the stop token kept)."""
        if not summaries:
            return []
        prefix = " " if self.mode == "plain" else ""  # "Summary:" then " text"
        encoded = self.tokenizer(
            [prefix + s.strip() for s in summaries], add_special_tokens=False, verbose=False
        )["input_ids"]
        stop = self.stop_ids[0]
        return [list(ids)[: max(0, max_length - 1)] + [stop] for ids in encoded]

    def render(self, text: str) -> str:
        """The prompt as text (what the model reads), for cards, logs and exports."""
        return self.tokenizer.decode(self.encode([text])[0])

    def to_dict(self) -> dict[str, Any]:
        """What a saved model records: the settings and the mode they resolved to."""
        return {**self.settings.to_dict(), "mode": self.mode}


def build_parts(tokenizer: Any, settings: PromptSettings, family: Family) -> PromptParts:
    """Head and tail ids of the prompt around the text.

    Raises:
        ConfigError: a chat template was asked for and the tokenizer has none.
    """
    has_chat = bool(getattr(tokenizer, "chat_template", None))
    if settings.prompt_template == "chat" and not has_chat:
        raise ConfigError(
            "--prompt-template chat: this tokenizer has no chat template",
            "use --prompt-template plain (or auto), or a tokenizer with a chat_template",
        )
    use_chat = has_chat and settings.prompt_template != "plain"
    if use_chat:
        rendered = render_chat(tokenizer, settings)
        bos: list[int] = []
    else:
        rendered = settings.plain_template.replace("{instruction}", settings.instruction)
        rendered = rendered.replace(TEXT_SLOT, MARKER)
        bos_id = tokenizer.bos_token_id
        bos = [int(bos_id)] if family.bos and bos_id is not None else []
    head, sep, tail = rendered.partition(MARKER)
    if not sep:  # pragma: no cover - a template that drops the user's content
        raise ModelError("the chat template does not include the user's message")

    def ids(text: str) -> list[int]:
        return list(tokenizer(text, add_special_tokens=False)["input_ids"]) if text else []

    return PromptParts(bos + ids(head), ids(tail), "chat" if use_chat else "plain")


def render_chat(tokenizer: Any, settings: PromptSettings) -> str:
    """The chat template rendered around MARKER, with the generation prompt."""
    user = f"{settings.instruction.strip()}\n\n{MARKER}"
    messages = [{"role": "user", "content": user}]
    if settings.system_prompt:
        messages.insert(0, {"role": "system", "content": settings.system_prompt})
    try:
        return str(
            tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        )
    except Exception as err:  # jinja2's TemplateError: "System role not supported" (Gemma)
        if not settings.system_prompt:
            raise ConfigError(f"the chat template fails to render: {err}") from None
    folded = f"{settings.system_prompt}\n\n{user}"
    return str(
        tokenizer.apply_chat_template(
            [{"role": "user", "content": folded}], tokenize=False, add_generation_prompt=True
        )
    )


def stop_token_ids(tokenizer: Any, family: Family, mode: str) -> list[int]:
    """The stop tokens: with a chat template its end-of-turn token first, then EOS.

    Raises:
        ModelError: the tokenizer has neither an EOS token nor an end-of-turn token.
    """
    vocab = tokenizer.get_vocab()
    out: list[int] = []
    if mode == "chat":
        found = template_end_token(tokenizer)
        out += [found] if found is not None else [vocab[t] for t in family.end_of_turn
                                                  if t in vocab][:1]  # fmt: skip
    if tokenizer.eos_token_id is not None:
        out.append(int(tokenizer.eos_token_id))
    out = list(dict.fromkeys(out))
    if not out:
        raise ModelError(
            "the tokenizer has no EOS token (and no end-of-turn token): generation could "
            "never stop",
            "set eos_token in the tokenizer (tokenizer_config.json), e.g. to <|endoftext|>",
        )
    return out


def template_end_token(tokenizer: Any) -> int | None:
    """The special token the chat template puts right after an assistant message, if any."""
    messages = [{"role": "user", "content": "x"}, {"role": "assistant", "content": MARKER}]
    try:
        rendered = str(tokenizer.apply_chat_template(messages, tokenize=False))
    except Exception:  # a template that refuses this conversation: the family's table decides
        return None
    after = rendered.partition(MARKER)[2]
    ids = list(tokenizer(after, add_special_tokens=False)["input_ids"]) if after else []
    special = set(tokenizer.all_special_ids) | {
        i for i, t in tokenizer.added_tokens_decoder.items() if t.special
    }
    return int(ids[0]) if ids and ids[0] in special else None


def saved_prompt(config: Any) -> PromptSettings | None:
    """The prompt a trained model was saved with, None when it has none (an untrained model)."""
    params = getattr(config, "task_specific_params", None) or {}
    saved = (params.get("summarization") or {}).get(PROMPT_KEY)
    if not isinstance(saved, dict):
        return None
    return PromptSettings.from_dict({k: v for k, v in saved.items() if k != "mode"})
