"""The data cache: where it lives, what its keys change with, what a second run reads, that a
build cut short leaves nothing half-written, and `summarist data cache` to look and clean."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from summarist.config.data import DataConfig
from summarist.data import cache, loading, tokens
from summarist.data.loading import load_corpus
from summarist.data.tokens import token_store
from summarist.errors import DataError
from summarist.training.collate import Seq2SeqEncoder
from tests.integration.test_distributed import run_here

ROOT = Path(__file__).resolve().parents[2]


def corpus_dir(tmp_path: Path, n: int = 40) -> Path:
    folder = tmp_path / "data"
    folder.mkdir(parents=True, exist_ok=True)
    for split, rows in (("train", range(n)), ("validation", range(n, n + 8))):
        with open(folder / f"{split}.jsonl", "w", encoding="utf-8") as fh:
            for i in rows:
                fh.write(json.dumps({"text": f"source {i} " * (i % 5 + 1), "summary": f"s {i}"}))
                fh.write("\n")
    return folder


def entries(root: Path, kind: str) -> list[str]:
    folder = root / kind
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) if folder.is_dir() else []  # fmt: skip


class Counter:
    def __init__(self, monkeypatch: pytest.MonkeyPatch, module: object, name: str) -> None:
        self.calls = 0
        original = getattr(module, name)

        def counted(*args: object, **kw: object) -> object:
            self.calls += 1
            return original(*args, **kw)

        monkeypatch.setattr(module, name, counted)


def test_the_cache_folder_is_the_flag_else_the_variable_else_xdg(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUMMARIST_CACHE", str(tmp_path / "env"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.cache_root(str(tmp_path / "flag")) == tmp_path / "flag"
    assert cache.cache_root(None) == tmp_path / "env"
    monkeypatch.delenv("SUMMARIST_CACHE")
    assert cache.cache_root(None) == tmp_path / "xdg" / "summarist"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache.cache_root(None) == Path("~/.cache/summarist").expanduser()


def test_a_second_load_maps_what_the_first_read_and_decided(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data, root = corpus_dir(tmp_path), tmp_path / "cache"
    reads = Counter(monkeypatch, loading, "write_split")
    decisions = Counter(monkeypatch, loading, "prepare")
    first = load_corpus(DataConfig([str(data)], cache_dir=str(root)))
    assert (reads.calls, decisions.calls) == (2, 1)  # train and validation read, decided once
    second = load_corpus(DataConfig([str(data)], cache_dir=str(root)))
    assert (reads.calls, decisions.calls) == (2, 1)
    assert list(second["train"].texts) == list(first["train"].texts)
    assert second.report == first.report and second.key == first.key
    # Other cleaning settings: the same Arrow copy, decided anew.
    third = load_corpus(DataConfig([str(data)], cache_dir=str(root), min_summary_words=2))
    assert (reads.calls, decisions.calls) == (2, 2)
    assert len(entries(root, "corpora")) == 1 and len(entries(root, "prepared")) == 2
    assert third.key != first.key
    # Other reading settings (which column is the text) make another copy.
    load_corpus(DataConfig([str(data)], cache_dir=str(root), text_column="summary",
                           summary_columns=["text"]))  # fmt: skip
    assert reads.calls == 4 and len(entries(root, "corpora")) == 2


def test_a_changed_file_is_read_again(tmp_path: Path) -> None:
    data, root = corpus_dir(tmp_path), tmp_path / "cache"
    cfg = DataConfig([str(data)], cache_dir=str(root))
    assert len(load_corpus(cfg)["train"]) == 40
    with open(data / "train.jsonl", "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"text": "one more source", "summary": "more"}) + "\n")
    corpus = load_corpus(cfg)
    assert len(corpus["train"]) == 41 and corpus["train"].texts[40] == "one more source"
    assert len(entries(root, "corpora")) == 2


def test_token_ids_are_kept_per_tokenizer_and_lengths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from summarist.models.pretrained import load_tokenizer

    data, root = corpus_dir(tmp_path), tmp_path / "cache"
    split = load_corpus(DataConfig([str(data)], cache_dir=str(root)))["train"]
    builds = Counter(monkeypatch, tokens, "build_store")
    tok = load_tokenizer("minilm")
    store, built = token_store(split, Seq2SeqEncoder(tok, "", 64, 16), root)
    assert built and builds.calls == 1
    again, built = token_store(split, Seq2SeqEncoder(tok, "", 64, 16), root)
    assert not built and builds.calls == 1
    assert np.array_equal(again.source_lengths, store.source_lengths)
    assert [e.input_ids.tolist() for e in again] == [e.input_ids.tolist() for e in store]
    shorter, built = token_store(split, Seq2SeqEncoder(tok, "", 8, 16), root)
    assert built and max(shorter.source_lengths) == 8
    prefixed, built = token_store(split, Seq2SeqEncoder(tok, "summarize: ", 64, 16), root)
    assert built and builds.calls == 3
    assert prefixed[0].input_ids.tolist() != store[0].input_ids.tolist()
    assert len(entries(root, "tokens")) == 3
    # A split of other rows (other cleaning) is tokenized on its own; the same rows are not.
    other = load_corpus(DataConfig([str(data)], cache_dir=str(root), max_source_words=4))
    assert len(other["train"]) < len(split)
    assert token_store(other["train"], Seq2SeqEncoder(tok, "", 64, 16), root)[1]
    same = load_corpus(DataConfig([str(data)], cache_dir=str(root), min_summary_words=2))
    assert not token_store(same["train"], Seq2SeqEncoder(tok, "", 64, 16), root)[1]


def test_a_build_that_fails_leaves_no_entry_and_the_next_one_builds(tmp_path: Path) -> None:
    root = tmp_path / "cache" / "corpora"

    def failing(tmp: Path) -> None:
        (tmp / "train.arrow").write_bytes(b"half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        cache.build_once(root / "k", failing)
    assert not (root / "k").exists() and not list(root.glob(".k.*.tmp"))

    def good(tmp: Path) -> None:
        cache.write_meta(tmp, {"describes": "x"})

    assert cache.build_once(root / "k", good) == (root / "k", True)
    assert cache.build_once(root / "k", good) == (root / "k", False)


KILLED = """
import sys, time
from pathlib import Path
from summarist.config.data import DataConfig
from summarist.data import loading

