"""Per-row facts that cleaning, splitting and statistics decide on, computed batch by batch.

For every row of a corpus: a 128-bit hash of its source (the duplicate and leakage key, i.e.
the text minus outer whitespace, as `prepare.normalize`), of its (source, references) pair and
of its first reference; whether source and references are empty; word counts (as
`prepare.count_words`); character length. They are small (~70 bytes a row against ~5 KB of
news text), saved beside the cached Arrow table, and every decision is numpy on them.

Trimming runs in Arrow with Python's own whitespace set and word counts on the UTF-8 bytes, so
they agree with `str.strip()` and `prepare.count_words` character for character (tested).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from hashlib import blake2b
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# Every character for which str.isspace() is true (what str.split() and str.strip() use).
PY_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
HASH = np.dtype("V16")


@dataclass
class RowKeys:
    """The per-row facts of one table (all arrays of the same length)."""

    text_hash: np.ndarray
    """blake2b-128 of the stripped source (UTF-8)."""
    pair_hash: np.ndarray
    """blake2b-128 of the stripped source and every stripped reference, length-prefixed."""
    summary_hash: np.ndarray
    """blake2b-128 of the stripped first reference ('' when there is none)."""
    text_empty: np.ndarray
    """The source is empty or only whitespace."""
    refs_nonempty: np.ndarray
    """At least one reference has a non-space character."""
    summary_empty: np.ndarray
    """The first reference is missing or only whitespace."""
    n_refs: np.ndarray
    source_words: np.ndarray
    summary_words: np.ndarray
    """Words of the first reference (0 when there is none)."""
    max_ref_words: np.ndarray
    """Words of the longest reference (0 when there is none)."""
    char_length: np.ndarray
    """Characters of the source (Python's len)."""

    def __len__(self) -> int:
        return len(self.text_hash)

    def take(self, rows: np.ndarray) -> RowKeys:
        return RowKeys(**{f.name: np.asarray(getattr(self, f.name))[rows] for f in fields(self)})

    @classmethod
    def concat(cls, parts: list[RowKeys]) -> RowKeys:
        return cls(**{f.name: np.concatenate([np.asarray(getattr(p, f.name)) for p in parts])
                      for f in fields(cls)})  # fmt: skip

    def save(self, folder: Path, stem: str) -> None:
        for f in fields(self):
            np.save(folder / f"{stem}.{f.name}.npy", np.ascontiguousarray(getattr(self, f.name)))

    @classmethod
    def load(cls, folder: Path, stem: str) -> RowKeys:
        return cls(**{f.name: np.load(folder / f"{stem}.{f.name}.npy", mmap_mode="r")
                      for f in fields(cls)})  # fmt: skip


def strip(array: pa.Array) -> pa.Array:
    """`str.strip()` of each string (nulls become '')."""
    return pc.utf8_trim(pc.fill_null(array, ""), characters=PY_WHITESPACE)


def count_words(array: pa.Array) -> np.ndarray:
    """`prepare.count_words` of each string: whitespace words; CJK characters one word each.

    Counted on the UTF-8 bytes with numpy: a word starts at a byte of a character that is
    neither whitespace (Python's set) nor CJK, when the byte before is not such a character or
    the string begins there; each CJK character is a word of its own. (For text without CJK
    this is `len(text.split())`, and with CJK `len(_CJK_OR_WORD.findall(text))`, as before.)
    """
    array = pc.fill_null(array, "")
    n = len(array)
    if n == 0:
        return np.zeros(0, dtype=np.int32)
    data, off = _utf8_parts(array)
    b = np.frombuffer(data, dtype=np.uint8)[off[0] : off[-1]]
    off = off - off[0]
    kind = _byte_classes(b)  # 0 other, 1 whitespace, 2 CJK (every byte of the character)
    other = kind == 0
    starts = other.copy()
    starts[1:] &= ~other[:-1]
    firsts = off[:-1][off[:-1] < off[1:]]
    starts[firsts] = other[firsts]  # a string's first byte starts a word whatever came before
    counts = _per_string(np.flatnonzero(starts), off)
    if (kind == 2).any():  # each CJK character (its lead byte) is a word
        counts += _per_string(np.flatnonzero((kind == 2) & ((b & 0xC0) != 0x80)), off)
    return counts.astype(np.int32)


def _per_string(positions: np.ndarray, off: np.ndarray) -> np.ndarray:
    """How many of the (sorted) byte `positions` fall in each string (bounds `off`)."""
    return np.diff(np.searchsorted(positions, off))


_ASCII_SPACE = np.zeros(256, dtype=bool)
_ASCII_SPACE[[9, 10, 11, 12, 13, 28, 29, 30, 31, 32]] = True
# Multi-byte whitespace in UTF-8 (the rest of PY_WHITESPACE): U+0085, U+00A0 (2 bytes); U+1680,
# U+2000-U+200A, U+2028, U+2029, U+202F, U+205F, U+3000 (3 bytes).
_WS2 = {(0xC2, 0x85), (0xC2, 0xA0)}
_WS3 = {tuple(c.encode("utf-8")) for c in PY_WHITESPACE if len(c.encode("utf-8")) == 3}
_CJK_SPANS = (
    (0x3040, 0x30FF),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xAC00, 0xD7AF),
    (0xF900, 0xFAFF),
)


