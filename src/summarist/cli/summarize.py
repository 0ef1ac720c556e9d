"""`summarist summarize`: texts in, summaries out, in length-sorted batches."""

from __future__ import annotations

import typer

from summarist.cli.options import Flags, options
from summarist.cli.root import app
from summarist.summarize import SummarizeConfig


@app.command()
@options(SummarizeConfig)
def summarize(flags: Flags) -> None:
    """Summarize a text, a folder of .txt files or a table, in length-sorted batches."""
    from summarist.distributed import is_main_rank
    from summarist.summarize import run_summarize

    cfg: SummarizeConfig = flags.build()
    run_summarize(cfg)
    if cfg.output is not None and is_main_rank():
        typer.echo(f"summaries: {cfg.output}", err=True)
