"""Arrow tables and numpy arrays memory-mapped from disk, read a few rows at a time.

A corpus cache file is mapped, not loaded: opening it costs nothing, rows are read where they
lie, and `release()` hands the pages a scan touched back to the page cache, so scanning a
13 GB corpus does not leave 13 GB resident in the process. (Mapped pages count as resident
memory while they stay mapped; Python's `mmap.madvise(MADV_DONTNEED)` drops them, and the next
read faults them in again from the page cache.)

Rows are taken batch by batch: `pyarrow.Table.take` on a many-chunk column concatenates the
whole column first (a full copy), which is exactly what a mapped corpus must avoid.
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

BATCH_ROWS = 2048
"""Rows per record batch in cache files (a few MB of news text per batch)."""


class MappedFile:
    """A read-only memory map of one file; `release()` drops its resident pages."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        size = self.path.stat().st_size
        if size == 0:
            self._map: mmap.mmap | None = None
            self.buffer = pa.py_buffer(b"")
            return
        fd = os.open(self.path, os.O_RDONLY)
        try:
            self._map = mmap.mmap(fd, 0, prot=mmap.PROT_READ)
        finally:
            os.close(fd)
        self.buffer = pa.py_buffer(self._map)

    def release(self) -> None:
        if self._map is not None and hasattr(mmap, "MADV_DONTNEED"):
            self._map.madvise(mmap.MADV_DONTNEED)

    def __reduce__(self) -> Any:  # worker processes map the file again by path
        return (MappedFile, (self.path,))


class MappedTable:
    """An Arrow IPC file, mapped: rows by position, batches in order, nothing loaded up front."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._file = MappedFile(self.path)
        self._reader = pa.ipc.open_file(pa.BufferReader(self._file.buffer))
        self.schema = self._reader.schema
        sizes = [self._reader.get_batch(i).num_rows for i in range(self._reader.num_record_batches)]
        self.starts = np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)])
        self.num_rows = int(self.starts[-1])

    def __reduce__(self) -> Any:
        return (MappedTable, (self.path,))

    @property
    def column_names(self) -> list[str]:
        return list(self.schema.names)

    def batch(self, i: int) -> pa.RecordBatch:
        return self._reader.get_batch(i)

    def num_batches(self) -> int:
        return len(self.starts) - 1

    def take(self, rows: np.ndarray, columns: Sequence[str] | None = None) -> pa.Table:
        """Rows `rows` (any order, repeats allowed) as a small table, in that order."""
        return take_batched(self, np.asarray(rows, dtype=np.int64), columns)

    def release(self) -> None:
        self._file.release()


class MemoryTable:
    """An in-memory table with MappedTable's interface (splits built from Python lists)."""

    def __init__(self, table: pa.Table, batch_rows: int = BATCH_ROWS) -> None:
        batches = table.combine_chunks().to_batches(max_chunksize=batch_rows) or [
            pa.RecordBatch.from_pylist([], schema=table.schema)
        ]
        self._batches = batches
        self.schema = table.schema
        self.starts = np.concatenate(
            [[0], np.cumsum([b.num_rows for b in batches], dtype=np.int64)]
        )
        self.num_rows = int(self.starts[-1])
        self.path = None

    @property
    def column_names(self) -> list[str]:
        return list(self.schema.names)

    def batch(self, i: int) -> pa.RecordBatch:
        return self._batches[i]

    def num_batches(self) -> int:
        return len(self._batches)

    def take(self, rows: np.ndarray, columns: Sequence[str] | None = None) -> pa.Table:
        return take_batched(self, np.asarray(rows, dtype=np.int64), columns)

    def release(self) -> None:
        pass


def take_batched(source: Any, rows: np.ndarray, columns: Sequence[str] | None) -> pa.Table:
    """`rows` of `source` (a MappedTable or MemoryTable), read one record batch at a time."""
    names = list(columns) if columns is not None else source.column_names
    schema = pa.schema([source.schema.field(n) for n in names])
    if len(rows) == 0:
        return schema.empty_table()
    if rows.min() < 0 or rows.max() >= source.num_rows:
        raise IndexError(f"row out of range for a table of {source.num_rows} rows")
    order = np.argsort(rows, kind="stable")
    ordered = rows[order]
    which = np.searchsorted(source.starts, ordered, side="right") - 1
    pieces = []
    bounds = np.flatnonzero(np.diff(which)) + 1
    for seg in np.split(np.arange(len(ordered)), bounds):
        b = int(which[seg[0]])
        batch = source.batch(b).select(names)
        local = pa.array(ordered[seg] - source.starts[b])
        pieces.append(batch.take(local))
    table = pa.Table.from_batches(pieces, schema=schema)
    if np.all(order[:-1] < order[1:]):
        return table
    inverse = np.empty_like(order)
    inverse[order] = np.arange(len(order))
    return table.combine_chunks().take(pa.array(inverse))


def iter_batches(source: Any, columns: Sequence[str] | None = None) -> Iterator[tuple[int, Any]]:
    """(first row, record batch) over the whole table, in order; pages released as it goes."""
    names = list(columns) if columns is not None else source.column_names
    for i in range(source.num_batches()):
        yield int(source.starts[i]), source.batch(i).select(names)
        if i % 16 == 15:
            source.release()
    source.release()


class TableWriter:
    """Writes record batches to an Arrow IPC file (uncompressed, so it maps zero-copy)."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self.path = Path(path)
        self._sink = pa.OSFile(str(self.path), "wb")
        self._writer = pa.ipc.new_file(self._sink, schema)
        self.schema = schema
        self.rows = 0

    def write(self, batch: pa.RecordBatch | pa.Table) -> None:
        for piece in batch.to_batches(BATCH_ROWS) if isinstance(batch, pa.Table) else [batch]:
            if piece.num_rows:
                self._writer.write_batch(piece)
                self.rows += piece.num_rows

    def close(self) -> None:
        self._writer.close()
        self._sink.close()


def save_array(path: Path, array: np.ndarray) -> Path:
    """An .npy file (mapped back by `load_array`)."""
    np.save(path, np.ascontiguousarray(array), allow_pickle=False)
    return path


def load_array(path: Path) -> np.ndarray:
    """A mapped .npy file (read-only): nothing is read until it is indexed."""
    return np.load(path, mmap_mode="r", allow_pickle=False)
