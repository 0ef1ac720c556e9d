"""Source files → canonical Arrow record batches (`text`, `references`, `summary`, extras), streamed.

A file is read block by block (16 MB of JSON lines, a parquet row group, 20,000 csv records),
so reading a corpus never holds more than a block of it. JSON lines are parsed by Arrow's
JSON reader; a block Arrow cannot read the way Python's `json` does (a malformed line, a
number in a text column, mixed types) is read again line by line with the readers of
`data.readers`, so bad input gets today's one-line errors, with the line number in the file.

Columns are resolved once per split from its first 1,000 rows (as ever): text and reference
columns by `columns.resolve_columns`; other columns whose first 100 values are scalars are kept
as extras.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from summarist.data.columns import ColumnMap, Preset, reference_group, resolve_columns
from summarist.data.readers import (
    EXTENSIONS,
    Row,
    check_not_binary,
    decode_bytes,
    is_single_document,
    parse_delimited,
    parse_json_lines,
    read_json_document,
    records_to_rows,
)
from summarist.errors import DataError

BLOCK_BYTES = 16 << 20
HEAD_ROWS = 1000
SCALAR_ROWS = 100
CSV_BLOCK_ROWS = 20_000
_SCALAR = (str, int, float, bool, type(None))
BASE_FIELDS = [
    pa.field("text", pa.string()),
    pa.field("references", pa.list_(pa.string())),
    pa.field("summary", pa.string()),
]


class Retype(Exception):
    """An extra column's values changed type past the first block: read again with `types`."""

    def __init__(self, types: dict[str, pa.DataType]) -> None:
        super().__init__(str(types))
        self.types = types


@dataclass
class Block:
    """Part of a split as read: Python rows, or an Arrow table (with a way to get rows)."""

    first_row: int
    rows: list[Row] | None = None
    table: pa.Table | None = None
    raw: bytes | None = None
    """The JSON-lines bytes behind `table`, to re-read them line by line."""
    first_line: int = 1
    path: Path | None = None
    byte_offset: int = 0

    def python_rows(self) -> list[Row]:
        if self.rows is not None:
            return self.rows
        if self.raw is not None:
            assert self.path is not None
            text = decode_bytes(self.raw, self.path, "utf-8", offset=self.byte_offset)
            return parse_json_lines(text, self.path, self.first_line)
        assert self.table is not None
        return self.table.to_pylist()


@dataclass
class Layout:
    """How one split's rows map to canonical columns."""

    cmap: ColumnMap
    extras: list[str]
    types: dict[str, pa.DataType] = field(default_factory=dict)

    def schema(self) -> pa.Schema:
        return pa.schema(BASE_FIELDS + [pa.field(c, self.types[c]) for c in self.extras])


# ---------------------------------------------------------------------------- reading blocks


def iter_blocks(
    path: Path, *, encoding: str, header: bool, names: list[str] | None
) -> Iterator[Block]:
    """The blocks of one file, in order (errors as `readers.read_table` gives them)."""
    if not path.exists():
        raise DataError(f"file not found: {path}", "check the path given to --data")
    suffix = path.suffix.lower()
    if suffix not in EXTENSIONS:
        raise DataError(
            f"unknown file extension '{suffix or path.name}' for {path}",
            f"use one of {', '.join(EXTENSIONS)} or a Hugging Face dataset id",
        )
    if suffix == ".parquet":
        yield from _parquet_blocks(path)
        return
    try:
        with open(path, "rb") as fh:
            head = fh.read(8192)
    except OSError as err:
        raise DataError(f"cannot read {path}: {err.strerror or err}") from err
    check_not_binary(path, head)
    utf8 = encoding.lower().replace("_", "-") in ("utf-8", "utf8")
    if suffix in (".csv", ".tsv"):
        yield from _delimited_blocks(path, encoding, "\t" if suffix == ".tsv" else ",", header,
                                     names)  # fmt: skip
        return
    if suffix == ".json" and not _json_lines_file(path, encoding):
        rows = read_json_document(_decode_whole(path, encoding), path)
        yield from _row_blocks(rows)
        return
    if not utf8:  # Arrow reads UTF-8 only: other encodings go line by line
        text = _decode_whole(path, encoding)
        yield from _row_blocks(parse_json_lines(text, path))
        return
    yield from _json_line_blocks(path)


