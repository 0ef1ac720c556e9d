"""The Arrow data path decides and tokenizes exactly as the row-by-row path it replaced.

`tests/reference_pipeline.py` is a pinned copy of the old path (reading, column mapping,
concatenation, cleaning, dedupe, leakage, ratio splits, tokenization). Every corpus here is
loaded both ways, and the splits (texts, references, extra columns, in order), the cleaning
report and the token ids must be equal, item for item: on the real corpora of ../shared/data
(DialogSum, SAMSum with its duplicates, empty dialogue, leakage and mixed line endings, Chinese
CSL) and on files written here to reach every rule (CJK word counts, Unicode whitespace, every
file format, several references, several sources).
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from summarist.config.data import DataConfig
from summarist.data.loading import load_corpus
from summarist.data.tokens import token_store
from summarist.errors import SummaristError
from summarist.training.collate import Seq2SeqEncoder
from tests.conftest import SHARED_DATA
from tests.reference_pipeline import reference_load_corpus, reference_tokenize_pairs

ROOT = Path(__file__).resolve().parents[2]
needs_shared = pytest.mark.skipif(
    not (SHARED_DATA / "dialogsum").is_dir(), reason="../shared/data is not here"
)


def assert_same_corpus(cfg: DataConfig) -> None:
    """The same corpus both ways, or the same one-line error."""
    errors = []
    for load in (load_corpus, reference_load_corpus):
        try:
            load(cfg)
        except SummaristError as err:
            errors.append((type(err), str(err)))
    if errors:
        assert len(errors) == 2 and errors[0] == errors[1], errors
        return
    ours, theirs = load_corpus(cfg), reference_load_corpus(cfg)
    assert list(ours.splits) == list(theirs.splits)
    assert ours.report == theirs.report
    for name, split in ours.splits.items():
        ref = theirs.splits[name]
        assert len(split) == len(ref), name
        assert list(split.texts) == ref.texts, name
        assert [list(r) for r in split.references] == ref.references, name
        assert list(split.summaries) == ref.summaries, name
        assert {k: list(v) for k, v in split.extra.items()} == ref.extra, name


def assert_same_tokens(cfg: DataConfig, tokenizer: object, **kw: object) -> None:
    split = load_corpus(cfg)["train"]
    encoder = Seq2SeqEncoder(tokenizer, **kw)  # type: ignore[arg-type]
    store, _ = token_store(split, encoder, Path(cfg.cache_dir or ""), workers=2)
    old = reference_load_corpus(cfg)["train"]
    ref = reference_tokenize_pairs(tokenizer, old.texts, old.summaries, **kw)  # type: ignore[arg-type]
    assert len(store) == len(ref)
    for i, example in enumerate(store):
        assert example.input_ids.tolist() == ref[i].input_ids, i
        assert example.labels.tolist() == ref[i].labels, i
    lengths = np.array([len(e.input_ids) for e in ref])
    assert np.array_equal(store.source_lengths, lengths)  # what length grouping reads


@functools.cache
def t5_tokenizer() -> object:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(SHARED_DATA / "t5_tokenizer")


@functools.cache
def minilm_tokenizer() -> object:
    from summarist.models.pretrained import load_tokenizer

    return load_tokenizer("minilm")


# ------------------------------------------------------------------------- real corpora


@needs_shared
@pytest.mark.parametrize(
    "options",
    [{}, {"dedupe": "source", "min_summary_words": 10, "max_source_words": 150},
     {"dedupe": "none", "drop_leaked": True}],
    ids=["defaults", "filters", "no-dedupe-drop-leaked"],
)  # fmt: skip
def test_dialogsum_and_samsum_decisions_are_the_old_paths(tmp_path: Path, options: dict) -> None:
    for corpus in ("dialogsum", "samsum"):
        assert_same_corpus(
            DataConfig([str(SHARED_DATA / corpus)], cache_dir=str(tmp_path), **options)
        )


@needs_shared
def test_samsum_keeps_its_known_quirks(tmp_path: Path) -> None:
    corpus = load_corpus(DataConfig([str(SHARED_DATA / "samsum")], cache_dir=str(tmp_path)))
    assert corpus.report["train"]["empty"] == 1
    assert corpus.report["validation"]["leaked"] == 47
    assert not any("\r" in t for t in corpus["train"].texts)


@needs_shared
def test_two_sources_concatenated_with_languages_and_a_ratio_split(tmp_path: Path) -> None:
    data = [
        str(SHARED_DATA / "dialogsum" / "dev.jsonl"),
        str(SHARED_DATA / "samsum" / "validation.jsonl"),
    ]
    assert_same_corpus(DataConfig(data, languages=["en", "en-chat"], cache_dir=str(tmp_path)))
    one = DataConfig([str(SHARED_DATA / "samsum" / "validation.jsonl")], split_ratios=(0.8, 0.1, 0.1),
                     cache_dir=str(tmp_path))  # fmt: skip
    assert_same_corpus(one)


@needs_shared
def test_chinese_csl_counts_words_per_character_as_before(tmp_path: Path) -> None:
    cfg = DataConfig([str(SHARED_DATA / "csl_zh" / "dev.tsv")], cache_dir=str(tmp_path),
                     max_source_words=200, min_summary_words=12)  # fmt: skip
    assert_same_corpus(cfg)


def dialogsum_token_check(data: Path, tmp_path: Path) -> None:
    cfg = DataConfig([str(data)], cache_dir=str(tmp_path))
    assert_same_tokens(cfg, t5_tokenizer(), prefix="summarize: ", max_source_length=512,
                       max_target_length=128)  # fmt: skip
    tok = minilm_tokenizer()
    assert_same_tokens(cfg, tok, max_source_length=256, max_target_length=64,
                       decoder_start_token_id=tok.cls_token_id)  # fmt: skip


@needs_shared
def test_dialogsum_token_ids_are_bit_identical_on_a_slice(tmp_path: Path) -> None:
    """The first 800 training dialogues (the default suite's share of the test below)."""
    lines = (SHARED_DATA / "dialogsum" / "train.jsonl").read_text("utf-8").split("\n")[:800]
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "train.jsonl").write_text("\n".join(lines) + "\n", "utf-8")
    dialogsum_token_check(tmp_path / "d", tmp_path / "cache")


