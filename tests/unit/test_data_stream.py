"""`--streaming`: the source read in place shard by shard with the same decisions as a cached
corpus, a deterministic buffer shuffle, each rank on its own shards, and a stream that starts
again at any example exactly as it would have gone on."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from summarist.config.data import DataConfig
from summarist.data import ingest
from summarist.data.loading import load_corpus
from summarist.data.stream import ExampleStream, ShuffleOrder, split_shards
from summarist.errors import ConfigError, DataError
from summarist.training.streamed import StreamedTrainSet


class WordEncoder:
    """A stand-in tokenizer: one id per word (picklable, no model needed)."""

    columns = ("text", "summary")

    def key(self) -> dict:
        return {"encoder": "words"}

    def __call__(self, table):  # type: ignore[no-untyped-def]
        texts = table.column("text").to_pylist()
        sums = table.column("summary").to_pylist()
        return ([[len(w) for w in t.split()] for t in texts],
                [[len(w) for w in s.split()] + [1] for s in sums])  # fmt: skip


def rows(n: int, *, dupes: bool = True) -> list[dict]:
    out = []
    for i in range(n):
        j = i - 1 if dupes and i % 17 == 5 else i  # some duplicate pairs
        out.append({"id": i, "text": f"article {j} " + "word " * (j % 9), "summary": f"sum {j}"})
    out[3]["text"] = "   "  # an empty source
    out[8]["summary"] = "x"  # a short summary
    return out


def write_jsonl(path: Path, items: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in items), "utf-8")
    return path


@pytest.fixture
def small_shards(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks (shards) of ~2 KB, so that a small file has many."""
    monkeypatch.setattr(ingest, "BLOCK_BYTES", 2048)


@pytest.fixture
def corpus(tmp_path: Path, small_shards: None) -> Path:
    write_jsonl(tmp_path / "data" / "train.jsonl", rows(600))
    write_jsonl(tmp_path / "data" / "validation.jsonl", rows(40)[30:] + rows(700)[650:])
    return tmp_path / "data"


def both(data: Path, cache: Path, **kw: object) -> tuple:
    mapped = load_corpus(DataConfig([str(data)], cache_dir=str(cache), **kw))
    streamed = load_corpus(DataConfig([str(data)], cache_dir=str(cache), streaming=True, **kw))
    return mapped, streamed


@pytest.mark.parametrize(
    "options", [{}, {"min_summary_words": 2, "dedupe": "source"}, {"drop_leaked": True},
                {"max_source_words": 6, "dedupe": "none"}],
)  # fmt: skip
def test_streaming_keeps_the_same_examples_as_the_cached_corpus(
    corpus: Path, tmp_path: Path, options: dict
) -> None:
    mapped, streamed = both(corpus, tmp_path / "c", **options)
    assert streamed.report == mapped.report
    for name in mapped.splits:
        a, b = mapped[name], streamed[name]
        assert np.array_equal(a.index, b.index)
        assert list(a.texts) == list(b.texts) and list(a.summaries) == list(b.summaries)
        assert {k: list(v) for k, v in a.extra.items()} == {k: list(v) for k, v in b.extra.items()}
    train = streamed["train"]
    assert len(split_shards(train)) > 10  # really read in many shards
    held = [p.name for p in (tmp_path / "c" / "streams").glob("*/*.arrow")]
    assert sorted(held) == ["train.schema.arrow", "validation.schema.arrow"]  # no text copied


def test_a_single_file_split_by_ratios_streams_the_same_splits(
    tmp_path: Path, small_shards: None
) -> None:
    data = write_jsonl(tmp_path / "all.jsonl", rows(300))
    mapped, streamed = both(data, tmp_path / "c", split_ratios=(0.8, 0.1, 0.1))
    assert list(streamed.splits) == list(mapped.splits) == ["train", "validation", "test"]
    for name in mapped.splits:
        assert list(mapped[name].texts) == list(streamed[name].texts)


def test_the_shuffle_buffer_yields_each_example_once_in_a_seeded_order() -> None:
    def order(n: int, size: int, seed: str) -> list[int]:
        o = ShuffleOrder(n, size, seed)
        return [x for x in iter(o.step, None)]

    first = order(1000, 64, "s")
    assert sorted(first) == list(range(1000)) and first != list(range(1000))
    assert order(1000, 64, "s") == first and order(1000, 64, "t") != first
    assert sorted(order(10, 64, "s")) == list(range(10))  # fewer items than the buffer holds
    # Early items come out early: a buffer shuffle mixes locally.
    assert np.mean(first[:100]) < 250


