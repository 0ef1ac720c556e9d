"""`PromptSettings`: how a decoder-only model is asked for a summary (YAML `prompt:`).

One object, nested in `TrainConfig` as `prompt:`, saved with the trained model and read back by
every command that runs it; `summarist.models.prompt.PromptBuilder` turns it into token ids.
Seq2seq models ignore it (they take `prefix`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

from summarist.errors import ConfigError, did_you_mean

PromptTemplate = Literal["auto", "chat", "plain"]
TEMPLATES = ("auto", "chat", "plain")
DEFAULT_INSTRUCTION = "Summarize this text in one or two sentences."
TEXT_SLOT = "{text}"
DEFAULT_PLAIN = "{instruction}\n\n{text}\n\nSummary:"


@dataclass(frozen=True)
class PromptSettings:
    """The instruction a decoder-only model gets before the text. Field docs are CLI help."""

    instruction: str = DEFAULT_INSTRUCTION
    """Decoder-only models: the user instruction placed before the source text."""
    system_prompt: str | None = None
    """Decoder-only models: the system message of the chat template (default: the template's
    own; folded into the user turn for templates without a system role, e.g. Gemma)."""
    prompt_template: PromptTemplate = "auto"
    """Decoder-only models: chat (the tokenizer's chat template), plain (a text template),
    or auto (chat when the tokenizer has a template)."""
    plain_template: str = DEFAULT_PLAIN
    """Decoder-only models without a chat template: the prompt text, with {instruction} and
    {text} slots (the summary follows it after a space)."""

    def __post_init__(self) -> None:
        if self.prompt_template not in TEMPLATES:
            raise ConfigError(
                f"--prompt-template '{self.prompt_template}' is not one of "
                f"{', '.join(TEMPLATES)}{did_you_mean(self.prompt_template, TEMPLATES)}"
            )
        if not self.instruction.strip():
            raise ConfigError(
                "--instruction is empty", f"e.g. --instruction '{DEFAULT_INSTRUCTION}'"
            )
        if self.plain_template.count(TEXT_SLOT) != 1:
            raise ConfigError(
                "plain_template must hold {text} exactly once",
                "e.g. plain_template: '{instruction}\\n\\n{text}\\n\\nSummary:'",
            )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> PromptSettings:
        """Settings from a mapping (config.yaml's `prompt:`); unknown keys are a ConfigError."""
        data = dict(data or {})
        names = [f.name for f in fields(cls)]
        unknown = sorted(set(data) - set(names))
        if unknown:
            raise ConfigError(
                f"unknown prompt setting '{unknown[0]}'{did_you_mean(unknown[0], names)}",
                f"known: {', '.join(names)}",
            )
        return cls(**{k: v for k, v in data.items() if v is not None})
