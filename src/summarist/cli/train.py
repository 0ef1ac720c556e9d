"""`summarist train`: fine-tune, evaluate next to lead-3, save; or `--resume` a run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from summarist.cli.options import Flags, options
from summarist.cli.root import app
from summarist.config.train import TrainConfig
from summarist.errors import ConfigError

RESUME_REASON = (
    "continues a run with the settings its config.yaml saved (the merged config of its start), "
    "so no other setting may be given, except --threads"
)


@app.command()
@options(TrainConfig, command_only={"resume": RESUME_REASON})
def train(
    flags: Flags,
    resume: Annotated[
        Path | None,
        typer.Option(help="Continue this run directory from its checkpoint.", metavar="RUN_DIR"),
    ] = None,
) -> None:
    """Fine-tune a seq2seq model (or a BERT2BERT warm start), evaluate it next to lead-3."""
    from summarist.distributed import is_main_rank
    from summarist.training.loop import resume_run
    from summarist.training.loop import train as run_training

    if resume is not None:
        given = [n for n in flags.names if n != "--threads"]
        given = (["--config"] if flags.preset is not None else []) + given
        if given:
            raise ConfigError(
                f"--resume continues {resume} with the settings in its config.yaml, so "
                f"{given[0]} cannot be given with it",
                "drop it (only --threads may change), or train a new run with --output-dir",
            )
        out = resume_run(resume, threads=flags.get("threads"))
    else:
        out = run_training(flags.build())
    if is_main_rank():  # under a launcher every rank gets here; one says where the run is
        typer.echo(f"run directory: {out}")