def stream_ids(split, encoder, **kw) -> list[tuple[int, list[int]]]:  # type: ignore[no-untyped-def]
    return [(i, ex.input_ids.tolist()) for i, ex in ExampleStream(split, encoder, **kw)]


def test_a_stream_started_at_example_k_goes_on_exactly_as_the_whole_stream(
    corpus: Path, tmp_path: Path
) -> None:
    train = load_corpus(DataConfig([str(corpus)], cache_dir=str(tmp_path / "c"), streaming=True))[
        "train"
    ]
    enc = WordEncoder()
    whole = stream_ids(train, enc, seed=3, epoch=1, buffer=50)
    assert [i for i, _ in whole] == list(range(len(train)))
    texts = {tuple(ids) for _, ids in whole}
    assert len(texts) == len({tuple(len(w) for w in t.split()) for t in train.texts})
    for k in (0, 1, 49, 50, 51, 300, len(train) - 3, len(train)):
        assert stream_ids(train, enc, seed=3, epoch=1, buffer=50, start=k) == whole[k:], k
    assert stream_ids(train, enc, seed=3, epoch=1, buffer=50) == whole  # the same every time
    assert stream_ids(train, enc, seed=3, epoch=2, buffer=50) != whole  # each epoch its own


def test_each_rank_reads_only_its_own_shards_and_together_they_read_all(
    corpus: Path, tmp_path: Path
) -> None:
    train = load_corpus(DataConfig([str(corpus)], cache_dir=str(tmp_path / "c"), streaming=True))[
        "train"
    ]
    table = train.store.parts[0].table
    enc = WordEncoder()
    seen, shards = [], []
    for rank in range(3):
        table.shards_read.clear()
        table.release()
        stream = ExampleStream(train, enc, seed=0, epoch=0, rank=rank, world=3, buffer=20)
        seen += [tuple(ex.input_ids.tolist()) for _, ex in stream]
        shards.append(set(table.shards_read))
        assert shards[-1] == set(stream.mine.tolist())
    assert not (shards[0] & shards[1]) and not (shards[1] & shards[2])
    assert len(seen) == len(train)


def test_resuming_a_streamed_epoch_at_batch_k_gives_the_same_batches(
    corpus: Path, tmp_path: Path
) -> None:
    train = load_corpus(DataConfig([str(corpus)], cache_dir=str(tmp_path / "c"), streaming=True))[
        "train"
    ]

    def batches(start: int) -> list[list[list[int]]]:
        streamed = StreamedTrainSet(train, WordEncoder(), seed=5, buffer=30, rank=0, world=1,
                                    batch_size=4, group_by_length=True)  # fmt: skip
        epoch = streamed.epoch(0)
        out = []
        for k in range(start, len(epoch), 3):  # grad_accum 3: slices cross groups
            micro = epoch[k : k + 3]
            out.append([[streamed[i].input_ids.tolist() for i in b] for b in micro])
        return out

    whole = batches(0)
    assert sum(len(b) for m in whole for b in m) == len(train)
    assert batches(3 * 70) == whole[70:]
    assert batches(3 * 17) == whole[17:]


def test_streaming_refuses_formats_it_cannot_read_in_place(tmp_path: Path) -> None:
    (tmp_path / "train.csv").write_text("text,summary\na,b\n", "utf-8")
    with pytest.raises(ConfigError, match="--streaming reads JSON lines"):
        load_corpus(DataConfig([str(tmp_path / "train.csv")], streaming=True))


def test_parquet_streams_by_row_group(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(rows(200)), tmp_path / "train.parquet", row_group_size=30)
    mapped, streamed = both(tmp_path / "train.parquet", tmp_path / "c")
    assert list(mapped["train"].texts) == list(streamed["train"].texts)
    assert len(split_shards(streamed["train"])) == 7


def test_a_file_changed_after_it_was_indexed_is_refused(tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "train.jsonl", rows(50))
    train = load_corpus(DataConfig([str(data)], cache_dir=str(tmp_path / "c"), streaming=True))[
        "train"
    ]
    write_jsonl(data, rows(60))
    with pytest.raises(DataError, match="changed .* after --streaming indexed it"):
        list(train.texts)
