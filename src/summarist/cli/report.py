"""`summarist report`: one HTML page about one or more runs."""

from __future__ import annotations

import typer

from summarist.cli.options import Flags, options
from summarist.cli.root import app
from summarist.config.report import ReportConfig


@app.command()
@options(ReportConfig, preset=False)
def report(flags: Flags) -> None:
    """One self-contained HTML page: config, metrics with CIs, curves, lengths, examples."""
    from summarist.reports import write_report

    cfg: ReportConfig = flags.build()
    typer.echo(f"report: {write_report(cfg.run_dirs, cfg.out, title=cfg.title)}")
