"""Degenerate-output checks: the constant baseline, distinct share, swap probe and the verdict."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from summarist.baselines.constant import choose_constant_summary
from summarist.data.corpus import Split
from summarist.evaluation import ScoringConfig, score_with_baselines
from summarist.evaluation.scoring import constant_for
from summarist.metrics import compute_rouge
from summarist.metrics.degenerate import (
    degenerate_verdict,
    distinct_share,
    shared_prediction_share,
    swap_plan,
    swap_probe,
)

SUMMARIES = [
    "The proposed model outperforms strong baselines on two datasets.",
    "The proposed method improves translation quality on two language pairs.",
    "The proposed model outperforms baselines on three datasets.",
    "Experiments show that the parser is faster.",
    "The proposed approach outperforms previous models on the benchmark datasets.",
    "A new corpus of annotated tweets is released.",
]


def _mean_rouge_against_others(candidate: int, pool: list[str]) -> float:
    others = [s for j, s in enumerate(pool) if j != candidate]
    result = compute_rouge([pool[candidate]] * len(others), [[o] for o in others], bootstrap=0)
    f = result.fmeasure()  # (N, 4): rouge1, rouge2, rougeL, rougeLsum
    return float((f[:, 0] + f[:, 1]).mean() / 2)


def test_constant_baseline_is_the_summary_with_the_best_mean_rouge() -> None:
    pick = choose_constant_summary(SUMMARIES, sample=100)
    brute = [_mean_rouge_against_others(i, SUMMARIES) for i in range(len(SUMMARIES))]
    assert pick.summary == SUMMARIES[int(np.argmax(brute))]
    assert pick.mean_rouge == pytest.approx(max(brute), abs=1e-2)
    assert pick.sample == len(SUMMARIES) and pick.source == "train"


def test_constant_baseline_sampling_is_seeded() -> None:
    pool = [f"summary number {i} about topic {i % 7} and result {i % 3}" for i in range(500)]
    a = choose_constant_summary(pool, sample=50, seed=1)
    assert a == choose_constant_summary(pool, sample=50, seed=1)
    assert a.sample == 50
    picks = {choose_constant_summary(pool, sample=50, seed=s).summary for s in range(5)}
    assert len(picks) > 1  # the sample, not the pool order, decides
    with pytest.raises(ValueError, match="no non-empty summaries"):
        choose_constant_summary(["", "  "])


def test_constant_for_falls_back_to_the_scored_references() -> None:
    scored = Split("test", ["t"] * 3, [[s] for s in SUMMARIES[:3]])
    assert constant_for(None, scored).source == "test references"
    train = Split("train", ["t"] * 6, [[s] for s in SUMMARIES])
    assert constant_for(train, scored).source == "train"


def test_distinct_and_shared_prediction_shares() -> None:
    assert distinct_share(["a b", "A  b", "c"]) == pytest.approx(2 / 3, abs=1e-4)
    assert distinct_share([]) == 1.0
    # the same prediction for the same source is fine; for a different source it is not
    assert shared_prediction_share(["x", "x", "y"], ["s1", "s1", "s2"]) == 0.0
    assert shared_prediction_share(["x", "x", "y"], ["s1", "s2", "s3"]) == pytest.approx(
        2 / 3, abs=1e-4
    )


def test_swap_probe_pairs_differing_sources_and_counts_unchanged_predictions() -> None:
    sources = [f"source {i}" for i in range(20)] + ["source 0"]
    plan = swap_plan(sources, size=8, seed=3)
    assert plan == swap_plan(sources, size=8, seed=3) and len(plan) == 8
    assert all(sources[i] != sources[d] for i, d in plan)
    preds = [f"summary {i}" for i in range(21)]
    reads_input = swap_probe(preds, plan, [preds[d] for _, d in plan])
    ignores_input = swap_probe(preds, plan, [preds[i] for i, _ in plan])
    assert reads_input == {"n": 8, "unchanged_share": 0.0}
    assert ignores_input == {"n": 8, "unchanged_share": 1.0}
    assert swap_plan(["same"] * 5) == []


def test_verdict_flags_a_constant_model_with_numbers() -> None:
    rng = np.random.default_rng(0)
    constant = rng.uniform(20, 30, size=100)
    verdict = degenerate_verdict(constant, constant, {"distinct_share": 0.01})
    assert verdict["flagged"]
    assert "only 1 of 100 predictions are distinct (1%)" in verdict["message"]
    assert "no better than the constant baseline" in verdict["message"]
    assert verdict["vs_constant"]["diff"] == 0.0
    good = degenerate_verdict(constant + 8, constant, {"distinct_share": 1.0})
    assert not good["flagged"] and good["message"] is None
    assert good["vs_constant"]["low"] > 0


@pytest.fixture
def split() -> Split:
    things = ["bread", "milk", "a lamp", "tickets", "shoes", "a cake", "a bike", "paint"] * 3
    texts = [f"Anna: I bought {x} today for {i} euros.\nBen: Great." for i, x in enumerate(things)]
    refs = [[f"Anna bought {x} for {i} euros."] for i, x in enumerate(things)]
    return Split("test", texts, refs)


def test_score_with_baselines_warns_on_constant_output(split, caplog) -> None:
    train = Split("train", split.texts, split.references)
    constant = constant_for(train, split)
    scoring = ScoringConfig(bootstrap=200, workers=1)
    with caplog.at_level(logging.WARNING, logger="summarist"):
        metrics, _ = score_with_baselines(
            [constant.summary] * len(split), split, scoring, ["lead-1"], constant=constant
        )
    assert set(metrics["baselines"]) == {"lead-1", "constant"}
    assert metrics["constant_baseline"]["summary"] == constant.summary
    assert metrics["diagnostics"]["distinct_share"] == pytest.approx(1 / 24, abs=1e-3)
    assert metrics["degenerate"]["flagged"]
    assert "DEGENERATE OUTPUT" in caplog.text and "1 of 24 predictions" in caplog.text


def test_score_with_baselines_passes_a_model_that_reads_its_input(split, caplog) -> None:
    train = Split("train", split.texts, split.references)
    preds = [r[0].replace("Anna", "She") for r in split.references]
    with caplog.at_level(logging.WARNING, logger="summarist"):
        metrics, _ = score_with_baselines(
            preds, split, ScoringConfig(bootstrap=200, workers=1), constant=constant_for(train, split),
            swap_probe={"n": 8, "unchanged_share": 0.0},
        )  # fmt: skip
    assert not metrics["degenerate"]["flagged"]
    assert metrics["diagnostics"]["swap_probe"]["unchanged_share"] == 0.0
    assert "DEGENERATE" not in caplog.text
