"""Local file readers: every format, and every malformed-input case gives a precise DataError."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from summarist.data.readers import read_table
from summarist.errors import DataError

ROWS = [
    {"text": "First document, with a comma.", "summary": "First."},
    {"text": 'Second "quoted"\nmulti-line document.', "summary": "Second."},
]


def test_jsonl_and_json_array_and_json_lines_in_dot_json(tmp_path: Path) -> None:
    lines = "".join(json.dumps(r) + "\n" for r in ROWS)
    (tmp_path / "a.jsonl").write_text(lines + "\n", "utf-8")
    (tmp_path / "b.json").write_text(json.dumps(ROWS), "utf-8")
    (tmp_path / "c.json").write_text(lines, "utf-8")
    (tmp_path / "d.json").write_text(json.dumps({"data": ROWS, "version": "1"}), "utf-8")
    for name in ("a.jsonl", "b.json", "c.json", "d.json"):
        assert read_table(tmp_path / name) == ROWS, name


def test_csv_tsv_with_quotes_newlines_and_bom(tmp_path: Path) -> None:
    import csv

    for name, delim in (("a.csv", ","), ("a.tsv", "\t")):
        with open(tmp_path / name, "w", newline="", encoding="utf-8-sig") as fh:
            writer = csv.DictWriter(fh, fieldnames=["text", "summary"], delimiter=delim)
            writer.writeheader()
            writer.writerows(ROWS)
        assert read_table(tmp_path / name) == ROWS


def test_headerless_tsv_gets_names(tmp_path: Path) -> None:
    (tmp_path / "x.tsv").write_text("to title\tabstract one\ttitle one\n", "utf-8")
    rows = read_table(tmp_path / "x.tsv", header=False, names=["task", "abstract", "title"])
    assert rows == [{"task": "to title", "abstract": "abstract one", "title": "title one"}]
    assert read_table(tmp_path / "x.tsv", header=False)[0]["col2"] == "title one"


def test_parquet(tmp_path: Path) -> None:
    pq.write_table(pa.Table.from_pylist(ROWS), tmp_path / "a.parquet")
    assert read_table(tmp_path / "a.parquet") == ROWS


def test_long_csv_field_is_read(tmp_path: Path) -> None:
    long_text = "word " * 60_000  # > csv's default 128 KiB field limit
    (tmp_path / "long.csv").write_text(f'text,summary\n"{long_text}",s\n', "utf-8")
    assert read_table(tmp_path / "long.csv")[0]["text"] == long_text


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        (
            "bad.jsonl",
            '{"text": "a", "summary": "b"}\n{"text": "a" "summary": "b"}\n',
            r"bad\.jsonl:2: malformed JSON line",
        ),
        ("list.jsonl", '["a", "b"]\n', r"list\.jsonl:1: expected a JSON object"),
        ("bad.json", '[{"text": 1},', r"bad\.json:1: malformed JSON"),
        ("data.xlsx", "x", r"unknown file extension '\.xlsx'"),
        ("ragged.csv", "text,summary\na,b,c\n", r"ragged\.csv:2: row has 3 fields"),
    ],
)
def test_malformed_files(tmp_path: Path, name: str, content: str, expected: str) -> None:
    (tmp_path / name).write_text(content, "utf-8")
    with pytest.raises(DataError, match=expected):
        read_table(tmp_path / name)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="file not found"):
        read_table(tmp_path / "nope.jsonl")


def test_non_utf8_reports_offset_and_suggests_encoding(tmp_path: Path) -> None:
    payload = b'{"text": "caf\xe9", "summary": "x"}\n'
    (tmp_path / "latin.jsonl").write_bytes(payload)
    with pytest.raises(DataError) as info:
        read_table(tmp_path / "latin.jsonl")
    message = str(info.value)
    assert f"byte offset {payload.index(0xE9)}" in message
    assert "0xe9" in message and "--encoding" in message
    assert read_table(tmp_path / "latin.jsonl", encoding="latin-1")[0]["text"] == "café"
