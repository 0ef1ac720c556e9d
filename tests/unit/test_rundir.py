"""Run-directory files are replaced atomically; a torn last log line is tolerated, no other."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from summarist.rundir import atomic_writer, read_json, read_jsonl, write_json, write_jsonl


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path: Path) -> None:
    path = write_json(tmp_path / "metrics.json", {"n": 1})
    with pytest.raises(RuntimeError), atomic_writer(path) as fh:
        fh.write('{"n": 2, "half')  # written, then the process fails before the rename
        fh.flush()
        assert read_json(path) == {"n": 1}  # the target is untouched while writing
        raise RuntimeError("disk full")
    assert read_json(path) == {"n": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_binary_writes_and_new_directories(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "blob.bin"
    with atomic_writer(path, "wb") as fh:
        fh.write(b"\x00\x01")
    assert path.read_bytes() == b"\x00\x01"
    assert [p.name for p in path.parent.iterdir()] == ["blob.bin"]


def test_jsonl_round_trip_keeps_unicode(tmp_path: Path) -> None:
    rows = [{"summary": "会议 明天"}, {"summary": "café"}]
    path = write_jsonl(tmp_path / "p.jsonl", rows)
    assert read_jsonl(path) == rows
    assert "会议" in path.read_text(encoding="utf-8")


def test_only_a_torn_last_line_is_skipped(tmp_path: Path) -> None:
    good = [json.dumps({"step": s}) for s in (1, 2)]
    torn = tmp_path / "torn.jsonl"
    torn.write_text("\n".join([*good, '{"step": 3, "lo']), encoding="utf-8")
    assert read_jsonl(torn) == [{"step": 1}, {"step": 2}]
    corrupt = tmp_path / "corrupt.jsonl"
    corrupt.write_text("\n".join([good[0], '{"step": 2, "lo', good[1]]), encoding="utf-8")
    with pytest.raises(json.JSONDecodeError):
        read_jsonl(corrupt)
