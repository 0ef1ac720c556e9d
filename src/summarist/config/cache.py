"""Typed configuration of `summarist data cache`: look at the data cache, or clean it."""

from __future__ import annotations

from dataclasses import dataclass, field

from summarist.config.fields import cli
from summarist.errors import ConfigError


@dataclass
class CacheConfig:
    """`summarist data cache`: list the data cache's entries, or remove them."""

    cache_dir: str | None = field(default=None, metadata=cli(flag="--data-cache-dir"))
    """Folder of the data cache (default: $SUMMARIST_CACHE, else ~/.cache/summarist)."""
    clear: bool = False
    """Remove the entries (all of them, or those unused for --older-than-days)."""
    older_than_days: float | None = None
    """With --clear: only entries unused for this many days."""

    def __post_init__(self) -> None:
        if self.older_than_days is not None:
            if self.older_than_days < 0:
                raise ConfigError(
                    f"--older-than-days must be >= 0, got {self.older_than_days}", "e.g. 30"
                )
            if not self.clear:
                raise ConfigError("--older-than-days only applies with --clear", "add --clear")
