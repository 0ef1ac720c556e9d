"""`summarist evaluate`: score predictions, re-score a run, or compare two runs."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated

import typer

from summarist.cli.options import Flags, options
from summarist.cli.root import JSON_REASON, JsonOpt, app, show, show_run
from summarist.errors import ConfigError
from summarist.evaluation.run_comparison import CompareRunsConfig
from summarist.evaluation.workflows import EvaluateConfig

RUN_DIRS_REASON = (
    "EvaluateConfig.run_dir (one RUN_DIR), or CompareRunsConfig.run_a/run_b with --compare"
)
COMPARE_REASON = "picks the library call: compare_runs(CompareRunsConfig) instead of evaluate"


@app.command()
@options(
    EvaluateConfig,
    command_only={"run_dirs": RUN_DIRS_REASON, "compare": COMPARE_REASON, "as_json": JSON_REASON},
)
def evaluate(
    flags: Flags,
    run_dirs: Annotated[
        list[Path] | None,
        typer.Argument(
            help="RUN_DIR to re-score, or RUN_A RUN_B with --compare.",
            metavar="RUN_DIR",
            show_default=False,
        ),
    ] = None,
    compare: Annotated[
        bool, typer.Option("--compare", help="Paired bootstrap between two run directories.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Score predictions (ROUGE with 95% CIs + diagnostics), re-score a run, or compare two runs.

    With --system openai:MODEL@URL the predictions come from an OpenAI-compatible endpoint
    (asked concurrently, retried, cached), scored like any model's.
    """
    from summarist.evaluation import compare_runs, render_comparison, render_metrics, run_evaluate

    runs = list(run_dirs or [])
    if compare:
        if len(runs) != 2:
            raise ConfigError(
                "--compare needs two run directories", "summarist evaluate --compare A B"
            )
        known = {f.name for f in dataclasses.fields(CompareRunsConfig)}
        extra = [n for n, paths in flags.names.items() if paths[0][0] not in known]
        if extra:
            raise ConfigError(f"{extra[0]} cannot be given with --compare", "drop it")
        result = compare_runs(flags.build(CompareRunsConfig, run_a=runs[0], run_b=runs[1]))
        show(result if as_json else render_comparison(result), as_json)
        return
    if len(runs) > 1:
        raise ConfigError(f"{len(runs)} run directories given", "re-score one, or add --compare")
    cfg: EvaluateConfig = flags.build(run_dir=runs[0] if runs else None)
    out = run_evaluate(cfg)
    show_run(out, as_json, render_metrics)
    if cfg.system is not None:  # texts an endpoint failed: named above, exit code 3
        from summarist.evaluation.systems import check_run_complete

        check_run_complete(out)
