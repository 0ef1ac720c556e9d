"""`summarist baseline NAME`: an extractive baseline, scored like a model."""

from __future__ import annotations

from summarist.cli.options import Flags, options
from summarist.cli.root import JSON_REASON, JsonOpt, app, show_run
from summarist.evaluation.workflows import BaselineRunConfig


@app.command("baseline")
@options(BaselineRunConfig, command_only={"as_json": JSON_REASON})
def baseline(flags: Flags, as_json: JsonOpt = False) -> None:
    """Run an extractive baseline on a corpus and write a scored run directory."""
    from summarist.evaluation import render_metrics, run_baseline_eval

    cfg: BaselineRunConfig = flags.build()
    show_run(run_baseline_eval(cfg), as_json, render_metrics)