def _decode_whole(path: Path, encoding: str) -> str:
    try:
        data = path.read_bytes()
    except OSError as err:
        raise DataError(f"cannot read {path}: {err.strerror or err}") from err
    return decode_bytes(data, path, encoding)


def _json_lines_file(path: Path, encoding: str) -> bool:
    """A `.json` file holding JSON lines, not one document (as `readers.read_table` decides)."""
    with open(path, "rb") as fh:
        start = fh.read(BLOCK_BYTES)
        whole = len(start) < BLOCK_BYTES
    try:
        text = start.decode("utf-8-sig" if encoding.lower() in ("utf-8", "utf8") else encoding)
    except (UnicodeDecodeError, LookupError):
        text = _decode_whole(path, encoding)  # raises the one-line error
        whole = True
    stripped = text.lstrip()
    if stripped.startswith("["):
        return False
    if stripped.startswith("{"):
        if whole:
            return not is_single_document(stripped)
        first = stripped.split("\n", 1)[0].strip()
        try:
            json.loads(first)
        except json.JSONDecodeError:
            return False  # a pretty-printed document
    return True


def _row_blocks(rows: list[Row], size: int = CSV_BLOCK_ROWS) -> Iterator[Block]:
    for start in range(0, max(len(rows), 1), size):
        yield Block(start, rows=rows[start : start + size])


def _json_line_blocks(path: Path, forced: dict[str, pa.DataType] | None = None) -> Iterator[Block]:
    """16 MB pieces of a JSON-lines file cut after a newline, each parsed by Arrow.

    `forced`: columns read as strings whatever Arrow guesses (grown as the file is read)."""
    first_row, first_line, offset = 0, 1, 0
    forced = {} if forced is None else forced
    with open(path, "rb") as fh:
        carry, first = b"", True
        while True:
            chunk = fh.read(BLOCK_BYTES)
            data = carry + chunk
            if not data:
                break
            if chunk:
                cut = data.rfind(b"\n") + 1
                if cut == 0:
                    carry = data
                    continue
                data, carry = data[:cut], data[cut:]
            else:
                carry = b""
            start = offset
            if first and data.startswith(b"\xef\xbb\xbf"):
                data, start = data[3:], 3
            first = False
            decode_bytes(data, path, "utf-8", offset=start)  # a bad byte: today's error
            table = _parse_json_block(data, forced)
            block = Block(first_row, table=table, raw=data, first_line=first_line, path=path,
                          byte_offset=start)  # fmt: skip
            if table is None:
                block.rows = block.python_rows()
            yield block
            first_row += table.num_rows if table is not None else len(block.rows or [])
            first_line += data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
            offset = start + len(data)
            if not chunk:
                break


def _parse_json_block(data: bytes, forced: dict[str, pa.DataType]) -> pa.Table | None:
    """Arrow's reading of a block, or None where Python's `json` must decide.

    Arrow guesses timestamps from strings ("2020-01-01"); such columns are read again as
    strings (and stay so for the rest of the file). Arrow also accepts a few things Python's
    json rejects (two objects on one line): the row count must match the non-blank lines.
    """
    import pyarrow.json as pj

    for _ in range(2):
        options = pj.ParseOptions(
            explicit_schema=pa.schema(list(forced.items())) if forced else None,
            unexpected_field_behavior="infer",
        )
        try:
            table = pj.read_json(pa.BufferReader(data), parse_options=options)
        except (pa.ArrowInvalid, UnicodeDecodeError):
            return None
        stamps = [f.name for f in table.schema if pa.types.is_timestamp(f.type)]
        if not stamps:
            break
        forced.update(dict.fromkeys(stamps, pa.string()))
    else:
        return None
    if table.num_rows != _nonblank_lines(data):
        return None
    return table


_BLANK_BYTE = np.zeros(256, dtype=bool)
_BLANK_BYTE[[9, 10, 11, 12, 13, 32]] = True


def _nonblank_lines(data: bytes) -> int:
    """Lines of `data` holding a byte other than ASCII whitespace."""
    if not data:
        return 0
    b = np.frombuffer(data, dtype=np.uint8)
    ends = np.flatnonzero(b == 10)
    if len(b) and b[-1] != 10:
        ends = np.concatenate([ends, [len(b)]])
    starts = np.concatenate([[0], ends[:-1] + 1])
    # A line whose first byte is not whitespace is not blank; the few others are looked at.
    suspect = (starts >= ends) | _BLANK_BYTE[b[np.minimum(starts, len(b) - 1)]]
    blank = sum(
        not data[s:e].strip(b" \t\r\x0b\x0c")
        for s, e in zip(starts[suspect].tolist(), ends[suspect].tolist())
    )
    return len(starts) - blank


