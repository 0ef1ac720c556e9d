"""One source of truth for generation settings.

The same `GenerationSettings` drives evaluation during training (greedy, via `.for_eval()`),
final evaluation, `summarize` and the server; it is saved as the model's
`generation_config.json`. It always sets `max_new_tokens` and clears transformers' default
`max_length=20`, whose silent truncation is the tutorials' best-known trap
(transformers #10032, #30361).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from summarist.errors import ConfigError

log = logging.getLogger(__name__)

CAP_WARN_SHARE = 0.05


@dataclass(frozen=True)
class GenerationSettings:
    """Decoding settings. Field names are `model.generate` keyword arguments."""

    max_new_tokens: int = 64
    """Upper bound on generated tokens (default derived from the training references' p99)."""
    min_new_tokens: int = 0
    num_beams: int = 4
    length_penalty: float = 1.0
    no_repeat_ngram_size: int = 3
    repetition_penalty: float = 1.0
    early_stopping: bool = True
    do_sample: bool = False

    def __post_init__(self) -> None:
        if self.max_new_tokens < 1:
            raise ConfigError(f"max_new_tokens must be >= 1, got {self.max_new_tokens}")
        if not 0 <= self.min_new_tokens <= self.max_new_tokens:
            raise ConfigError(
                f"min_new_tokens={self.min_new_tokens} must be between 0 and "
                f"max_new_tokens={self.max_new_tokens}"
            )
        if self.num_beams < 1:
            raise ConfigError(f"num_beams must be >= 1, got {self.num_beams}")

    def with_overrides(self, **overrides: Any) -> GenerationSettings:
        """Copy with some fields replaced; unknown names are a ConfigError, None means keep."""
        names = {f.name for f in fields(self)}
        unknown = sorted(set(overrides) - names)
        if unknown:
            raise ConfigError(
                f"unknown generation setting(s): {', '.join(unknown)}",
                f"known: {', '.join(sorted(names))}",
            )
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

    def for_eval(self) -> GenerationSettings:
        """Cheap variant for evaluation during training: greedy, same length bounds."""
        return replace(self, num_beams=1, early_stopping=False)

    def generate_kwargs(self) -> dict[str, Any]:
        kw = asdict(self)
        if self.num_beams == 1:
            kw.pop("early_stopping")  # only meaningful for beam search; avoids a warning
            kw.pop("length_penalty")
        return kw

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_hf(self, base: Any = None) -> Any:
        """A `transformers.GenerationConfig` carrying these settings (token ids from `base`)."""
        from transformers import GenerationConfig

        cfg = GenerationConfig.from_dict(base.to_dict()) if base is not None else GenerationConfig()
        values = asdict(self)
        if self.num_beams == 1:  # beam-only flags on a greedy config fail validation on save
            values.update(early_stopping=False, length_penalty=1.0)
        cfg.update(**values)
        cfg.max_length = None  # max_new_tokens rules; never the legacy default of 20
        return cfg

    @classmethod
    def from_hf(cls, gen_config: Any) -> GenerationSettings:
        """Read settings back from a GenerationConfig (missing max_new_tokens → default)."""
        data = gen_config.to_dict() if hasattr(gen_config, "to_dict") else dict(gen_config)
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GenerationSettings:
        names = {f.name for f in fields(cls)}
        kept = {k: v for k, v in data.items() if k in names and v is not None}
        return cls(**kept)

    @classmethod
    def from_model_dir(cls, path: str | Path) -> GenerationSettings:
        """Settings saved with a model (`generation_config.json`), or defaults when absent."""
        file = Path(path) / "generation_config.json"
        if not file.exists():
            return cls()
        import json

        return cls.from_dict(json.loads(file.read_text(encoding="utf-8")))


def default_max_new_tokens(reference_token_lengths: Sequence[int], floor: int = 16) -> int:
    """p99 of the training references' token lengths, rounded up to a multiple of 8."""
    if len(reference_token_lengths) == 0:
        return GenerationSettings.max_new_tokens
    p99 = float(np.percentile(np.asarray(reference_token_lengths), 99))
    return max(floor, int(math.ceil(p99 / 8.0) * 8))


def hit_cap(new_token_counts: Sequence[int], max_new_tokens: int) -> list[bool]:
    """Which generations used the whole token budget (and were probably cut off)."""
    return [n >= max_new_tokens for n in new_token_counts]


def warn_if_capped(capped: Sequence[bool], max_new_tokens: int, where: str = "evaluation") -> float:
    """Warn when more than 5% of outputs stopped at the cap; returns the share."""
    share = float(np.mean(capped)) if len(capped) else 0.0
    if share > CAP_WARN_SHARE:
        log.warning(
            "%s: %d of %d outputs (%.1f%%) stopped at max_new_tokens=%d; summaries are probably "
            "cut off: raise --max-new-tokens (see transformers #10032, #30361)",
            where,
            sum(capped),
            len(capped),
            100 * share,
            max_new_tokens,
        )
    return share
