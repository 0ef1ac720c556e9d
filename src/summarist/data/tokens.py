"""Tokenize once: a split's token ids stored next to its cached corpus, memory-mapped back.

The store holds, per example, `input_ids` and `labels` as flat int32 arrays with int64 offsets
(so `labels` may hold -100 for positions the loss skips, as decoder-only training needs). How a
pair becomes ids is the encoder's business (`Encoder`: seq2seq in `training.collate`, a chat
prompt for decoder-only models): the store keys on the encoder's `key()`, which names
everything its output depends on (tokenizer, prefix or template, lengths), and on the split's
rows. A second run with the same data and settings maps the store: no tokenizing, and the
lengths that batching needs are the offsets' differences.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from summarist.data import cache
from summarist.data.mapped import MappedFile

log = logging.getLogger(__name__)

FILES = ("input_ids", "labels")


@dataclass
class Example:
    """One tokenized training example (lists or int32 arrays)."""

    input_ids: Sequence[int]
    labels: Sequence[int]


class Encoder(Protocol):
    """Turns (source, summary) pairs into (input_ids, labels); a picklable object."""

    columns: tuple[str, ...]
    """Split columns it reads (e.g. ("text", "summary"))."""

    def key(self) -> dict[str, Any]:
        """Everything the ids depend on (JSON-able): the store's cache key includes it."""
        ...

    def __call__(self, table: Any) -> tuple[list[Sequence[int]], list[Sequence[int]]]:
        """(input_ids, labels) of each row of `table` (an Arrow table of `columns`)."""
        ...


def tokenizer_fingerprint(tokenizer: Any) -> dict[str, Any]:
    """What identifies a tokenizer's behaviour: its full serialization, class and versions."""
    import tokenizers
    import transformers

    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        # Truncation and padding are per-call state the last call left behind, not behaviour.
        state = json.loads(backend.to_str())
        state.pop("truncation", None)
        state.pop("padding", None)
        blob = json.dumps(state, sort_keys=True).encode("utf-8")
    else:  # a slow (Python) tokenizer: its pickled state
        import pickle

        blob = pickle.dumps(tokenizer)
    extra = {a: str(getattr(tokenizer, a)) for a in ("src_lang", "tgt_lang", "padding_side")
             if hasattr(tokenizer, a)}  # fmt: skip
    return {
        "class": type(tokenizer).__name__,
        "sha256": hashlib.sha256(blob).hexdigest(),
        "transformers": transformers.__version__,
        "tokenizers": tokenizers.__version__,
        **extra,
    }


def _encode_chunk(encoder: Encoder, table: Any) -> tuple[np.ndarray, ...]:
    ids, labels = encoder(table)
    out = []
    for seqs in (ids, labels):
        lengths = np.fromiter((len(s) for s in seqs), dtype=np.int64, count=len(seqs))
        parts = [np.asarray(s, dtype=np.int32) for s in seqs if len(s)]
        out += [np.concatenate(parts) if parts else np.zeros(0, np.int32), lengths]
    return tuple(out)


class _ChunkEncoder:
    """`encoder` as the chunk function `parallel.map_split` runs (picklable)."""

    def __init__(self, encoder: Encoder) -> None:
        self.encoder = encoder

    def __call__(self, table: Any) -> tuple[np.ndarray, ...]:
        return _encode_chunk(self.encoder, table)


def build_store(folder: Path, split: Any, encoder: Encoder, workers: int | None) -> None:
    """Tokenize `split` into `folder` (the cache's temp folder), chunk by chunk, in order."""
    from summarist.data.parallel import map_split

    lengths: dict[str, list[np.ndarray]] = {name: [] for name in FILES}
    files = {name: open(folder / f"{name}.i32", "wb") for name in FILES}  # noqa: SIM115
    try:
        for ids, id_lens, labels, label_lens in map_split(
            split, encoder.columns, _ChunkEncoder(encoder), workers=workers
        ):
            ids.tofile(files["input_ids"])
            labels.tofile(files["labels"])
            lengths["input_ids"].append(id_lens)
            lengths["labels"].append(label_lens)
    finally:
        for fh in files.values():
            fh.close()
    for name in FILES:
        lens = np.concatenate(lengths[name]) if lengths[name] else np.zeros(0, np.int64)
        np.save(folder / f"{name}.offsets.npy", np.concatenate([[0], np.cumsum(lens)]))
    cache.write_meta(folder, {"describes": f"{split.name}: {len(split)} examples",
                              "examples": len(split), "encoder": encoder.key()})  # fmt: skip


class TokenStore(Sequence[Example]):
    """A split's token ids, mapped: `store[i]` is an Example of int32 views (no copy)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._files = {n: MappedFile(self.folder / f"{n}.i32") for n in FILES}
        self._ids = {n: np.frombuffer(f.buffer, dtype=np.int32) for n, f in self._files.items()}
        self._offsets = {n: np.load(self.folder / f"{n}.offsets.npy") for n in FILES}

    def __len__(self) -> int:
        return len(self._offsets["input_ids"]) - 1

    def __getitem__(self, i: int) -> Example:  # type: ignore[override]
        if not -len(self) <= i < len(self):
            raise IndexError(i)
        out = []
        for name in FILES:
            off = self._offsets[name]
            out.append(self._ids[name][off[i] : off[i + 1]])
        return Example(*out)

    @property
    def source_lengths(self) -> np.ndarray:
        """Tokens of each example's input (int64)."""
        return np.diff(self._offsets["input_ids"])

    @property
    def label_lengths(self) -> np.ndarray:
        """Tokens of each example's labels (int64)."""
        return np.diff(self._offsets["labels"])

    def key(self) -> dict[str, Any]:
        return json.loads((self.folder / cache.META).read_text("utf-8"))["encoder"]

    def release(self) -> None:
        """Hand the pages read so far back to the page cache (their RSS goes)."""
        for f in self._files.values():
            f.release()


def token_store(
    split: Any, encoder: Encoder, root: Path, *, workers: int | None = None
) -> tuple[TokenStore, bool]:
    """The store of `split` tokenized by `encoder`, built unless cached: (store, built now)."""
    fp = split.fingerprint()
    base = root if fp is not None else cache.TemporaryCache.root()
    key = cache.cache_key("tokens", fp or id(split), split.name, len(split), encoder.key())
    entry, built = cache.build_once(
        base / "tokens" / key, lambda tmp: build_store(tmp, split, encoder, workers)
    )
    if built:
        log.debug("tokenized %d %s examples into %s", len(split), split.name, entry)
    return TokenStore(entry), built