@needs_shared
@pytest.mark.slow
def test_dialogsum_token_ids_are_bit_identical_with_both_tokenizers(tmp_path: Path) -> None:
    dialogsum_token_check(SHARED_DATA / "dialogsum", tmp_path)


def news_corpus(out: Path, rows: int) -> Path:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from news_corpus import build_corpus
    finally:
        sys.path.remove(str(ROOT / "bench"))
    return build_corpus(out, rows, validation=300)


@needs_shared
def test_news_rows_decide_and_tokenize_as_before(tmp_path: Path) -> None:
    """1,000 CNN/DM-shaped rows (the default suite's slice of the 30k test below)."""
    data = news_corpus(tmp_path / "news", 1000)
    cfg = DataConfig([str(data)], cache_dir=str(tmp_path / "cache"), min_summary_words=40)
    assert_same_corpus(cfg)
    assert_same_tokens(cfg, t5_tokenizer(), prefix="summarize: ")


@needs_shared
@pytest.mark.slow
def test_the_30k_news_corpus_decides_and_tokenizes_as_before(tmp_path: Path) -> None:
    data = news_corpus(tmp_path / "news", 30_000)
    cfg = DataConfig([str(data)], cache_dir=str(tmp_path / "cache"))
    assert_same_corpus(cfg)
    assert_same_tokens(cfg, t5_tokenizer(), prefix="summarize: ")


# ------------------------------------------------------------- every rule, on files made here


