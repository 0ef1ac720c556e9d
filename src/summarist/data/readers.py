"""Read one local table file (jsonl, json, csv, tsv, parquet) into a list of row dicts.

Every failure is a `DataError` naming the file and, where it helps, the line or byte offset.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from summarist.errors import DataError

Row = dict[str, Any]

EXTENSIONS = (".jsonl", ".json", ".csv", ".tsv", ".parquet")
# csv.field_size_limit defaults to 128 KiB; long documents (BillSum, arXiv) exceed it.
csv.field_size_limit(2**31 - 1)


def read_table(
    path: Path, *, encoding: str = "utf-8", header: bool = True, names: list[str] | None = None
) -> list[Row]:
    """Read `path` into rows.

    Args:
        path: a .jsonl, .json (array or JSON lines), .csv, .tsv or .parquet file.
        encoding: text encoding for the text formats (a UTF-8 BOM is always accepted).
        header: whether csv/tsv files start with a header row.
        names: column names for header-less csv/tsv (default `col0, col1, ...`).
    """
    if not path.exists():
        raise DataError(f"file not found: {path}", "check the path given to --data")
    if path.is_dir():
        raise DataError(f"{path} is a directory", "use it as --data DIR with train.*/test.* files")
    suffix = path.suffix.lower()
    if suffix not in EXTENSIONS:
        raise DataError(
            f"unknown file extension '{suffix or path.name}' for {path}",
            f"use one of {', '.join(EXTENSIONS)} or a Hugging Face dataset id",
        )
    if suffix == ".parquet":
        return _read_parquet(path)
    text = decode_file(path, encoding)
    if suffix == ".jsonl":
        return parse_json_lines(text, path)
    if suffix == ".json":
        stripped = text.lstrip()
        if stripped.startswith("["):
            return read_json_document(text, path)
        if stripped.startswith("{") and is_single_document(stripped):
            return read_json_document(text, path)
        return parse_json_lines(text, path)
    return _read_delimited(text, path, "\t" if suffix == ".tsv" else ",", header, names)


def decode_file(path: Path, encoding: str) -> str:
    """The text of `path` in `encoding` (a UTF-8 BOM dropped); one-line errors for unreadable,
    binary or wrongly-encoded files."""
    try:
        data = path.read_bytes()
    except OSError as err:
        raise DataError(f"cannot read {path}: {err.strerror or err}") from err
    check_not_binary(path, data[:8192])
    return decode_bytes(data, path, encoding)


def check_not_binary(path: Path, head: bytes) -> None:
    if b"\x00" in head:
        raise DataError(f"{path} looks binary, not text", "pass a .txt, .jsonl or .csv file")


def decode_bytes(data: bytes, path: Path, encoding: str, offset: int = 0) -> str:
    """`data` (found at byte `offset` of `path`) decoded; a UTF-8 BOM at the file start dropped."""
    utf8 = encoding.lower().replace("_", "-") in ("utf-8", "utf8")
    enc = ("utf-8-sig" if offset == 0 else "utf-8") if utf8 else encoding
    try:
        return data.decode(enc)
    except UnicodeDecodeError as err:
        raise DataError(
            f"{path} is not valid {encoding}: undecodable byte 0x{data[err.start]:02x} "
            f"at byte offset {offset + err.start}",
            "pass the file's encoding with --encoding (e.g. --encoding latin-1)",
        ) from err
    except LookupError as err:
        raise DataError(f"unknown encoding '{encoding}'", "use e.g. utf-8 or latin-1") from err


def is_single_document(text: str) -> bool:
    """True when a '{'-leading .json file is one object rather than JSON lines."""
    first_line = text.split("\n", 1)[0].strip()
    try:
        json.loads(first_line)
    except json.JSONDecodeError:
        return True
    return text.count("\n") == 0 or not text.split("\n", 1)[1].strip()


def parse_json_lines(text: str, path: Path, first_line: int = 1) -> list[Row]:
    """Rows of JSON-lines `text` (blank lines skipped); errors name `path` and the line number,
    counting from `first_line` (a block of a file read piece by piece)."""
    rows: list[Row] = []
    # Lines end at "\n" only: str.splitlines() would also cut at U+2028, U+0085 or \x1c, which
    # JSON allows raw inside strings (and it would number the lines after them wrongly).
    for lineno, line in enumerate(text.split("\n"), start=first_line):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise DataError(
                f"{path}:{lineno}: malformed JSON line ({err.msg} at column {err.colno})",
                "fix or remove that line; each line must be one JSON object",
            ) from err
        if not isinstance(row, dict):
            raise DataError(
                f"{path}:{lineno}: expected a JSON object, got {type(row).__name__}",
                'write one object per line, e.g. {"text": ..., "summary": ...}',
            )
        rows.append(row)
    return rows


def read_json_document(text: str, path: Path) -> list[Row]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as err:
        raise DataError(
            f"{path}:{err.lineno}: malformed JSON ({err.msg} at column {err.colno})",
            "fix the file, or write one JSON object per line as .jsonl",
        ) from err
    if isinstance(doc, dict):
        lists = [v for v in doc.values() if isinstance(v, list)]
        if "data" in doc and isinstance(doc["data"], list):
            doc = doc["data"]
        elif len(lists) == 1:
            doc = lists[0]
        else:
            raise DataError(
                f"{path}: a JSON object must hold exactly one list of rows (e.g. under 'data')",
                "write a JSON array of objects or JSON lines instead",
            )
    bad = next((i for i, r in enumerate(doc) if not isinstance(r, dict)), None)
    if bad is not None:
        raise DataError(f"{path}: item {bad} of the JSON array is not an object", "fix that item")
    return list(doc)


def parse_delimited(text: str, path: Path, delimiter: str) -> list[list[str]]:
    """Rows of a csv/tsv text. A quote that is never closed is an error (the lenient parser
    would silently make the rest of the file one field); other stray quotes, common in real
    tsv files (CSL), are read leniently as before."""
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True))
    except csv.Error as err:
        if "end of data" in str(err):
            raise DataError(
                f'{path}: a quote (") opened in a field is never closed, so the rest of the '
                "file would be one field",
                'close the quote, or write a literal quote inside a quoted field as ""',
            ) from err
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return list(reader)
    except csv.Error as err:
        raise DataError(
            f"{path}:{reader.line_num}: malformed {delimiter!r} row ({err})",
            'quote fields that contain the delimiter; write a quote inside one as ""',
        ) from err


def _read_delimited(
    text: str, path: Path, delimiter: str, header: bool, names: list[str] | None
) -> list[Row]:
    records = parse_delimited(text, path, delimiter)
    records = [r for r in records if any(cell.strip() for cell in r)]
    if not records:
        return []
    if header and names is None:
        columns, records = records[0], records[1:]
    else:
        width = max(len(r) for r in records)
        columns = list(names) if names else [f"col{i}" for i in range(width)]
    return records_to_rows(records, columns, path, 2 if header else 1)


def records_to_rows(
    records: list[list[str]], columns: list[str], path: Path, first_line: int
) -> list[Row]:
    """csv records (blank ones already dropped) as rows of `columns`, short ones padded."""
    rows = []
    for lineno, record in enumerate(records, start=first_line):
        if len(record) > len(columns):
            raise DataError(
                f"{path}:{lineno}: row has {len(record)} fields but the header has {len(columns)}",
                "quote fields that contain the delimiter, or fix the header",
            )
        rows.append(dict(zip(columns, record + [""] * (len(columns) - len(record)), strict=True)))
    return rows


def _read_parquet(path: Path) -> list[Row]:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as err:  # pyarrow raises several unrelated types for broken files
        raise DataError(
            f"{path}: cannot read parquet ({err})", "check the file is complete"
        ) from err
    return table.to_pylist()
