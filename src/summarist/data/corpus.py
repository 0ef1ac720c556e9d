"""A corpus: named splits of (text, references, extra columns), each a view on Arrow rows.

A `Split` is a table (memory-mapped from the data cache, or built in memory from Python lists)
plus the positions of the rows it keeps, in order. Nothing is loaded until it is read:
`split.texts[i]`, slices and iteration read rows a batch at a time, and `split.batches()` hands
whole Arrow batches to vectorised code. A split of 287,000 news articles costs its row
positions (8 bytes each) until something reads it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

import numpy as np
import pyarrow as pa

from summarist.data.keys import RowKeys, row_keys
from summarist.data.mapped import BATCH_ROWS, MemoryTable
from summarist.errors import DataError, did_you_mean

# Canonical split names and the file/dataset names that mean the same thing.
SPLIT_ALIASES: dict[str, tuple[str, ...]] = {
    "train": ("train", "training"),
    "validation": ("validation", "dev", "val", "valid", "eval"),
    "test": ("test", "testing"),
}
BASE_COLUMNS = ("text", "references", "summary")
READ_ROWS = 1024
"""Rows read at a time when a column is iterated."""


def canonical_split(name: str) -> str | None:
    """`dev` → `validation`; unknown names → None."""
    low = name.lower()
    for canon, aliases in SPLIT_ALIASES.items():
        if low in aliases:
            return canon
    return None


@dataclass
class Part:
    """One table of a store, with its per-row keys and constant columns (`source`, `language`)."""

    table: Any
    """A `mapped.MappedTable` or `mapped.MemoryTable`."""
    keys: RowKeys | None = None
    tags: dict[str, Any] = field(default_factory=dict)

    def __getstate__(self) -> dict[str, Any]:  # to a worker process: the keys stay here
        return {"table": self.table, "keys": None, "tags": self.tags}


class RowStore:
    """Tables read end to end as one: global row r is row r - start of the part holding it."""

    def __init__(self, parts: list[Part]) -> None:
        self.parts = parts
        self.starts = np.concatenate([[0], np.cumsum([p.table.num_rows for p in parts])]).astype(
            np.int64
        )
        types: dict[str, pa.DataType] = {}
        for p in parts:
            for f in p.table.schema:
                types.setdefault(f.name, f.type)
            for name, value in p.tags.items():
                types.setdefault(name, pa.string() if isinstance(value, str) else pa.null())
        self.types = types

    @property
    def num_rows(self) -> int:
        return int(self.starts[-1])

    def take(self, rows: np.ndarray, columns: Sequence[str]) -> pa.Table:
        """Global rows `rows` (any order) with `columns`, in that order."""
        rows = np.asarray(rows, dtype=np.int64)
        which = np.searchsorted(self.starts, rows, side="right") - 1
        if len(self.parts) == 1:
            return self._take_part(0, rows, columns)
        pieces, positions = [], []
        for k in np.unique(which):
            sel = np.flatnonzero(which == k)
            pieces.append(self._take_part(int(k), rows[sel] - self.starts[k], columns))
            positions.append(sel)
        table = pa.concat_tables(pieces).combine_chunks()
        order = np.concatenate(positions)
        inverse = np.empty_like(order)
        inverse[order] = np.arange(len(order))
        return table.take(pa.array(inverse))

    def _take_part(self, k: int, local: np.ndarray, columns: Sequence[str]) -> pa.Table:
        part = self.parts[k]
        own = [c for c in columns if c in part.table.column_names]
        table = part.table.take(local, own)
        arrays = []
        for c in columns:
            if c in own:
                arrays.append(table.column(c))
            elif c in part.tags:
                arrays.append(pa.array([part.tags[c]] * len(local), self.types[c]))
            else:
                arrays.append(pa.nulls(len(local), self.types[c]))
        return pa.Table.from_arrays(arrays, names=list(columns))

    def keys(self, rows: np.ndarray) -> RowKeys:
        """The per-row keys of global rows `rows`."""
        rows = np.asarray(rows, dtype=np.int64)
        which = np.searchsorted(self.starts, rows, side="right") - 1
        for part in self.parts:
            if part.keys is None:
                part.keys = RowKeys.concat(
                    [row_keys(part.table.batch(i)) for i in range(part.table.num_batches())]
                )
        if len(self.parts) == 1:
            return self.parts[0].keys.take(rows)  # type: ignore[union-attr]
        full = RowKeys.concat([p.keys for p in self.parts])  # type: ignore[misc]
        del which
        return full.take(rows)

    def release(self) -> None:
        for part in self.parts:
            part.table.release()


def memory_store(
    texts: Sequence[str],
    references: Sequence[Sequence[str]],
    extra: dict[str, Sequence[Any]] | None = None,
) -> RowStore:
    """A store holding Python lists (small splits: tests, predictions files)."""
    from summarist.data.columns import ColumnMap
    from summarist.data.ingest import Layout, extra_from_python

    refs = [list(r) for r in references]
    extra = extra or {}
    layout = Layout(ColumnMap("text", ()), list(extra))
    arrays = [
        pa.array(list(texts), pa.string()),
        pa.array(refs, pa.list_(pa.string())),
        pa.array([r[0] if r else "" for r in refs], pa.string()),
    ] + [extra_from_python(k, list(v), layout) for k, v in extra.items()]
    table = pa.Table.from_arrays(arrays, schema=layout.schema())
    return RowStore([Part(MemoryTable(table))])


class Column(Sequence[Any]):
    """One column of a split, read on demand: `col[i]`, `col[a:b]` (a list), iteration."""

    def __init__(self, split: Split, name: str) -> None:
        self._split = split
        self.name = name

    def __len__(self) -> int:
        return len(self._split)

    @overload
    def __getitem__(self, i: int) -> Any: ...
    @overload
    def __getitem__(self, i: slice) -> list[Any]: ...
    def __getitem__(self, i: int | slice) -> Any:
        if isinstance(i, slice):
            positions = np.arange(len(self))[i]
            return self._split.take(positions, [self.name]).column(0).to_pylist()
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"row {i} of a split of {n}")
        return self._split.take(np.array([i % n]), [self.name]).column(0)[0].as_py()

    def __iter__(self) -> Iterator[Any]:
        for _, table in self._split.batches([self.name], READ_ROWS):
            yield from table.column(0).to_pylist()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Column | list | tuple):
            return len(self) == len(other) and list(self) == list(other)
        return NotImplemented

    def __repr__(self) -> str:
        head = self[:3]
        return f"Column({self.name!r}, {len(self)} rows: {head!r}{' ...' if len(self) > 3 else ''})"

    def to_arrow(self) -> pa.ChunkedArray:
        """The whole column as Arrow (read into memory: for small splits or one batch at a time)."""
        return self._split.take(np.arange(len(self)), [self.name]).column(0)


class Split:
    """One split. `references[i]` holds every reference summary of example `i` (maybe several).

    Built from Python lists (`Split("test", texts, references, extra)`) or, by the loader, from
    a cached store and the positions of the rows it keeps.
    """

    def __init__(
        self,
        name: str,
        texts: Sequence[str] | None = None,
        references: Sequence[Sequence[str]] | None = None,
        extra: dict[str, Sequence[Any]] | None = None,
        *,
        store: RowStore | None = None,
        rows: np.ndarray | None = None,
    ) -> None:
        self.name = name
        if store is None:
            texts, references = list(texts or []), list(references or [])
            n = len(texts)
            if len(references) != n or any(len(v) != n for v in (extra or {}).values()):
                raise ValueError(f"split {name}: columns have different lengths")
            store = memory_store(texts, references, extra)
        self.store = store
        self.index = np.arange(store.num_rows, dtype=np.int64) if rows is None else rows
        self._keys: RowKeys | None = None

    def __len__(self) -> int:
        return len(self.index)

    def __repr__(self) -> str:
        return f"Split({self.name!r}, {len(self)} rows)"

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_keys": None}

    def fingerprint(self) -> str | None:
        """What identifies these rows in the cache (None for a split built from Python lists)."""
        if any(p.table.path is None for p in self.store.parts):
            return None
        import hashlib

        h = hashlib.sha256()
        for part in self.store.parts:
            h.update(str(part.table.path).encode() + repr(sorted(part.tags.items())).encode())
        h.update(np.ascontiguousarray(self.index).tobytes())
        return h.hexdigest()[:24]

    @property
    def texts(self) -> Column:
        return Column(self, "text")

    @property
    def references(self) -> Column:
        return Column(self, "references")

    @property
    def summaries(self) -> Column:
        """The first reference of each example ('' when there is none), as training uses."""
        return Column(self, "summary")

    @property
    def extra(self) -> dict[str, Column]:
        return {c: Column(self, c) for c in self.store.types if c not in BASE_COLUMNS}

    def take(self, positions: np.ndarray, columns: Sequence[str]) -> pa.Table:
        """Rows at `positions` of this split (not of the store) with `columns`."""
        return self.store.take(self.index[np.asarray(positions, dtype=np.int64)], columns)

    def batches(
        self, columns: Sequence[str] = BASE_COLUMNS, size: int = BATCH_ROWS,
        start: int = 0, end: int | None = None,
    ) -> Iterator[tuple[int, pa.Table]]:  # fmt: skip
        """(position of the first row, table) for rows [start, end) in order, `size` at a time.

        Pages read are handed back to the page cache as it goes (`mapped.MappedFile.release`).
        """
        end = len(self) if end is None else end
        for i, lo in enumerate(range(start, end, size)):
            yield lo, self.take(np.arange(lo, min(lo + size, end)), columns)
            if i % 16 == 15:
                self.store.release()
        self.store.release()

    def keys(self) -> RowKeys:
        """Per-row keys (hashes, word counts, lengths) of this split's rows, in order."""
        if self._keys is None:
            self._keys = self.store.keys(self.index)
        return self._keys

    def count_matches(self, pattern: str, column: str = "text") -> dict[str, int]:
        """How often each match of regex `pattern` occurs in `column`, in order of first
        appearance (as counting `re.findall` row by row would give). Arrow skips the rows
        without a match; only the rows with one are looked at in Python."""
        import re

        import pyarrow.compute as pc

        regex = re.compile(pattern)
        counts: dict[str, int] = {}
        for _, table in self.batches([column]):
            values = pc.fill_null(table.column(0), "")
            hits = pc.match_substring_regex(values, pattern)
            for text in pc.filter(values, hits).to_pylist():
                for match in regex.findall(text):
                    counts[match] = counts.get(match, 0) + 1
        return counts

    def distinct_summaries(self) -> np.ndarray:
        """Positions of the first row of each distinct non-empty (stripped) first reference,
        in row order: the pool `dict.fromkeys(s.strip() for s in summaries)` held."""
        k = self.keys()
        rows = np.flatnonzero(~np.asarray(k.summary_empty, dtype=bool))
        _, first = np.unique(np.asarray(k.summary_hash)[rows], return_index=True)
        return rows[np.sort(first)]

    def select(self, indices: Sequence[int] | np.ndarray) -> Split:
        picked = Split(self.name, store=self.store, rows=self.index[np.asarray(indices, np.int64)])
        return picked

    def renamed(self, name: str) -> Split:
        out = Split(name, store=self.store, rows=self.index)
        out._keys = self._keys
        return out

    def rows(self) -> Iterator[dict[str, Any]]:
        columns = list(self.store.types)
        for _, table in self.batches(columns, READ_ROWS):
            for row in table.to_pylist():
                row["references"] = row["references"] or []
                row.pop("summary", None)
                yield row


@dataclass
class Corpus:
    """Named splits plus where they came from and what preparation removed."""

    splits: dict[str, Split]
    source: str = ""
    report: dict[str, dict[str, int]] = field(default_factory=dict)
    single_file: bool = False
    key: str | None = None
    """The data cache's key of this prepared corpus (None when it was built in memory)."""

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
            return next(iter(self.splits.values())).renamed(canon)
        raise DataError(
            f"split '{name}' not found in {self.source or 'the data'}"
            f"{did_you_mean(name, self.splits)}",
            f"available splits: {', '.join(self.splits) or '(none)'}",
        )

    def names(self) -> list[str]:
        return list(self.splits)