def _byte_classes(b: np.ndarray) -> np.ndarray:
    """Per byte: 0 other character, 1 whitespace character, 2 CJK character."""
    kind = _ASCII_SPACE[b].astype(np.int8)
    high = np.flatnonzero(b >= 0xC2)
    if len(high) == 0:
        return kind
    pad = np.concatenate([b, np.zeros(3, dtype=np.uint8)])
    b1, b2 = pad[high + 1], pad[high + 2]
    for c0, c1 in _WS2:
        at = high[(b[high] == c0) & (b1 == c1)]
        kind[at] = kind[at + 1] = 1
    three = (b[high] >= 0xE0) & (b[high] < 0xF0)
    lead, t1, t2 = high[three], b1[three], b2[three]
    cp = (
        ((b[lead].astype(np.int64) & 0x0F) << 12)
        | ((t1.astype(np.int64) & 0x3F) << 6)
        | (t2.astype(np.int64) & 0x3F)
    )
    space = np.zeros(len(lead), dtype=bool)
    for seq in _WS3:
        space |= (b[lead] == seq[0]) & (t1 == seq[1]) & (t2 == seq[2])
    cjk = np.zeros(len(lead), dtype=bool)
    for lo, hi in _CJK_SPANS:
        cjk |= (cp >= lo) & (cp <= hi)
    for mask, value in ((space, 1), (cjk, 2)):
        at = lead[mask]
        kind[at] = kind[at + 1] = kind[at + 2] = value
    return kind


def _utf8_parts(array: pa.Array) -> tuple[memoryview, np.ndarray]:
    """The data buffer and offsets of a string array (no Python str is built)."""
    array = array.cast(pa.large_string()) if array.type == pa.string() else array
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int64)[
        array.offset : array.offset + len(array) + 1
    ]
    data = array.buffers()[2]
    return memoryview(data if data is not None else b""), offsets


def hash_strings(array: pa.Array) -> np.ndarray:
    """blake2b-128 digest of each string's UTF-8 bytes, as a (n,) V16 array."""
    data, off = _utf8_parts(array)
    digests = b"".join(
        blake2b(data[off[i] : off[i + 1]], digest_size=16).digest() for i in range(len(off) - 1)
    )
    return np.frombuffer(digests, dtype=HASH).copy()


def hash_pairs(texts: pa.Array, refs: pa.ListArray) -> np.ndarray:
    """blake2b-128 of (stripped text, stripped references), every part length-prefixed."""
    tdata, toff = _utf8_parts(texts)
    flat = strip(refs.flatten())
    rdata, roff = _utf8_parts(flat)
    lists = np.asarray(refs.offsets)[: len(refs) + 1] - int(refs.offsets[0].as_py())
    out = bytearray()
    for i in range(len(toff) - 1):
        h = blake2b(digest_size=16)
        h.update((int(toff[i + 1] - toff[i])).to_bytes(8, "little"))
        h.update(tdata[toff[i] : toff[i + 1]])
        for j in range(lists[i], lists[i + 1]):
            h.update((int(roff[j + 1] - roff[j])).to_bytes(8, "little"))
            h.update(rdata[roff[j] : roff[j + 1]])
        out += h.digest()
    return np.frombuffer(bytes(out), dtype=HASH).copy()


def _per_list(values: np.ndarray, offsets: np.ndarray, reduce: str) -> np.ndarray:
    """Sum ('any') or max of `values` over each list; 0 for empty lists."""
    if reduce == "sum":
        cum = np.concatenate([[0], np.cumsum(values, dtype=np.int64)])
        return cum[offsets[1:]] - cum[offsets[:-1]]
    out = np.zeros(len(offsets) - 1, dtype=np.int64)
    nonempty = offsets[1:] > offsets[:-1]
    if nonempty.any() and len(values):
        out[nonempty] = np.maximum.reduceat(values, offsets[:-1][nonempty])
    return out


def row_keys(batch: pa.RecordBatch | pa.Table) -> RowKeys:
    """The facts of every row of a canonical batch (`text`, `references`, `summary`)."""
    texts = batch.column("text")
    refs = batch.column("references")
    if isinstance(texts, pa.ChunkedArray):
        texts, refs = texts.combine_chunks(), refs.combine_chunks()
    summaries = batch.column("summary")
    if isinstance(summaries, pa.ChunkedArray):
        summaries = summaries.combine_chunks()
    stripped = strip(texts)
    stripped_summary = strip(summaries)
    flat = refs.flatten()
    offsets = np.asarray(refs.offsets)[: len(refs) + 1] - int(refs.offsets[0].as_py())
    ref_nonempty = pc.greater(pc.binary_length(strip(flat)), 0).to_numpy(zero_copy_only=False)
    ref_words = count_words(flat)
    return RowKeys(
        text_hash=hash_strings(stripped),
        pair_hash=hash_pairs(stripped, refs),
        summary_hash=hash_strings(stripped_summary),
        text_empty=pc.equal(pc.binary_length(stripped), 0).to_numpy(zero_copy_only=False),
        refs_nonempty=_per_list(ref_nonempty.astype(np.int64), offsets, "sum") > 0,
        summary_empty=pc.equal(pc.binary_length(stripped_summary), 0).to_numpy(
            zero_copy_only=False
        ),
        n_refs=np.diff(offsets).astype(np.int32),
        source_words=count_words(texts),
        summary_words=count_words(summaries),
        max_ref_words=_per_list(ref_words.astype(np.int64), offsets, "max").astype(np.int32),
        char_length=pc.utf8_length(pc.fill_null(texts, ""))
        .to_numpy(zero_copy_only=False)
        .astype(np.int64),
    )
