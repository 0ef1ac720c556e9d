"""Evaluation workflows: score a split, write an evaluate/baseline run, re-score, compare runs.

Building blocks (`score_split`, `write_run`) are used by training's final evaluation too; the
`run_*` functions are what the CLI calls (one per command). Everything follows the run-directory
contract in `summarist.rundir`.

    scoring.py         ScoringConfig, score_split (SplitMetrics + predictions rows), baselines beside
    model_eval.py      evaluate_split: a model (a generate callable) on a split, probe and verdict
    run_io.py          write_run, predictions files, reading a run's predictions back
    workflows.py       run_evaluate, run_baseline_eval, rescore_run
    run_comparison.py  compare_runs (paired bootstrap between two runs)
    quality_gate.py    an exported or quantized model checked against its source model
    render.py          terminal tables
"""

from summarist.evaluation.render import render_comparison, render_metrics
from summarist.evaluation.run_comparison import CompareRunsConfig, compare_runs, compare_scores
from summarist.evaluation.run_io import (
    PREDICTION_FIELDS,
    data_config_dict,
    maybe_write_report,
    read_predictions,
    read_run_rows,
    split_from_rows,
    write_run,
)
from summarist.evaluation.scoring import (
    ID_COLUMNS,
    ScoringConfig,
    example_ids,
    score_split,
    score_with_baselines,
)
from summarist.evaluation.workflows import (
    BaselineRunConfig,
    EvaluateConfig,
    rescore_run,
    run_baseline_eval,
    run_evaluate,
)

__all__ = [
    "ID_COLUMNS",
    "PREDICTION_FIELDS",
    "BaselineRunConfig",
    "CompareRunsConfig",
    "EvaluateConfig",
    "ScoringConfig",
    "compare_runs",
    "compare_scores",
    "data_config_dict",
    "example_ids",
    "maybe_write_report",
    "read_predictions",
    "read_run_rows",
    "render_comparison",
    "render_metrics",
    "rescore_run",
    "run_baseline_eval",
    "run_evaluate",
    "score_split",
    "score_with_baselines",
    "split_from_rows",
    "write_run",
]
