"""In-memory corpus: named splits of (text, references, extra columns), stored column-wise."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from summarist.errors import DataError, did_you_mean

# Canonical split names and the file/dataset names that mean the same thing.
SPLIT_ALIASES: dict[str, tuple[str, ...]] = {
    "train": ("train", "training"),
    "validation": ("validation", "dev", "val", "valid", "eval"),
    "test": ("test", "testing"),
}


def canonical_split(name: str) -> str | None:
    """`dev` → `validation`; unknown names → None."""
    low = name.lower()
    for canon, aliases in SPLIT_ALIASES.items():
        if low in aliases:
            return canon
    return None


@dataclass
class Split:
    """One split. `references[i]` holds every reference summary of example `i` (maybe several)."""

    name: str
    texts: list[str]
    references: list[list[str]]
    extra: dict[str, list[Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = len(self.texts)
        if len(self.references) != n or any(len(v) != n for v in self.extra.values()):
            raise ValueError(f"split {self.name}: columns have different lengths")

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def summaries(self) -> list[str]:
        """The first reference of each example ('' when there is none), as training uses."""
        return [refs[0] if refs else "" for refs in self.references]

    def select(self, indices: Sequence[int]) -> Split:
        return Split(
            self.name,
            [self.texts[i] for i in indices],
            [self.references[i] for i in indices],
            {k: [v[i] for i in indices] for k, v in self.extra.items()},
        )

    def rows(self) -> Iterator[dict[str, Any]]:
        for i in range(len(self)):
            row: dict[str, Any] = {"text": self.texts[i], "references": self.references[i]}
            row.update({k: v[i] for k, v in self.extra.items()})
            yield row


@dataclass
class Corpus:
    """Named splits plus where they came from and what preparation removed."""

    splits: dict[str, Split]
    source: str = ""
    report: dict[str, dict[str, int]] = field(default_factory=dict)
    single_file: bool = False

    def __getitem__(self, name: str) -> Split:
        return self.split(name)

    def split(self, name: str) -> Split:
        """Return split `name` (aliases like `dev` work), with a helpful error when absent."""
        canon = canonical_split(name) or name
        if canon in self.splits:
            return self.splits[canon]
        if name in self.splits:
            return self.splits[name]
        if self.single_file and len(self.splits) == 1:
            # One file without a split layout: whatever the caller asks for is that file, and
            # it is scored and labelled as the split asked for (`--split test`), not as "train".
            return replace(next(iter(self.splits.values())), name=canon)
        raise DataError(
            f"split '{name}' not found in {self.source or 'the data'}"
            f"{did_you_mean(name, self.splits)}",
            f"available splits: {', '.join(self.splits) or '(none)'}",
        )

    def names(self) -> list[str]:
        return list(self.splits)
