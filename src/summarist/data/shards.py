"""`--streaming`: a source file read in place, shard by shard, never copied into the cache.

For corpora too big to keep twice on disk (or in memory), the cache holds only what the
decisions need: each split's per-row keys (`data.keys`, ~70 bytes a row) and where each shard
of the file lies (a 16 MB run of JSON lines, or a parquet row group). Cleaning, dedupe, leakage
and ratio splits then run on the keys exactly as for a cached corpus (`data.prepare`), and a
`ShardedFile` stands in for the mapped Arrow table: it has the same interface, and reads a row
by parsing the shard that holds it from the source file again (the last shard read is kept).

A file changed after it was indexed is refused (its size and modification time are part of
the cache key, and checked again before a shard is read).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from summarist.data import cache
from summarist.data.columns import ColumnMap, Preset
from summarist.data.ingest import (
    Layout,
    Retype,
    Shard,
    head_rows,
    read_shard,
    resolve_layout,
    shard_blocks,
    to_canonical,
)
from summarist.data.keys import RowKeys, row_keys
from summarist.data.mapped import take_batched
from summarist.errors import DataError


def index_split(
    folder: Path, split: str, path: Path, cfg: Any, preset: Preset | None, where: str
) -> int:
    """Read `path` once: `folder/SPLIT.*` keys, shards and layout (no text); rows indexed."""
    types: dict[str, Any] = {}
    for _ in range(8):  # each retry fixes one more column's type (as data.loading.write_split)
        try:
            return _index_once(folder, split, path, cfg, preset, where, types)
        except Retype as change:
            types.update(change.types)
    raise DataError(f"{where}: column types keep changing between rows", "check the file")


def _index_once(
    folder: Path, split: str, path: Path, cfg: Any, preset: Preset | None, where: str,
    types: dict[str, Any],
) -> int:  # fmt: skip
    forced: dict[str, pa.DataType] = {}
    layout: Layout | None = None
    keys, shards = [], []
    for shard, block in shard_blocks(path, encoding=cfg.encoding, forced=forced):
        if layout is None:
            layout = resolve_layout(head_rows(block), cfg, preset, where)
            layout.types.update({k: v for k, v in types.items() if k in layout.extras})
        batch = to_canonical(block, layout, where)
        keys.append(row_keys(batch))
        shards.append(asdict(shard))
    if layout is None:  # an empty file: the same error as ever
        layout = resolve_layout([], cfg, preset, where)
    if not keys:
        keys = [row_keys(layout.schema().empty_table())]
    RowKeys.concat(keys).save(folder, split)
    with pa.OSFile(str(folder / f"{split}.schema.arrow"), "wb") as sink:
        pa.ipc.new_file(sink, layout.schema()).close()
    (folder / f"{split}.shards.json").write_text(
        json.dumps({"file": str(path.resolve()), "fingerprint": cache.file_fingerprint(path),
                    "text": layout.cmap.text, "summaries": list(layout.cmap.summaries),
                    "extras": layout.extras, "forced": sorted(forced), "shards": shards}),
        "utf-8",
    )  # fmt: skip
    return sum(s["rows"] for s in shards)


class ShardedFile:
    """One split of a source file, read shard by shard (the interface of `mapped.MappedTable`)."""

    def __init__(self, entry: Path, split: str) -> None:
        self.entry, self.split = Path(entry), split
        self.path = self.entry / f"{split}.shards.json"
        info = json.loads(self.path.read_text("utf-8"))
        self.file = Path(info["file"])
        self.fingerprint = info["fingerprint"]
        self.shards = [Shard(**s) for s in info["shards"]]
        self.forced = dict.fromkeys(info["forced"], pa.string())
        with pa.memory_map(str(self.entry / f"{split}.schema.arrow")) as source:
            self.schema = pa.ipc.open_file(source).schema
        extras = list(info["extras"])
        self.layout = Layout(ColumnMap(info["text"], tuple(info["summaries"])), extras,
                             {n: self.schema.field(n).type for n in extras})  # fmt: skip
        sizes = [s.rows for s in self.shards] or [0]
        self.starts = np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)])
        self.num_rows = int(self.starts[-1])
        self._last: tuple[int, pa.RecordBatch] | None = None
        self.shards_read: list[int] = []
        """Which shards this process parsed, in order (`--debug` logs say; tests check)."""

    def __reduce__(self) -> Any:
        return (ShardedFile, (self.entry, self.split))

    @property
    def column_names(self) -> list[str]:
        return list(self.schema.names)

    def num_batches(self) -> int:
        return max(1, len(self.shards))

    def batch(self, i: int) -> pa.RecordBatch:
        if self._last is not None and self._last[0] == i:
            return self._last[1]
        if not self.shards:
            return pa.RecordBatch.from_pylist([], schema=self.schema)
        now = cache.file_fingerprint(self.file) if self.file.exists() else None
        if now is None or {k: now[k] for k in ("size", "mtime_ns")} != {
            k: self.fingerprint[k] for k in ("size", "mtime_ns")
        }:
            raise DataError(
                f"{self.file} changed (or went) after --streaming indexed it",
                "run again: the new file is indexed anew",
            )
        block = read_shard(self.file, self.shards[i], self.forced)
        batch = to_canonical(block, self.layout, f"{self.file} [{self.split}]")
        self.shards_read.append(i)
        self._last = (i, batch)
        return batch

    def take(self, rows: np.ndarray, columns: Sequence[str] | None = None) -> pa.Table:
        return take_batched(self, np.asarray(rows, dtype=np.int64), columns)

    def release(self) -> None:
        self._last = None
