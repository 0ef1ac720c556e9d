"""Loading sources into a Corpus and cleaning it: empties, duplicates, filters, splits, leakage."""

from __future__ import annotations

from pathlib import Path

import pytest

from summarist.data import DataConfig, load_corpus
from summarist.data.prepare import count_words
from summarist.errors import ConfigError, DataError
from tests.conftest import write_jsonl


def _rows(n: int, prefix: str = "doc") -> list[dict]:
    return [
        {"text": f"{prefix} {i} " + "word " * (i % 7 + 3), "summary": f"sum {i} a b"}
        for i in range(n)
    ]


def test_split_directory_with_aliases(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "train.jsonl", _rows(5))
    write_jsonl(tmp_path / "dev.jsonl", _rows(3, "dev"))
    (tmp_path / "README.md").write_text("not data")
    corpus = load_corpus(DataConfig(data=[str(tmp_path)]))
    assert corpus.names() == ["train", "validation"]
    assert len(corpus["dev"]) == 3 and corpus.split("validation") is corpus["val"]
    with pytest.raises(
        DataError, match="split 'tst' not found.*available splits: train, validation"
    ):
        corpus.split("tst")


def test_empty_directory_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(DataError, match="no split files in directory"):
        load_corpus(DataConfig(data=[str(tmp_path)]))


def test_empty_pairs_duplicates_and_report(tmp_path: Path) -> None:
    rows = _rows(6)
    rows += [
        {"text": "", "summary": "orphan summary"},
        {"text": "orphan text", "summary": "  "},
        dict(rows[0]),  # exact duplicate pair
        {"text": rows[1]["text"], "summary": "another reference"},  # duplicate source
    ]
    corpus = load_corpus(DataConfig(data=[str(write_jsonl(tmp_path / "train.jsonl", rows))]))
    report = corpus.report["train"]
    assert report["rows"] == 10 and report["empty"] == 2
    assert report["duplicate_pairs"] == 1 and report["duplicate_sources"] == 2
    assert report["removed_duplicates"] == 1 and report["kept"] == len(corpus["train"]) == 7
    by_source = load_corpus(DataConfig(data=[str(tmp_path / "train.jsonl")], dedupe="source"))
    assert len(by_source["train"]) == 6
    keep_all = load_corpus(DataConfig(data=[str(tmp_path / "train.jsonl")], dedupe="none"))
    assert len(keep_all["train"]) == 8


def test_length_filters(tmp_path: Path) -> None:
    rows = [
        {"text": "a b c d e", "summary": "Title"},
        {"text": "a b c", "summary": "a real summary"},
        {"text": "a " * 50, "summary": "long source here"},
    ]
    path = str(write_jsonl(tmp_path / "x.jsonl", rows))
    corpus = load_corpus(DataConfig(data=[path], min_summary_words=3, max_source_words=20))
    assert corpus["train"].texts == ["a b c"]
    assert corpus.report["train"]["short_summary"] == 1
    assert corpus.report["train"]["long_source"] == 1
    with pytest.raises(DataError, match="empty after filtering.*--min-summary-words"):
        load_corpus(DataConfig(data=[path], min_summary_words=10))


def test_cjk_word_counting() -> None:
    assert count_words("采用修正的参数") == 7
    assert count_words("GPU 加速 of models") == 5
    assert count_words("plain english words") == 3


def test_ratio_split_is_deterministic_and_keeps_duplicates_together(tmp_path: Path) -> None:
    rows = _rows(100)
    rows += [{"text": rows[3]["text"], "summary": f"alt {i}"} for i in range(5)]
    path = str(write_jsonl(tmp_path / "all.jsonl", rows))
    cfg = DataConfig(data=[path], split_ratios=(0.8, 0.1, 0.1), seed=7)
    a, b = load_corpus(cfg), load_corpus(cfg)
    assert [len(a[s]) for s in ("train", "validation", "test")] == [
        len(b[s]) for s in ("train", "validation", "test")
    ]
    assert a["test"].texts == b["test"].texts
    assert sum(len(a[s]) for s in a.names()) == 105
    assert all(a.report[s]["leaked"] == 0 for s in a.names())
    other = load_corpus(DataConfig(data=[path], split_ratios=(0.8, 0.1, 0.1), seed=8))
    assert other["test"].texts != a["test"].texts
    with pytest.raises(ConfigError, match="sum to 1"):
        DataConfig(data=[path], split_ratios=(0.8, 0.3, 0.1))


