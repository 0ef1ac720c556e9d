"""Shared test fixtures: reference-data location, thread pinning, small data writers."""

from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

pytest.register_assert_rewrite("tests.faults")  # its helpers assert for the tests that call them

# torch over-subscribes 2 cores badly when anything else runs; tests pin one thread.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
# The data cache (corpora read into Arrow, token ids) of the whole test session: a folder of its
# own, removed at the end, so no test reads another machine's ~/.cache or leaves files there.
if "SUMMARIST_TEST_KEEP_CACHE" not in os.environ:
    _CACHE = tempfile.mkdtemp(prefix="summarist-test-cache-")
    os.environ["SUMMARIST_CACHE"] = _CACHE
    atexit.register(shutil.rmtree, _CACHE, True)

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """`../shared/data`, or skip when this checkout has no reference data beside it."""
    if not (SHARED_DATA / "README.md").exists():
        pytest.skip(f"needs the real corpora of ../shared/data (not found at {SHARED_DATA})")
    return SHARED_DATA


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


@pytest.fixture
def tiny_corpus(tmp_path: Path) -> Path:
    """A directory with train/validation/test jsonl files of short dialogues."""
    people = ["Anna", "Ben", "Cara", "Dan", "Eve", "Finn"]
    things = ["the report", "lunch", "the train tickets", "a birthday gift", "the keys", "dinner"]
    rows = []
    for i in range(60):
        a, b = people[i % 6], people[(i + 1) % 6]
        thing = things[(i * 5) % 6]
        rows.append(
            {
                "id": f"d{i}",
                "dialogue": f"{a}: Did you get {thing}?\n{b}: Yes, I got {thing} today.\n"
                f"{a}: Great, thanks! See you at {i % 12 + 1} pm in room {100 + i}.",
                "summary": f"{b} got {thing} for {a}. They meet at {i % 12 + 1} pm in room {100 + i}.",
            }
        )
    write_jsonl(tmp_path / "train.jsonl", rows[:40])
    write_jsonl(tmp_path / "validation.jsonl", rows[40:50])
    write_jsonl(tmp_path / "test.jsonl", rows[50:])
    return tmp_path