original = loading.write_split

def slow(folder, split, *args):
    rows = original(folder, split, *args)
    Path(sys.argv[2]).write_text("written")  # the first split is in the temp folder now
    time.sleep(120)
    return rows

loading.write_split = slow
loading.load_corpus(DataConfig([sys.argv[1]], cache_dir=sys.argv[3]))
"""


def test_kill_9_in_the_middle_of_a_cache_build_leaves_nothing_half_written(tmp_path: Path) -> None:
    data, root, ready = corpus_dir(tmp_path), tmp_path / "cache", tmp_path / "ready"
    child = subprocess.Popen([sys.executable, "-c", KILLED, str(data), str(ready), str(root)],
                             cwd=ROOT, env={**os.environ, "OMP_NUM_THREADS": "1"})  # fmt: skip
    try:
        deadline = time.time() + 120
        while not ready.exists() and child.poll() is None and time.time() < deadline:
            time.sleep(0.1)
        assert ready.exists(), "the child never reached the middle of its build"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(30)
    assert entries(root, "corpora") == []  # no entry: only the temp folder of the dead build
    assert list((root / "corpora").glob(".*.tmp"))
    corpus = load_corpus(DataConfig([str(data)], cache_dir=str(root)))
    assert len(corpus["train"]) == 40
    assert len(entries(root, "corpora")) == 1 and not list((root / "corpora").glob(".*.tmp"))


def test_no_cache_reads_into_a_temporary_cache_and_leaves_the_cache_folder_alone(
    tmp_path: Path,
) -> None:
    data, root = corpus_dir(tmp_path), tmp_path / "cache"
    corpus = load_corpus(DataConfig([str(data)], cache_dir=str(root), cache=False))
    assert len(corpus["train"]) == 40 and not root.exists()
    assert cache.TemporaryCache.root() != root


def test_data_cache_lists_and_clears(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data, root = corpus_dir(tmp_path), tmp_path / "cache"
    load_corpus(DataConfig([str(data)], cache_dir=str(root)))
    load_corpus(DataConfig([str(data)], cache_dir=str(root), dedupe="none"))
    assert run_here("data", "cache", "--data-cache-dir", str(root), "--json") == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["cache_dir"] == str(root)
    assert sorted(e["kind"] for e in listed["entries"]) == ["corpora", "prepared", "prepared"]
    assert listed["total_bytes"] == sum(e["bytes"] for e in listed["entries"]) > 0
    # Entries used within the last day stay with --older-than-days 1.
    assert run_here("data", "cache", "--data-cache-dir", str(root), "--clear", "--older-than-days",
                    "1", "--json") == 0  # fmt: skip
    assert json.loads(capsys.readouterr().out)["removed"]["entries"] == 0
    old = time.time() - 3 * 86400
    for meta in (root / "prepared").glob("*/meta.json"):
        os.utime(meta, (old, old))
    assert run_here("data", "cache", "--data-cache-dir", str(root), "--clear", "--older-than-days",
                    "2", "--json") == 0  # fmt: skip
    out = json.loads(capsys.readouterr().out)
    assert out["removed"]["entries"] == 2 and [e["kind"] for e in out["entries"]] == ["corpora"]
    assert run_here("data", "cache", "--data-cache-dir", str(root), "--clear") == 0
    assert entries(root, "corpora") == [] and entries(root, "prepared") == []
    assert run_here("data", "cache", "--older-than-days", "3") == 2
    assert "--older-than-days only applies with --clear" in capsys.readouterr().err


def test_data_stats_and_train_take_the_cache_dir_flag(tmp_path: Path) -> None:
    data, root = corpus_dir(tmp_path), tmp_path / "flag-cache"
    args = ["data", "stats", "--data", str(data), "--data-cache-dir", str(root), "--json"]
    assert run_here(*args) == 0
    assert len(entries(root, "corpora")) == 1


def test_a_corrupt_line_200000_of_a_big_jsonl_is_named(tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl"
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(1, 250_001):
            fh.write('{"text": "t' if i == 200_000 else f'{{"text": "t{i}", "summary": "s"}}')
            fh.write("\n")
    for streaming in (False, True):
        cfg = DataConfig([str(path)], cache_dir=str(tmp_path / "cache"), streaming=streaming)
        with pytest.raises(DataError, match=r"train\.jsonl:200000: malformed JSON line"):
            load_corpus(cfg)
    assert entries(tmp_path / "cache", "corpora") == entries(tmp_path / "cache", "streams") == []
