"""Texts to summarize: plain text, a folder of .txt, jsonl/json, csv/tsv/parquet, or stdin.

read_texts("report.txt")                  one document
read_texts("-")                           one document from stdin
read_texts("docs/")                       every *.txt in the folder (sorted), id = file name
read_texts("rows.jsonl", "dialogue")      one document per row (column auto-detected if None)
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from summarist.data.readers import decode_file, read_table
from summarist.errors import ColumnError, DataError, did_you_mean

TABLE_SUFFIXES = (".jsonl", ".json", ".csv", ".tsv", ".parquet")


@dataclass
class InputTexts:
    texts: list[str]
    ids: list[str]
    source: str


def read_texts(source: str, text_column: str | None = None, encoding: str = "utf-8") -> InputTexts:
    """Read the texts to summarize from a file, a folder of .txt files or stdin ("-").

    An input with nothing but empty or whitespace-only texts is refused: a model asked to
    summarize nothing writes a fluent summary of nothing, which reads as if it came from the
    input. A table with some empty rows is summarized, its empty rows flagged in the output.
    """
    inputs = _read_any(source, text_column, encoding)
    if not any(text.strip() for text in inputs.texts):
        which = (
            "is empty" if len(inputs.texts) == 1 else f"has only empty texts ({len(inputs.texts)})"
        )
        raise DataError(
            f"input {inputs.source} {which}", "give it text to summarize (or check --text-column)"
        )
    return inputs


def _read_any(source: str, text_column: str | None, encoding: str) -> InputTexts:
    if source == "-":
        return InputTexts([sys.stdin.read()], ["stdin"], "stdin")
    path = Path(source).expanduser()
    if not path.exists():
        raise DataError(f"input not found: {source}", "pass a file, a folder of .txt files or -")
    if path.is_dir():
        return _read_folder(path, encoding)
    if path.suffix.lower() in TABLE_SUFFIXES:
        return _read_table(path, text_column, encoding)
    return InputTexts([decode_file(path, encoding)], [path.name], str(path))


def _read_folder(path: Path, encoding: str) -> InputTexts:
    files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() == ".txt")
    if not files:
        raise DataError(f"no .txt files in {path}", "put one document per .txt file there")
    return InputTexts([decode_file(f, encoding) for f in files], [f.name for f in files], str(path))


def _read_table(path: Path, text_column: str | None, encoding: str) -> InputTexts:
    from summarist.data.columns import TEXT_CANDIDATES

    try:
        rows = read_table(path, encoding=encoding)
    except OSError as err:
        raise DataError(f"cannot read {path}: {err.strerror or err}") from err
    if not rows:
        raise DataError(f"{path} has no rows", "pass a table with one text per row")
    columns = list(rows[0])
    column = text_column or next((c for c in TEXT_CANDIDATES if c in columns), None)
    if column is None:
        raise ColumnError(
            f"cannot tell which column of {path.name} holds the text (columns: {', '.join(columns)})",
            "pass --text-column",
        )
    if column not in columns:
        raise ColumnError(
            f"no column '{column}' in {path.name} (columns: {', '.join(columns)})"
            + did_you_mean(column, columns),
        )
    texts = []
    for i, row in enumerate(rows):
        value = row.get(column)
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise ColumnError(
                f"column '{column}' of {path.name} holds {type(value).__name__} values, not text "
                f"(row {i + 1})",
                "pick the text column with --text-column",
            )
        texts.append(value)
    id_column = next((c for c in ("id", "fname", "doc_id") if c in columns), None)
    ids = [str(r.get(id_column, i)) if id_column else str(i) for i, r in enumerate(rows)]
    return InputTexts(texts, ids, str(path))