def _parquet_blocks(path: Path) -> Iterator[Block]:
    import pyarrow.parquet as pq

    try:
        file = pq.ParquetFile(path)
        first = 0
        for batch in file.iter_batches(batch_size=CSV_BLOCK_ROWS):
            yield Block(first, table=pa.Table.from_batches([batch]))
            first += batch.num_rows
        if first == 0:
            yield Block(0, table=file.schema_arrow.empty_table())
    except (OSError, pa.ArrowException) as err:
        raise DataError(
            f"{path}: cannot read parquet ({err})", "check the file is complete"
        ) from err


def _delimited_blocks(
    path: Path, encoding: str, delimiter: str, header: bool, names: list[str] | None
) -> Iterator[Block]:
    """csv/tsv records in blocks, with `readers`' rules (strict quotes first, then lenient)."""
    utf8 = encoding.lower().replace("_", "-") in ("utf-8", "utf8")
    if not header and names is None:
        # Without a header the width is the widest record anywhere: read whole (rare at scale).
        rows = records_to_rows(*_whole_records(path, encoding, delimiter), path, 1)
        yield from _row_blocks(rows)
        return
    try:
        yield from _stream_records(path, "utf-8-sig" if utf8 else encoding, delimiter, header,
                                   names, strict=True)  # fmt: skip
    except csv.Error as err:
        if "end of data" in str(err):
            raise DataError(
                f'{path}: a quote (") opened in a field is never closed, so the rest of the '
                "file would be one field",
                'close the quote, or write a literal quote inside a quoted field as ""',
            ) from err
        raise _Lenient() from err


class _Lenient(Exception):
    pass


def _whole_records(path: Path, encoding: str, delimiter: str) -> tuple[list[list[str]], list[str]]:
    records = parse_delimited(_decode_whole(path, encoding), path, delimiter)
    records = [r for r in records if any(cell.strip() for cell in r)]
    width = max((len(r) for r in records), default=0)
    return records, [f"col{i}" for i in range(width)]


def _stream_records(
    path: Path, encoding: str, delimiter: str, header: bool, names: list[str] | None,
    *, strict: bool,
) -> Iterator[Block]:  # fmt: skip
    with open(path, "rb") as raw:
        text = io.TextIOWrapper(raw, encoding=encoding, newline="", errors="strict")
        reader = csv.reader(text, delimiter=delimiter, strict=strict)
        columns: list[str] | None = list(names) if names else None
        pending: list[list[str]] = []
        first_line = 2 if header else 1
        first_row = 0
        try:
            for record in reader:
                if not any(cell.strip() for cell in record):
                    continue
                if columns is None:
                    columns = record
                    continue
                pending.append(record)
                if len(pending) == CSV_BLOCK_ROWS:
                    yield Block(first_row, rows=records_to_rows(pending, columns, path, first_line))
                    first_row += len(pending)
                    first_line += len(pending)
                    pending = []
        except UnicodeDecodeError:
            _decode_whole(path, encoding)  # the whole-file decode names the byte offset
            raise
        yield Block(first_row, rows=records_to_rows(pending, columns or [], path, first_line))


def iter_blocks_lenient(
    path: Path, *, encoding: str, header: bool, names: list[str] | None
) -> Iterator[Block]:
    """`iter_blocks`, retried with csv's lenient quoting when strict quoting failed."""
    try:
        yield from iter_blocks(path, encoding=encoding, header=header, names=names)
    except _Lenient:
        utf8 = encoding.lower().replace("_", "-") in ("utf-8", "utf8")
        delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
        enc = "utf-8-sig" if utf8 else encoding
        try:
            yield from _stream_records(path, enc, delimiter, header, names, strict=False)
        except csv.Error as err:
            raise DataError(
                f"{path}: malformed {delimiter!r} row ({err})",
                'quote fields that contain the delimiter; write a quote inside one as ""',
            ) from err


