"""The training split under `--streaming`: batches cut from each rank's `data.stream` stream.

With a mapped token store every rank knows every example's length, so one global batch order
is made per epoch and each rank takes its share (`collate.rank_share`). A stream has no such
table: each rank reads its own shards (`data.stream.ExampleStream`) and cuts its own batches
from what it reads, `--batch-size` examples each: with length grouping, every
`MEGA_FACTOR` batches' worth of examples is sorted by source length, cut, and the batches put
in a seeded order. An epoch has as many steps as the rank with the fewest examples can fill
(every rank computes every rank's count from the shard sizes, so they agree without talking);
the others' surplus is left for that epoch.

A batch is a function of (seed, epoch, rank, batch number): resuming at batch k restarts the
stream at the first example of k's group (`ExampleStream(start=...)`), which reads nothing
consumed before.
"""

from __future__ import annotations

import math
import random
from typing import Any

import numpy as np

from summarist.data.stream import ExampleStream, epoch_sizes, split_shards
from summarist.data.tokens import Encoder, Example
from summarist.errors import ConfigError

MEGA_FACTOR = 50
"""Batches sorted by length together (as `collate.length_grouped_batches`)."""
LENGTH_SAMPLE = 10_000
"""Examples tokenized to set max_new_tokens from the references (a seeded sample of shards)."""


class RankBatches(list):  # type: ignore[type-arg]
    """Batches that are already this rank's own (the loop takes no share of them)."""


class StreamedTrainSet:
    """The training examples of one rank, streamed: `len()` counts the whole split."""

    def __init__(
        self, split: Any, encoder: Encoder, *, seed: int, buffer: int, rank: int, world: int,
        batch_size: int, group_by_length: bool = True,
    ) -> None:  # fmt: skip
        self.split, self.encoder = split, encoder
        self.seed, self.buffer, self.rank, self.world = seed, buffer, rank, world
        self.batch_size, self.group_by_length = batch_size, group_by_length
        self.shards = split_shards(split, pieces=4 * world)
        self._epoch: StreamBatches | None = None

    def __len__(self) -> int:
        return len(self.split)

    def epoch(self, epoch: int) -> StreamBatches:
        """The batches of `epoch` (this rank's), read as they are asked for."""
        self._epoch = StreamBatches(self, epoch)
        return self._epoch

    def __getitem__(self, i: int) -> Example:
        assert self._epoch is not None, "no epoch started"
        return self._epoch.example(i)

    def release(self) -> None:
        self.split.store.release()

    def label_length_sample(self, workers: int | None = None) -> np.ndarray:
        """Label lengths of a seeded sample of whole shards (about LENGTH_SAMPLE examples): what
        max_new_tokens is set from without tokenizing the whole corpus."""
        from summarist.data.parallel import map_split

        order = np.random.default_rng([self.seed, 7]).permutation(len(self.shards))
        picked, total = [], 0
        for k in order:
            if total >= LENGTH_SAMPLE:
                break
            picked.append(self.shards[k])
            total += len(self.shards[k])
        if not picked:
            return np.zeros(0, dtype=np.int64)
        sample = self.split.select(np.sort(np.concatenate(picked)))
        lengths = [np.array([len(lab) for lab in labels], dtype=np.int64)
                   for _, labels in map_split(sample, self.encoder.columns, self.encoder,
                                              workers=workers)]  # fmt: skip
        return np.concatenate(lengths)


class StreamBatches:
    """One epoch's batches of one rank: `len()` agreed by every rank, slices read on demand."""

    def __init__(self, train: StreamedTrainSet, epoch: int) -> None:
        self.train, self.epoch = train, epoch
        size = train.batch_size
        counts = epoch_sizes(train.shards, train.seed, epoch, train.world)
        self.examples_here = counts[train.rank]
        self.n_batches = min(math.ceil(c / size) for c in counts)
        if self.n_batches == 0:
            raise ConfigError(
                f"--streaming: {len(train)} training examples leave a rank without any in "
                f"epoch {epoch} ({train.world} ranks)",
                "train on more data, or on fewer processes",
            )
        self.group = size * MEGA_FACTOR if train.group_by_length else size
        self._stream: Any = None
        self._next = 0  # the stream index the open stream yields next
        self._groups: dict[int, tuple[list[list[int]], dict[int, Example]]] = {}

    def __len__(self) -> int:
        return self.n_batches

    def __getitem__(self, k: slice) -> RankBatches:
        assert isinstance(k, slice), "streamed batches are read in slices, in order"
        start, stop, _ = k.indices(self.n_batches)
        return RankBatches(self._batch(b) for b in range(start, stop))

    def example(self, i: int) -> Example:
        for _, examples in self._groups.values():
            if i in examples:
                return examples[i]
        raise KeyError(f"example {i} of the stream is not among the batches read")

    def _batch(self, b: int) -> list[int]:
        per_group = self.group // self.train.batch_size
        g, j = divmod(b, per_group)
        if g not in self._groups:
            self._groups = {k: v for k, v in self._groups.items() if k == g - 1}
            self._groups[g] = self._read_group(g)
        return self._groups[g][0][j]

    def _read_group(self, g: int) -> tuple[list[list[int]], dict[int, Example]]:
        lo = g * self.group
        hi = min(lo + self.group, self.examples_here)
        if self._stream is None or self._next != lo:
            t = self.train
            self._stream = iter(ExampleStream(
                t.split, t.encoder, seed=t.seed, epoch=self.epoch, rank=t.rank, world=t.world,
                buffer=t.buffer, start=lo, shards=t.shards,
            ))  # fmt: skip
        examples: dict[int, Example] = {}
        while len(examples) < hi - lo:
            i, example = next(self._stream)
            examples[i] = example
        self._next = hi
        ids = list(examples)
        size = self.train.batch_size
        if not self.train.group_by_length:
            return [ids[i : i + size] for i in range(0, len(ids), size)], examples
        ids.sort(key=lambda i: -len(examples[i].input_ids))  # stable: ties in stream order
        batches = [ids[i : i + size] for i in range(0, len(ids), size)]
        t = self.train
        random.Random(f"{t.seed}:{self.epoch}:{t.rank}:{g}").shuffle(batches)
        return batches, examples
