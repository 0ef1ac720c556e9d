"""Settings of `summarist export`: the conversion, and the quality check of its result."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from summarist.config.data import DataConfig
from summarist.config.fields import cli
from summarist.config.generation import GenerationSettings
from summarist.errors import ConfigError, check_choice

ExportFormat = Literal["ctranslate2"]
EXPORT_FORMATS = ("ctranslate2",)


@dataclass
class QualityCheckConfig:
    """On what data, and how strictly, a candidate model is checked against its source."""

    data: DataConfig
    """The corpus with the split to check on (a path is enough)."""
    split: str | None = None
    """Split to use (default: validation, else test, else the first)."""
    samples: int = 200
    """First N examples of that split (0: all)."""
    generation: dict[str, Any] = field(
        default_factory=dict, metadata=cli(overrides=GenerationSettings)
    )
    """Overrides of the source model's saved generation settings, for both models (beams 1:
    a quick check)."""
    alpha: float = 0.05
    """Significance level of the paired bootstrap."""
    bootstrap: int = 1000
    """Bootstrap resamples of the paired test."""
    seed: int = field(default=0, metadata=cli(flag="--bootstrap-seed"))
    """Seed of the bootstrap resampling."""

    def __post_init__(self) -> None:
        if self.samples < 0:
            raise ConfigError(f"--check-samples must be >= 0, got {self.samples}", "e.g. 200")
        if not 0 < self.alpha < 1:
            raise ConfigError(f"--check-alpha must be in (0, 1), got {self.alpha}", "e.g. 0.05")
        if isinstance(self.data, str | Path):
            self.data = DataConfig(data=[str(self.data)])
        self.generation = {k: v for k, v in self.generation.items() if v is not None}
        GenerationSettings().with_overrides(**self.generation)  # unknown names fail here


@dataclass
class ExportConfig:
    """`summarist export`: convert a model for a fast backend, optionally check the result."""

    model: str = field(metadata=cli(short="-m"))
    """Model directory, run directory or hub id."""
    output: Path = field(metadata=cli(short="-o"))
    """Directory to write."""
    format: ExportFormat = "ctranslate2"
    """Export format: ctranslate2."""
    quantize: str | None = None
    """int8, int8_float32, int16, float16, bfloat16 (default: as saved)."""
    lang: str | None = None
    """Language of mBART-family models (default: the one saved with the model)."""
    check: QualityCheckConfig | None = field(default=None, metadata=cli(prefix="check-"))
    """Check the export against its source model (paired bootstrap of ROUGE, written to
    quality_check.json in the export)."""
    fail_on_drop: bool = False
    """Exit with code 3 when --check-data finds a significant drop."""

    def __post_init__(self) -> None:
        check_choice("--format", self.format, EXPORT_FORMATS)
        if self.fail_on_drop and self.check is None:
            raise ConfigError(
                "--fail-on-drop needs --check-data", "add --check-data VALIDATION_DATA"
            )