def test_leakage_report_and_drop(tmp_path: Path) -> None:
    train = _rows(10)
    val = _rows(2, "val") + [train[4], {"text": train[5]["text"] + "\n", "summary": "other"}]
    write_jsonl(tmp_path / "train.jsonl", train)
    write_jsonl(tmp_path / "validation.jsonl", val)
    corpus = load_corpus(DataConfig(data=[str(tmp_path)]))
    assert corpus.report["validation"]["leaked"] == 2 and len(corpus["validation"]) == 4
    dropped = load_corpus(DataConfig(data=[str(tmp_path)], drop_leaked=True))
    assert len(dropped["validation"]) == 2 and dropped.report["validation"]["kept"] == 2


def test_concatenation_keeps_source_and_language(tmp_path: Path) -> None:
    en = write_jsonl(tmp_path / "en" / "train.jsonl", _rows(20, "english"))
    es = write_jsonl(
        tmp_path / "es" / "train.jsonl", [{"texto": f"hola {i}", "resumen": "r"} for i in range(10)]
    )
    with pytest.raises(DataError):  # Spanish columns are not auto-detectable
        load_corpus(DataConfig(data=[str(en), str(es)]))
    write_jsonl(es, [{"text": f"hola documento {i}", "summary": f"resumen {i}"} for i in range(10)])
    corpus = load_corpus(DataConfig(data=[str(en), str(es)], languages=["en", "es"], seed=1))
    train = corpus["train"]
    assert len(train) == 30
    assert train.extra["language"].count("es") == 10 and set(train.extra["source"]) == {
        str(en),
        str(es),
    }
    first_ten = train.extra["language"][:10]
    assert first_ten != ["en"] * 10, "concatenated sources must be shuffled"
    for text, lang in zip(train.texts, train.extra["language"], strict=True):
        assert text.startswith("hola") == (lang == "es")
    with pytest.raises(ConfigError, match="one --language per --data"):
        DataConfig(data=[str(en), str(es)], languages=["en"])


def test_multi_reference_columns_and_line_endings(tmp_path: Path) -> None:
    rows = [{"dialogue": "A: hi\r\nB: hello", "summary1": "r1", "summary2": "r2", "summary3": "r3"}]
    corpus = load_corpus(DataConfig(data=[str(write_jsonl(tmp_path / "test.jsonl", rows))]))
    assert corpus["test"].references == [["r1", "r2", "r3"]]
    assert corpus["test"].texts == ["A: hi\nB: hello"]
    explicit = DataConfig(
        data=[str(tmp_path / "test.jsonl")], summary_columns=["summary2", "summary1"]
    )
    assert load_corpus(explicit)["test"].references == [["r2", "r1"]]


def test_single_file_answers_any_split_name(tmp_path: Path) -> None:
    corpus = load_corpus(DataConfig(data=[str(write_jsonl(tmp_path / "mine.jsonl", _rows(3)))]))
    # the same rows, labelled as the split asked for (evaluate --split test scores "test")
    assert corpus.split("test").texts == corpus.split("train").texts
    assert (corpus.split("test").name, corpus.split("train").name) == ("test", "train")


def test_hub_id_fails_fast_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from summarist.errors import OfflineError

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    start = time.perf_counter()
    with pytest.raises(OfflineError, match="needs the Hugging Face Hub.*local files with --data"):
        load_corpus(DataConfig(data=["knkarthick/dialogsum"]))
    assert time.perf_counter() - start < 15


def test_path_like_missing_spec_is_file_not_found() -> None:
    with pytest.raises(DataError, match="file not found: ./missing/train.jsonl"):
        load_corpus(DataConfig(data=["./missing/train.jsonl"]))
