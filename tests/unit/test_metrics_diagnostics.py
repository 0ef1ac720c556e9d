"""Model-free diagnostics of predictions."""

from __future__ import annotations

import pytest

from summarist.metrics import compute_diagnostics
from summarist.metrics.diagnostics import novel_ngram_share, repeated_ngram_share


def test_novel_and_repeated_ngrams() -> None:
    assert novel_ngram_share(["a", "b", "x"], ["a", "b", "c"], 1) == pytest.approx(1 / 3)
    assert novel_ngram_share(["a", "b", "x"], ["a", "b", "c"], 2) == pytest.approx(1 / 2)
    assert novel_ngram_share(["a"], ["a"], 2) is None
    assert repeated_ngram_share(["a", "b", "a", "b"], 2) == pytest.approx(1 / 3)
    assert repeated_ngram_share(["a", "b", "c"], 1) == 0.0


def test_diagnostics_of_an_extractive_and_an_abstractive_system() -> None:
    sources = ["the cat sat on the mat all day long", "dogs bark at night in the city"]
    extractive = compute_diagnostics(["the cat sat on the mat", "dogs bark at night"], sources)
    abstractive = compute_diagnostics(["a feline rested", "canines howl loudly"], sources)
    assert extractive["novel_ngrams"]["1"] == 0.0
    assert abstractive["novel_ngrams"]["1"] == 1.0
    assert extractive["compression_ratio"]["mean"] == pytest.approx((9 / 6 + 7 / 4) / 2, abs=1e-3)
    assert extractive["prediction_words"]["mean"] == 5.0
    assert extractive["empty_share"] == 0.0
    assert "hit_cap_share" not in extractive


def test_empty_outputs_hit_cap_and_custom_tokenizer() -> None:
    d = compute_diagnostics(
        ["", "go go go go", "ok"],
        ["x", "y", "z"],
        hit_cap=[False, True, True],
        tokenizer=lambda t: list(t.replace(" ", "")),
    )
    assert d["empty_share"] == pytest.approx(1 / 3, abs=1e-3)
    assert d["hit_cap_share"] == pytest.approx(2 / 3, abs=1e-3)
    assert d["prediction_tokens"]["max"] == 8.0  # characters, from the custom tokenizer
    assert d["repeated_ngrams"]["1"] == pytest.approx((0.75 + 0.0) / 2)


def test_without_sources_and_misaligned_inputs() -> None:
    d = compute_diagnostics(["a b"], None)
    assert "novel_ngrams" not in d and d["n"] == 1
    with pytest.raises(ValueError, match="sources"):
        compute_diagnostics(["a"], ["x", "y"])
    with pytest.raises(ValueError, match="hit_cap"):
        compute_diagnostics(["a"], ["x"], hit_cap=[True, False])


def test_repeated_ngrams_count_in_shares_and_blank_outputs_are_empty() -> None:
    # a repeated novel word counts twice: 2 of 3 unigrams are not in the source
    assert novel_ngram_share(["x", "x", "a"], ["a", "b"], 1) == pytest.approx(2 / 3)
    d = compute_diagnostics(["  \n", "a b", "a a a"], ["a b c", "a b c d", "a b c d e f"])
    assert d["empty_share"] == pytest.approx(1 / 3, abs=1e-3)  # whitespace-only is empty
    assert d["novel_ngrams"]["1"] == 0.0 and d["repeated_ngrams"]["1"] == pytest.approx(
        1 / 3, abs=1e-3
    )
    assert d["compression_ratio"]["max"] == 2.0  # source words / prediction words (a a a)


def test_novel_shares_of_all_orders_equal_each_order_alone() -> None:
    import math
    import random

    from summarist.metrics.diagnostics import NGRAM_ORDERS, diagnostic_values

    rng = random.Random(4)
    sources = [[rng.choice("abcdefgh") for _ in range(rng.randint(0, 60))] for _ in range(500)]
    preds = [[rng.choice("abcdefghij") for _ in range(rng.randint(0, 12))] for _ in range(500)]
    values = diagnostic_values([" ".join(p) for p in preds], [" ".join(s) for s in sources])
    for n in NGRAM_ORDERS:
        for k, (p, s) in enumerate(zip(preds, sources, strict=True)):
            expected = novel_ngram_share(p, s, n)
            got = float(values[f"novel_{n}"][k])
            assert (math.isnan(got) and expected is None) or got == expected, (n, p, s)