TRICKY = [
    {"id": 1, "text": "  Hello\u00a0world\u3000 ", "summary": "hi", "n": 1.5},
    {"id": 2, "text": "Hello\u00a0world", "summary": "hi ", "n": 2},  # same source, stripped
    {"id": 3, "text": "Hello\u00a0world", "summary": "hi ", "n": None},  # same pair
    {"id": 4, "text": "   ", "summary": "empty source", "n": 4},
    {"id": 5, "text": "no summary here", "summary": "  \u2003 ", "n": 5},
    {"id": 6, "text": "中文摘要测试，一个字一个词。", "summary": "中文 摘要", "n": 6},
    {"id": 7, "text": "line\r\nendings\rmixed\n", "summary": "a b c d e f", "n": 7},
    {"id": 8, "text": "Ünïcode\u2028sep\u0085next\x1cfs", "summary": "x\u00a0y", "n": 8},
    {"id": 9, "text": "かなカナ 한국어 text mixed", "summary": "one two three", "n": 9},
    {"id": 10, "text": ["a", "list", "of lines"], "summary": ["ref one", "ref two"], "n": 10},
] + [{"id": 11 + i, "text": f"row {i} " * (i % 7 + 1), "summary": f"s {i} " * (i % 4), "n": i}
     for i in range(60)]  # fmt: skip