def table_blocks(table: pa.Table) -> Iterator[Block]:
    """A hub dataset's (already Arrow) split, in blocks."""
    first = 0
    for batch in table.to_batches(max_chunksize=CSV_BLOCK_ROWS):
        yield Block(first, table=pa.Table.from_batches([batch]))
        first += batch.num_rows
    if first == 0:
        yield Block(0, table=table.schema.empty_table())


# ------------------------------------------------------------------------- column layout


def head_rows(first: Block) -> list[Row]:
    """The first rows of a split as Python rows (what columns are resolved from)."""
    if first.rows is not None:
        return first.rows[:HEAD_ROWS]
    if first.raw is not None:
        assert first.path is not None
        lines = []
        for line in first.raw.split(b"\n"):
            if line.strip():
                lines.append(line)
            if len(lines) == HEAD_ROWS:
                break
        text = b"\n".join(lines).decode("utf-8")
        return parse_json_lines(text, first.path, first.first_line)[:HEAD_ROWS]
    assert first.table is not None
    return first.table.slice(0, HEAD_ROWS).to_pylist()


def resolve_layout(head: list[Row], cfg: Any, preset: Preset | None, where: str) -> Layout:
    """Text, reference and extra columns of a split, from its first rows (`head`)."""
    cols: dict[str, None] = {}
    for r in head:
        cols.update(dict.fromkeys(r))
    columns = list(cols)
    if preset and not cfg.preset and not _preset_fits(preset, columns):
        preset = None  # guessed from a name, but this file has its own layout
    cmap = resolve_columns(
        columns,
        text_column=cfg.text_column,
        summary_columns=cfg.summary_columns,
        preset=preset,
        where=where,
        require_summary=cfg.require_summary,
    )
    used = {cmap.text, *cmap.summaries}
    extras = [
        c
        for c in columns
        if c not in used and all(isinstance(r.get(c), _SCALAR) for r in head[:SCALAR_ROWS])
    ]
    return Layout(cmap, extras)


def _preset_fits(preset: Preset, columns: list[str]) -> bool:
    has_summary = preset.summary in columns or bool(reference_group(columns, preset.summary))
    return preset.text in columns and has_summary


# ----------------------------------------------------------------------- canonical batches


def to_canonical(block: Block, layout: Layout, where: str) -> pa.RecordBatch:
    """One block as a canonical batch; Arrow where it can, Python rows where it must."""
    if block.table is not None:
        batch = _arrow_batch(block.table, layout)
        if batch is not None:
            return batch
    return rows_to_batch(block.python_rows(), layout, where, block.first_row)


def rows_to_batch(rows: list[Row], layout: Layout, where: str, first_row: int) -> pa.RecordBatch:
    """Python rows → a canonical batch, with `data.loading`'s rules of old (tested)."""
    cmap = layout.cmap
    for col in (cmap.text, *cmap.summaries):
        check_text_column(rows, col, where, first_row)
    texts = [as_text(r.get(cmap.text)) for r in rows]
    references = []
    for r in rows:
        refs: list[str] = []
        for col in cmap.summaries:
            value = r.get(col)
            if isinstance(value, list):
                refs.extend(as_text(v) for v in value)
            elif value is not None:
                refs.append(as_text(value))
        references.append(refs)
    arrays: list[pa.Array] = [
        pa.array(texts, pa.string()),
        pa.array(references, pa.list_(pa.string())),
        pa.array([refs[0] if refs else "" for refs in references], pa.string()),
    ]
    for c in layout.extras:
        arrays.append(extra_from_python(c, [r.get(c) for r in rows], layout))
    return pa.RecordBatch.from_arrays(arrays, schema=layout.schema())


def extra_from_python(name: str, values: list[Any], layout: Layout) -> pa.Array:
    if name not in layout.types:
        try:
            array = pa.array(values)
        except (pa.ArrowException, OverflowError):
            layout.types[name] = pa.string()
            return pa.array([None if v is None else str(v) for v in values], pa.string())
        layout.types[name] = array.type
        return array
    target = layout.types[name]
    if pa.types.is_string(target):
        return pa.array([None if v is None else str(v) for v in values], pa.string())
    try:
        return pa.array(values, type=target)
    except (pa.ArrowException, OverflowError):
        probe = pa.array([v for v in values if v is not None][:1000] or [None])
        raise Retype({name: _unify(target, probe.type)}) from None


def _unify(old: pa.DataType, new: pa.DataType) -> pa.DataType:
    if pa.types.is_null(old):
        return new
    if pa.types.is_integer(old) and pa.types.is_floating(new):
        return pa.float64()
    return pa.string()


