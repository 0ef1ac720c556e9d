"""Long documents: window packing and the map-reduce structure on a generated 20-page document."""

from __future__ import annotations

import logging
import math

import pytest

from summarist.config.generation import GenerationSettings
from summarist.inference.longdoc import fit_units, pack_windows
from tests import tiny_models as tiny

LIMIT = 128
OVERLAP = 24


def twenty_pages(sentences: int = 720) -> str:
    """~10,000 words (20 pages at 500 words/page) of numbered sentences, 3 to a paragraph."""
    lines = []
    for i in range(sentences):
        lines.append(f"Sentence {i} says the committee met on day {i} to review budget item {i}.")
        if i % 3 == 2:
            lines.append("\n")
    return " ".join(lines)


def test_pack_windows_fits_budget_overlaps_and_covers_everything() -> None:
    lengths = [5, 7, 3, 9, 4, 4, 6, 8, 2, 5]
    windows = pack_windows(lengths, budget=15, overlap=6)
    assert windows[0][0] == 0 and windows[-1][1] == len(lengths)
    for (a, b), (c, d) in zip(windows, windows[1:], strict=False):
        assert a < c < b <= d  # moves forward and shares at least one unit
        assert b - c == 1 or sum(lengths[c:b]) <= 6
    assert all(sum(lengths[a:b]) <= 15 for a, b in windows)


def test_pack_windows_without_overlap_partitions() -> None:
    windows = pack_windows([4] * 10, budget=8, overlap=0)
    assert windows == [(0, 2), (2, 4), (4, 6), (6, 8), (8, 10)]


def test_overlong_unit_is_split_into_word_runs() -> None:
    units, lengths = fit_units(["a b c d e f g h i j k l", "short"], [24, 2], budget=8)
    assert len(units) > 2 and units[-1] == "short"
    assert " ".join(units[:-1]) == "a b c d e f g h i j k l"
    assert all(n <= 8 for n in lengths)


@pytest.fixture(scope="module")
def summarizer():
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    from summarist.inference.backends.torch_backend import TorchBackend
    from summarist.inference.summarizer import Summarizer

    tok = tiny.t5_tokenizer()
    model = tiny.tiny_seq2seq("t5")
    # Forced 8-token partial summaries: each level shrinks the text ~10x, whatever the weights.
    settings = GenerationSettings(max_new_tokens=8, min_new_tokens=8, num_beams=1)
    return Summarizer(
        TorchBackend(model, tok),
        tok,
        settings,
        prefix="summarize: ",
        source_limit=LIMIT,
        overlap=OVERLAP,
        batch_size=32,
    )


def test_twenty_page_document_is_map_reduced_within_limits(summarizer) -> None:
    doc = twenty_pages()
    assert len(doc.split()) >= 10_000
    result = summarizer.summarize_detailed([doc, "Anna: short one.\nBen: yes."])
    (trace,) = [t for t in result.traces if t is not None]  # per text; None: it fitted
    overhead = summarizer.count_tokens([""])[0]

    assert result.levels == [trace.depth, 0]
    assert trace.source_tokens == result.source_tokens[0] > 20 * LIMIT
    assert 2 <= trace.depth <= 4  # 10k words need a second reduce level at 128 tokens
    first = trace.levels[0]
    assert len(first.windows) >= math.ceil((trace.source_tokens - overhead) / (LIMIT - overhead))
    for level in trace.levels:
        windows = level.windows
        assert all(w.tokens <= LIMIT for w in windows)
        assert windows[0].start == 0 and windows[-1].end == level.units
        for prev, nxt in zip(windows, windows[1:], strict=False):
            assert prev.start < nxt.start < prev.end  # overlapping, moving forward
    tokens = [trace.source_tokens] + [lvl.output_tokens for lvl in trace.levels]
    assert tokens == sorted(tokens, reverse=True)
    assert trace.levels[-1].output_tokens == trace.final_input_tokens <= LIMIT
    assert not trace.truncated
    assert result.new_tokens == [8, 8] and all(result.summaries)


def test_truncate_mode_warns_how_many_and_by_how_much(summarizer, caplog) -> None:
    summarizer.long = "truncate"
    try:
        with caplog.at_level(logging.WARNING, logger="summarist"):
            result = summarizer.summarize_detailed([twenty_pages(40), "short text", "x " * 300])
    finally:
        summarizer.long = "chunk"
    assert result.levels == [0, 0, 0]
    (message,) = [r.getMessage() for r in caplog.records if "truncated" in r.getMessage()]
    over = [n - LIMIT for n in result.source_tokens if n > LIMIT]
    assert message.startswith(f"2 of 3 inputs exceed the {LIMIT}-token limit")
    assert f"{max(over)} at most" in message


def test_empty_inputs_warn_and_return_empty(summarizer, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="summarist"):
        out = summarizer.summarize(["", "Anna: hi.", "   "])
    assert out[0] == "" and out[2] == "" and out[1]
    assert any("2 of 3 inputs are empty" in r.getMessage() for r in caplog.records)


def test_one_summarizer_serves_two_threads_without_mixing_results(summarizer) -> None:
    """Stateless per call: traces and settings of one caller never reach the other."""
    from concurrent.futures import ThreadPoolExecutor

    long_doc, short = twenty_pages(60), "Anna: short one.\nBen: yes."
    greedy4 = GenerationSettings(max_new_tokens=4, min_new_tokens=4, num_beams=1)
    alone_long = summarizer.summarize_detailed([long_doc, short])
    alone_short = summarizer.summarize_detailed([short], greedy4)
    with ThreadPoolExecutor(max_workers=2) as pool:
        calls = [pool.submit(summarizer.summarize_detailed, [long_doc, short]) for _ in range(2)]
        calls += [pool.submit(summarizer.summarize_detailed, [short], greedy4) for _ in range(2)]
        got = [c.result() for c in calls]
    for result in got[:2]:
        assert result.summaries == alone_long.summaries
        assert result.traces[0] is not None and result.traces[1] is None
        assert result.traces[0].depth == alone_long.traces[0].depth
    for result in got[2:]:
        assert result.summaries == alone_short.summaries and result.traces == []
        assert result.new_tokens == [4]
