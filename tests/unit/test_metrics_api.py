"""The public API other modules code against: names and keyword arguments stay put."""

from __future__ import annotations

import inspect

import summarist.baselines
import summarist.evaluation
import summarist.metrics


def params(fn: object) -> list[str]:
    return list(inspect.signature(fn).parameters)  # type: ignore[arg-type]


def test_all_is_pinned() -> None:
    assert summarist.metrics.__all__ == [
        "MULTI_REF_RULES", "ROUGE_TYPES", "SPLITTERS", "TOKENIZERS", "RougeResult",
        "bootstrap_ci", "compute_diagnostics", "compute_rouge", "detect_tokenizer",
        "paired_bootstrap", "score_examples", "split_sentences", "to_lsum_text",
        "tokenize_rouge_score", "tokenize_unicode",
    ]  # fmt: skip
    assert summarist.baselines.__all__ == [
        "BASELINES", "BaselineSpec", "lead_baseline_name", "parse_baseline_name", "run_baseline"
    ]  # fmt: skip
    for name in ("score_split", "write_run", "ScoringConfig", "compare_runs", "run_evaluate"):
        assert name in summarist.evaluation.__all__


def test_signatures_other_engineers_use() -> None:
    assert params(summarist.metrics.compute_rouge)[:10] == [
        "predictions", "references", "multi_ref", "use_stemmer", "lang", "bootstrap",
        "confidence", "seed", "workers", "sentence_splitter",
    ]  # fmt: skip
    assert params(summarist.metrics.compute_diagnostics) == [
        "predictions", "sources", "hit_cap", "tokenizer"
    ]  # fmt: skip
    assert params(summarist.baselines.run_baseline)[:4] == ["name", "texts", "references", "seed"]
    assert params(summarist.evaluation.score_split)[:8] == [
        "predictions", "split", "sources", "hit_cap", "multi_ref", "lang", "bootstrap", "seed"
    ]  # fmt: skip
    assert params(summarist.evaluation.write_run) == [
        "out_dir", "kind", "name", "config", "metrics_by_split", "prediction_rows"
    ]  # fmt: skip
    # the CLI and model_comparison.py build CompareRunsConfig positionally: (run_a, run_b, ...)
    assert params(summarist.evaluation.CompareRunsConfig)[:5] == [
        "run_a", "run_b", "split", "scoring", "output_dir"
    ]  # fmt: skip