def write(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix
    if suffix == ".jsonl":
        # ASCII escapes: the old reader cut lines at raw U+2028 too (test_data_readers says why)
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    elif suffix == ".json":
        path.write_text(json.dumps(rows, ensure_ascii=False), "utf-8")
    elif suffix in (".csv", ".tsv"):
        import csv

        with open(path, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh, delimiter="\t" if suffix == ".tsv" else ",")
            w.writerow(["id", "text", "summary", "n"])
            for r in rows:
                flat = {k: "\n".join(v) if isinstance(v, list) else v for k, v in r.items()}
                w.writerow([flat["id"], flat["text"], flat["summary"], flat["n"]])
    elif suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        flat = [{k: "\n".join(v) if isinstance(v, list) else v for k, v in r.items()} for r in rows]
        pq.write_table(pa.Table.from_pylist(flat), path)
    return path


@pytest.mark.parametrize("suffix", [".jsonl", ".json", ".csv", ".tsv", ".parquet"])
@pytest.mark.parametrize("dedupe", ["pair", "source", "none"])
def test_every_format_and_dedupe_rule_matches(tmp_path: Path, suffix: str, dedupe: str) -> None:
    folder = tmp_path / "data"
    write(folder / f"train{suffix}", TRICKY)
    write(folder / f"validation{suffix}", TRICKY[:12])
    for options in ({}, {"min_summary_words": 2, "max_source_words": 5}, {"drop_leaked": True}):
        cfg = DataConfig([str(folder)], dedupe=dedupe, cache_dir=str(tmp_path / "c"), **options)
        assert_same_corpus(cfg)


def test_several_references_sources_and_ratio_splits_match(tmp_path: Path) -> None:
    rows = [{"doc": f"document {i % 40} body", "ref_1": f"first {i}", "ref_2": f"second {i % 3}"}
            for i in range(120)]  # fmt: skip
    a = write(tmp_path / "a.jsonl", rows)
    b = write(tmp_path / "b.jsonl", TRICKY)
    c = str(tmp_path / "c")
    assert_same_corpus(DataConfig([str(a)], text_column="doc", summary_columns=["ref_1", "ref_2"],
                                  split_ratios=(0.6, 0.2, 0.2), seed=7, cache_dir=c))  # fmt: skip
    assert_same_corpus(DataConfig([str(b), str(a)], summary_columns=[], cache_dir=c,
                                  text_column=None, seed=3, languages=["x", "y"]))  # fmt: skip


def test_a_block_arrow_cannot_read_goes_row_by_row_with_the_same_result(tmp_path: Path) -> None:
    """Numbers in a text column, mixed extra types, objects: Python's rules decide."""
    rows = [{"text": f"t {i}", "summary": "s", "extra": i if i % 2 else f"x{i}"} for i in range(50)]
    rows += [{"text": "7", "summary": "s", "extra": None, "late": "only here"}]
    cfg = DataConfig([str(write(tmp_path / "train.jsonl", rows))], cache_dir=str(tmp_path / "c"))
    ours = load_corpus(cfg)["train"]
    ref = reference_load_corpus(cfg)["train"]
    assert list(ours.texts) == ref.texts
    # An extra column of mixed types is kept as text (Arrow holds one type per column).
    assert list(ours.extra["extra"]) == [None if v is None else str(v) for v in ref.extra["extra"]]


# ------------------------------------------------------------------------ data stats


def old_stats_figures(split: object, tokenizer: object) -> dict[str, object]:
    """What `data stats` reported before: lengths counted text by text on the old lists."""
    from summarist.data.stats import describe_lengths
    from tests.reference_pipeline import count_words

    src = np.array([count_words(t) for t in split.texts])  # type: ignore[attr-defined]
    ref = np.array([count_words(s) for s in split.summaries])  # type: ignore[attr-defined]
    tok = [np.array([len(ids) for ids in tokenizer(list(texts))["input_ids"]])  # type: ignore[operator]
           for texts in (split.texts, split.summaries)]  # type: ignore[attr-defined]  # fmt: skip
    ratio = src / np.maximum(ref, 1)
    return {
        "kept": len(src), "source_words": describe_lengths(src),
        "summary_words": describe_lengths(ref), "source_tokens": describe_lengths(tok[0]),
        "summary_tokens": describe_lengths(tok[1]),
        "compression_ratio": {"median": round(float(np.median(ratio)), 2),
                              "mean": round(float(ratio.mean()), 2)},
        "truncated_source_share": round(float((tok[0] > 256).mean()), 4),
        "truncated_summary_share": round(float((tok[1] > 32).mean()), 4),
    }  # fmt: skip


@needs_shared
def test_data_stats_figures_from_per_row_arrays_are_the_old_lists_figures(tmp_path: Path) -> None:
    """Word counts from the keys, token counts chunked on 2 workers: the same numbers as
    counting the old path's lists one text at a time; the counts are the old report's."""
    from summarist.data.stats import COUNTS, compute_stats

    (tmp_path / "d").mkdir()
    for shared, split, n in (("train", "train", 600), ("dev", "validation", 200)):
        lines = (SHARED_DATA / "dialogsum" / f"{shared}.jsonl").read_text("utf-8").split("\n")[:n]
        (tmp_path / "d" / f"{split}.jsonl").write_text("\n".join(lines) + "\n", "utf-8")
    # two leaked rows, one of them twice: the counts are not all zero
    train = (tmp_path / "d" / "train.jsonl").read_text("utf-8").split("\n")
    with open(tmp_path / "d" / "validation.jsonl", "a", encoding="utf-8") as fh:
        fh.write(train[0] + "\n" + train[1] + "\n" + train[1] + "\n")
    cfg = DataConfig([str(tmp_path / "d")], cache_dir=str(tmp_path / "cache"))
    tok = t5_tokenizer()
    ours = compute_stats(load_corpus(cfg), tokenizer=tok, max_source_length=256,
                         max_target_length=32, workers=2)  # fmt: skip
    old = reference_load_corpus(cfg)
    assert (old.report["validation"]["leaked"], old.report["validation"]["kept"]) == (2, 202)
    for name, split in old.splits.items():
        entry = ours["splits"][name]
        assert {k: entry[k] for k in COUNTS if k != "kept"} == {
            k: old.report.get(name, {}).get(k, 0) for k in COUNTS if k != "kept"
        }, name
        want = old_stats_figures(split, tok)
        assert {k: entry[k] for k in want} == want, name
