"""`--streaming` examples: a split read shard by shard, shuffled through a buffer, tokenized as
they go (an `IterableDataset`).

The split's rows are grouped by the shard (a `shards.ShardedFile` shard, or a cached table's
record batch) that holds them. Each epoch the shards are put in a seeded order and dealt to the
ranks in turn, so rank r reads only shards r, r + N, r + 2N, ... of that order. A rank's
examples then pass through a shuffle buffer (`--shuffle-buffer` of them held): once it is
full, each example read replaces a seeded random one of the buffer, which is yielded.

The buffer's choices depend on nothing but positions and its seed (`ShuffleOrder`), so the
stream is the same on every run, and a stream can start at any example: the first `start`
choices are replayed on positions alone, the rows still in the buffer then are read from their
shards, and the stream goes on exactly as if it had never stopped (resuming at the exact
example, without reading what was consumed before).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import torch

from summarist.data.tokens import Encoder, Example

log = logging.getLogger(__name__)

ENCODE_ROWS = 256
"""Rows tokenized at a time."""


class ShuffleOrder:
    """The order in which a shuffle buffer of `size` yields the items 0..n-1 of a sequence.

    The first `size` items fill the buffer; each later item replaces a random member, which is
    yielded; at the end the buffer is shuffled and yielded. Positions only, no data: the rows
    a stream must hold at any point are `held()`.
    """

    def __init__(self, n: int, size: int, seed: str) -> None:
        self.n = n
        self.rng = random.Random(seed)  # a str seed is hashed with SHA-512: the same everywhere
        self.buffer = list(range(min(size, n)))
        self.next_read = len(self.buffer)
        self.drain: list[int] | None = None
        self.drained = 0
        self.emitted = 0

    def step(self) -> int | None:
        """The next item yielded (None when all n were)."""
        if self.drain is None:
            if self.next_read < self.n:
                j = self.rng.randrange(len(self.buffer))
                out, self.buffer[j] = self.buffer[j], self.next_read
                self.next_read += 1
                self.emitted += 1
                return out
            self.rng.shuffle(self.buffer)
            self.drain = self.buffer
        if self.drained < len(self.drain):
            out = self.drain[self.drained]
            self.drained += 1
            self.emitted += 1
            return out
        return None

    def held(self) -> list[int]:
        """Items read into the buffer and not yet yielded."""
        return list(self.buffer) if self.drain is None else self.drain[self.drained :]


def split_shards(split: Any, pieces: int = 1) -> list[np.ndarray]:
    """The split's positions grouped by the shard holding their rows; shards in storage order,
    rows in row order within each. With fewer than `pieces` shards (a small corpus on many
    ranks), each shard is cut into runs of rows until there are that many."""
    store = split.store
    rows = np.asarray(split.index, dtype=np.int64)
    ids = np.zeros(len(rows), dtype=np.int64)
    offset = 0
    for k, part in enumerate(store.parts):
        sel = (rows >= store.starts[k]) & (rows < store.starts[k + 1])
        local = rows[sel] - store.starts[k]
        ids[sel] = offset + np.searchsorted(part.table.starts, local, side="right") - 1
        offset += part.table.num_batches()
    order = np.lexsort((rows, ids))
    cuts = np.flatnonzero(np.diff(ids[order])) + 1
    shards = [piece for piece in np.split(order, cuts) if len(piece)]
    if 0 < len(shards) < pieces:
        per = -(-pieces // len(shards))
        shards = [run for s in shards for run in np.array_split(s, min(per, len(s)))]
    return shards


def rank_shards(n_shards: int, seed: int, epoch: int, rank: int, world: int) -> np.ndarray:
    """Which shards rank `rank` of `world` reads in `epoch`, in reading order."""
    return np.random.default_rng([seed, epoch]).permutation(n_shards)[rank::world]


class ExampleStream(torch.utils.data.IterableDataset):  # type: ignore[type-arg]
    """Rank `rank`'s examples of `split` in one epoch: (stream index, Example) from `start` on.

    >>> stream = ExampleStream(split, encoder, seed=42, epoch=0)  # doctest: +SKIP
    >>> next(iter(stream))  # doctest: +SKIP
    (0, Example(input_ids=array([...], dtype=int32), labels=array([...], dtype=int32)))
    """

    def __init__(
        self, split: Any, encoder: Encoder, *, seed: int, epoch: int, rank: int = 0,
        world: int = 1, buffer: int = 10_000, start: int = 0,
        shards: list[np.ndarray] | None = None,
    ) -> None:  # fmt: skip
        super().__init__()
        self.split, self.encoder = split, encoder
        self.seed, self.epoch, self.rank, self.world = seed, epoch, rank, world
        self.buffer, self.start = buffer, start
        shards = split_shards(split, 4 * world) if shards is None else shards
        self.mine = rank_shards(len(shards), seed, epoch, rank, world)
        pieces = [shards[i] for i in self.mine]
        self.positions = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int64)
        self.bounds = np.concatenate([[0], np.cumsum([len(p) for p in pieces], dtype=np.int64)])

    def __len__(self) -> int:
        return len(self.positions)

    def order(self) -> ShuffleOrder:
        return ShuffleOrder(len(self), self.buffer, f"{self.seed}:{self.epoch}:{self.rank}")

    def __iter__(self) -> Iterator[tuple[int, Example]]:
        log.debug("rank %d of %d, epoch %d: reads shards %s from example %d", self.rank,
                  self.world, self.epoch, self.mine.tolist(), self.start)  # fmt: skip
        order = self.order()
        for _ in range(self.start):
            order.step()
        rows: dict[int, tuple[Any, ...]] = {}
        self._load(rows, order.held())
        pending: list[int] = []
        index = self.start
        while True:
            if order.drain is None and order.next_read < order.n and order.next_read not in rows:
                self._load_shard_from(rows, order.next_read)
            item = order.step()
            if item is not None:
                pending.append(item)
            if pending and (item is None or len(pending) == ENCODE_ROWS):
                for example in self._encode([rows.pop(i) for i in pending]):
                    yield index, example
                    index += 1
                pending = []
            if item is None:
                return

    def _load(self, rows: dict[int, tuple[Any, ...]], items: Sequence[int]) -> None:
        """Rows of stream items `items` (any order), read shard by shard."""
        if not len(items):
            return
        items = np.sort(np.asarray(items, dtype=np.int64))
        for lo, hi in zip(self.bounds[:-1], self.bounds[1:], strict=True):
            sel = items[(items >= lo) & (items < hi)]
            if len(sel):
                self._read(rows, sel)

    def _load_shard_from(self, rows: dict[int, tuple[Any, ...]], item: int) -> None:
        """Items `item` to the end of its shard (the stream reads them next)."""
        k = int(np.searchsorted(self.bounds, item, side="right")) - 1
        self._read(rows, np.arange(item, self.bounds[k + 1]))

    def _read(self, rows: dict[int, tuple[Any, ...]], items: np.ndarray) -> None:
        table = self.split.take(self.positions[items], list(self.encoder.columns))
        columns = [table.column(c).to_pylist() for c in self.encoder.columns]
        rows.update(zip(items.tolist(), zip(*columns, strict=True), strict=True))

    def _encode(self, rows: list[tuple[Any, ...]]) -> list[Example]:
        columns = list(self.encoder.columns)
        table = pa.table({c: [r[k] for r in rows] for k, c in enumerate(columns)})
        ids, labels = self.encoder(table)
        return [Example(np.asarray(i, np.int32), np.asarray(lab, np.int32))
                for i, lab in zip(ids, labels, strict=True)]  # fmt: skip


def epoch_sizes(shards: list[np.ndarray], seed: int, epoch: int, world: int) -> list[int]:
    """Examples each rank reads in `epoch`."""
    sizes = np.array([len(s) for s in shards], dtype=np.int64)
    return [int(sizes[rank_shards(len(shards), seed, epoch, r, world)].sum()) for r in range(world)]