def _arrow_batch(table: pa.Table, layout: Layout) -> pa.RecordBatch | None:
    """A canonical batch straight from Arrow columns; None when a column needs Python's rules."""
    table = table.combine_chunks()
    n = table.num_rows
    text = _text_array(_column(table, layout.cmap.text, n))
    if text is None:
        return None
    ref_parts = []
    for col in layout.cmap.summaries:
        part = _reference_lists(_column(table, col, n))
        if part is None:
            return None
        ref_parts.append(part)
    values, offsets = _concat_lists(ref_parts, n)
    refs = pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), values)
    firsts = np.where(np.diff(offsets) > 0, offsets[:-1], len(values))
    summary = pa.concat_arrays([values, pa.array([""], pa.string())]).take(pa.array(firsts))
    arrays = [text, refs, summary]
    for c in layout.extras:
        arrays.append(_extra_from_arrow(c, _column(table, c, n), layout))
    return pa.RecordBatch.from_arrays(arrays, schema=layout.schema())


def _column(table: pa.Table, name: str, n: int) -> pa.Array:
    if name in table.column_names:
        col = table.column(name)
        return col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    return pa.nulls(n)


def _normalize(array: pa.Array) -> pa.Array:
    """Line endings unified (as `as_text`), nulls as ''."""
    array = array.cast(pa.string())
    if array.null_count:
        array = pc.fill_null(array, "")
    data = array.buffers()[2]
    if data is None or not (np.frombuffer(data, dtype=np.uint8) == 13).any():
        return array  # no \r anywhere (the usual case): nothing to replace
    return pc.replace_substring(pc.replace_substring(array, "\r\n", "\n"), "\r", "\n")


def _is_text(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_null(t)


def _text_array(array: pa.Array) -> pa.Array | None:
    if _is_text(array.type):
        return _normalize(array)
    if pa.types.is_list(array.type) or pa.types.is_large_list(array.type):
        if not _is_text(array.type.value_type):
            return None
        offsets = _list_offsets(array)
        flat = _normalize(array.flatten())
        lists = pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), flat)
        return pc.fill_null(pc.binary_join(lists, "\n"), "")
    return None


def _list_offsets(array: pa.Array) -> np.ndarray:
    """Zero-based offsets of a (maybe sliced) list array; null lists are empty."""
    offsets = np.asarray(array.offsets, dtype=np.int64)
    return offsets - offsets[0]


def _reference_lists(array: pa.Array) -> tuple[pa.Array, np.ndarray] | None:
    """(values, offsets) of one summary column's references per row."""
    n = len(array)
    if _is_text(array.type):
        present = pc.is_valid(array).to_numpy(zero_copy_only=False)
        offsets = np.concatenate([[0], np.cumsum(present, dtype=np.int64)])
        return _normalize(array.filter(pa.array(present))), offsets
    if pa.types.is_list(array.type) or pa.types.is_large_list(array.type):
        if not _is_text(array.type.value_type):
            return None
        return _normalize(array.flatten()), _list_offsets(array)
    del n
    return None


def _concat_lists(parts: list[tuple[pa.Array, np.ndarray]], n: int) -> tuple[pa.Array, np.ndarray]:
    """Row-wise concatenation of several (values, offsets) list columns."""
    if not parts:
        return pa.array([], pa.string()), np.zeros(n + 1, dtype=np.int64)
    if len(parts) == 1:
        return parts[0]
    lens = np.stack([np.diff(off) for _, off in parts])  # (columns, n)
    out_offsets = np.concatenate([[0], np.cumsum(lens.sum(axis=0))])
    before = np.cumsum(lens, axis=0) - lens
    dests = []
    for k, (_, off) in enumerate(parts):
        start = out_offsets[:-1] + before[k]
        within = np.arange(off[-1]) - np.repeat(off[:-1], lens[k])
        dests.append(np.repeat(start, lens[k]) + within)
    order = np.argsort(np.concatenate(dests), kind="stable")
    values = pa.concat_arrays([v for v, _ in parts]).take(pa.array(order))
    return values, out_offsets


