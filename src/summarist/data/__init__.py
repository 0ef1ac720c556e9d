"""Data layer: load local files, split directories or hub datasets into clean splits."""

from summarist.config.data import DataConfig
from summarist.data.columns import PRESETS, ColumnMap, Preset, resolve_columns
from summarist.data.corpus import Corpus, Split, canonical_split
from summarist.data.loading import load_corpus

__all__ = [
    "PRESETS",
    "ColumnMap",
    "Corpus",
    "DataConfig",
    "Preset",
    "Split",
    "canonical_split",
    "load_corpus",
    "resolve_columns",
]
