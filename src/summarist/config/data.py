"""Typed data configuration shared by every command that reads a corpus."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Literal

from summarist.config.fields import cli
from summarist.errors import ConfigError, check_choice

Dedupe = Literal["pair", "source", "none"]


@dataclass
class DataConfig:
    """Where the data comes from and how it is cleaned. Field names match the CLI flags."""

    SHORTHAND: ClassVar[str] = "data"
    """`data: corpus/` in a preset means `data: {data: [corpus/]}`."""

    data: list[str] = field(metadata=cli(short="-d", metavar="PATH"))
    """Sources: files (.jsonl/.json/.csv/.tsv/.parquet), directories of split files, or hub ids
    (`name[:config]`); repeat to concatenate."""
    preset: str | None = None
    """Column preset of a well-known corpus (samsum, dialogsum, cnn_dailymail, ...)."""
    text_column: str | None = None
    """Column with the source text (auto-detected when unambiguous)."""
    summary_columns: list[str] = field(default_factory=list, metadata=cli(flag="--summary-column"))
    """Reference column(s); repeat for several references per example."""
    languages: list[str] = field(default_factory=list, metadata=cli(flag="--language"))
    """Language of each --data source, in order (kept in a `language` column)."""
    encoding: str = "utf-8"
    """Text encoding of local csv/tsv/json files."""
    header: bool = True
    """Whether csv/tsv files have a header row."""
    min_summary_words: int = 0
    """Drop examples whose reference has fewer words than this."""
    max_source_words: int | None = None
    """Drop examples whose source has more words than this."""
    dedupe: Dedupe = "pair"
    """Remove exact duplicates inside a split: same (text, summary) pair, same text, or none."""
    drop_leaked: bool = False
    """Drop validation/test examples whose source text also appears in train."""
    split_ratios: tuple[float, float, float] | None = field(
        default=None, metadata=cli(parse=lambda text: parse_ratios(text), metavar="A,B,C")
    )
    """Split a single file into train/validation/test by these ratios, e.g. 0.8,0.1,0.1."""
    seed: int = 42
    """Seed of the --split-ratios split and of shuffling concatenated sources (recorded in
    config.yaml, so a resumed run splits alike)."""
    require_summary: bool = field(
        default=True, metadata=cli(no_flag="set by the library: texts to summarize need none")
    )
    """Whether every split needs reference summaries (False for unlabeled inference data)."""
    cache_dir: str | None = field(default=None, metadata=cli(flag="--data-cache-dir"))
    """Folder of the data cache (default: $SUMMARIST_CACHE, else ~/.cache/summarist)."""
    cache: bool = field(default=True, metadata=cli(flag="--data-cache"))
    """Keep corpora read into Arrow and their token ids in the cache (--no-data-cache: a temporary
    cache removed at exit)."""
    data_workers: int | None = None
    """Processes that tokenize a corpus (default: every core; 1 tokenizes in this process)."""
    streaming: bool = False
    """Read the source files in place, shard by shard (no Arrow copy, no stored token ids):
    for corpora too big to keep twice on disk."""
    shuffle_buffer: int = 10_000
    """With --streaming: examples held in the shuffle buffer."""

    def __post_init__(self) -> None:
        if not self.data:
            raise ConfigError("no data given", "pass --data PATH_OR_HUB_ID")
        if self.languages and len(self.languages) != len(self.data):
            raise ConfigError(
                f"{len(self.languages)} --language values for {len(self.data)} --data sources",
                "give one --language per --data, in the same order",
            )
        if self.min_summary_words < 0:
            raise ConfigError("--min-summary-words must be >= 0")
        if self.max_source_words is not None and self.max_source_words < 1:
            raise ConfigError("--max-source-words must be >= 1")
        check_choice("--dedupe", self.dedupe, ("pair", "source", "none"))
        if self.data_workers is not None and self.data_workers < 1:
            raise ConfigError(
                f"--data-workers must be >= 1, got {self.data_workers}", "or leave it unset"
            )
        if self.shuffle_buffer < 1:
            raise ConfigError(
                f"--shuffle-buffer must be >= 1, got {self.shuffle_buffer}", "e.g. 10000"
            )
        if self.split_ratios is not None:
            ratios = tuple(float(r) for r in self.split_ratios)
            if len(ratios) != 3 or any(r < 0 for r in ratios) or abs(sum(ratios) - 1) > 1e-6:
                raise ConfigError(
                    f"--split-ratios {','.join(map(str, ratios))} must be three numbers >= 0 "
                    "that sum to 1",
                    "e.g. --split-ratios 0.8,0.1,0.1",
                )
            self.split_ratios = ratios  # type: ignore[assignment]


def parse_ratios(value: str | None) -> tuple[float, float, float] | None:
    """'0.8,0.1,0.1' → (0.8, 0.1, 0.1); raises ConfigError on junk."""
    if not value:
        return None
    try:
        parts = tuple(float(p) for p in value.split(","))
    except ValueError:
        raise ConfigError(
            f"--split-ratios '{value}' is not a list of numbers", "e.g. --split-ratios 0.8,0.1,0.1"
        ) from None
    if len(parts) != 3:
        raise ConfigError(
            f"--split-ratios needs three numbers, got {len(parts)}", "e.g. 0.8,0.1,0.1"
        )
    return parts  # type: ignore[return-value]


@dataclass
class DataStatsConfig:
    """`summarist data stats`: what to measure on a corpus."""

    data: DataConfig
    model: str | None = None
    """Also count tokens with this model's tokenizer (model or run directory, hub id)."""
    max_source_length: int | None = None
    """Source token cap to check truncation against (needs --model)."""
    max_target_length: int | None = None
    """Reference token cap to check truncation against (needs --model)."""
    plot: Path | None = None
    """Write length histograms to this PNG."""