def _extra_from_arrow(name: str, array: pa.Array, layout: Layout) -> pa.Array:
    if name not in layout.types:
        if not (pa.types.is_primitive(array.type) or _is_text(array.type)):
            layout.types[name] = pa.string()
        else:
            layout.types[name] = pa.string() if pa.types.is_large_string(array.type) else array.type
    target = layout.types[name]
    if array.type == target:
        return array
    if pa.types.is_null(array.type):
        return pa.nulls(len(array), target)
    try:
        return array.cast(target, safe=True)
    except (pa.ArrowException, ValueError):
        raise Retype({name: _unify(target, array.type)}) from None


def check_text_column(rows: list[Row], column: str, where: str, first_row: int = 0) -> None:
    """Text columns hold strings (or lists of strings, or nothing): a number or an object
    there means the wrong column was picked or the file is not what it seems."""
    for i, row in enumerate(rows):
        value = row.get(column)
        items = value if isinstance(value, list) else [value]
        bad = next((v for v in items if v is not None and not isinstance(v, str)), None)
        if bad is not None:
            raise DataError(
                f"{where}: column '{column}' holds {type(bad).__name__} values, not text "
                f"(row {first_row + i + 1}: {str(bad)[:40]!r})",
                "pick the text columns with --text-column / --summary-column, or fix the file",
            )


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "\n".join(as_text(v) for v in value)
    return str(value).replace("\r\n", "\n").replace("\r", "\n")


# ------------------------------------------------------------------- shards (--streaming)


@dataclass
class Shard:
    """Where one block of a file lies, to read it again alone: bytes [start, end) of a JSON-lines
    file (`group` -1), or parquet row group `group`."""

    first_row: int
    rows: int
    start: int = 0
    end: int = 0
    first_line: int = 1
    group: int = -1


def shard_blocks(
    path: Path, *, encoding: str, forced: dict[str, pa.DataType]
) -> Iterator[tuple[Shard, Block]]:
    """The blocks of a file `--streaming` can read again one at a time (JSON lines in UTF-8, or
    parquet by row group), each with where it lies; other files get a one-line error."""
    from summarist.errors import ConfigError

    if not path.exists():
        raise DataError(f"file not found: {path}", "check the path given to --data")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        for group, block in enumerate(_parquet_groups(path)):
            yield Shard(block.first_row, _rows(block), group=group), block
        return
    utf8 = encoding.lower().replace("_", "-") in ("utf-8", "utf8")
    if (
        suffix not in (".jsonl", ".json")
        or not utf8
        or (suffix == ".json" and not _json_lines_file(path, encoding))
    ):
        raise ConfigError(
            f"--streaming reads JSON lines (UTF-8) or parquet files, not {path.name}",
            "convert it to .jsonl, or drop --streaming",
        )
    with open(path, "rb") as fh:
        check_not_binary(path, fh.read(8192))
    for block in _json_line_blocks(path, forced):
        raw = block.raw or b""
        shard = Shard(block.first_row, _rows(block), block.byte_offset,
                      block.byte_offset + len(raw), block.first_line)  # fmt: skip
        yield shard, block


def _rows(block: Block) -> int:
    return (
        block.table.num_rows
        if block.rows is None and block.table is not None
        else len(block.rows or [])
    )


def read_shard(path: Path, shard: Shard, forced: dict[str, pa.DataType]) -> Block:
    """One shard of `path` read again, as `shard_blocks` read it."""
    if shard.group >= 0:
        import pyarrow.parquet as pq

        return Block(shard.first_row, table=pq.ParquetFile(path).read_row_group(shard.group))
    with open(path, "rb") as fh:
        fh.seek(shard.start)
        data = fh.read(shard.end - shard.start)
    table = _parse_json_block(data, dict(forced))
    block = Block(shard.first_row, table=table, raw=data, first_line=shard.first_line,
                  path=path, byte_offset=shard.start)  # fmt: skip
    if table is None:
        block.rows = block.python_rows()
    return block


def _parquet_groups(path: Path) -> Iterator[Block]:
    import pyarrow.parquet as pq

    try:
        file = pq.ParquetFile(path)
        first = 0
        for group in range(file.num_row_groups):
            table = file.read_row_group(group)
            yield Block(first, table=table)
            first += table.num_rows
        if file.num_row_groups == 0:
            yield Block(0, table=file.schema_arrow.empty_table())
    except (OSError, pa.ArrowException) as err:
        raise DataError(
            f"{path}: cannot read parquet ({err})", "check the file is complete"
        ) from err
