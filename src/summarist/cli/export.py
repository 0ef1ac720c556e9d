"""`summarist export`: convert a model for a fast backend, and check it against its source."""

from __future__ import annotations

import typer

from summarist.cli.options import Flags, options
from summarist.cli.root import app
from summarist.config.export import ExportConfig


@app.command()
@options(ExportConfig)
def export(flags: Flags) -> None:
    """Convert a model for a fast inference backend (CTranslate2, optionally int8)."""
    from summarist.inference.backends.ctranslate2_backend import export_model

    cfg: ExportConfig = flags.build()
    split = None
    if cfg.check is not None:  # data problems fail here, before anything is written
        from summarist.evaluation.quality_gate import load_check_split

        split = load_check_split(cfg.check)
    out = export_model(cfg.model, cfg.output, cfg.quantize, cfg.lang)
    typer.echo(f"exported: {out}")
    if cfg.check is not None:
        check(cfg, out, split)


def check(cfg: ExportConfig, out: object, split: object) -> None:
    """The quality check of a fresh export: verdict, file, and exit code 3 on --fail-on-drop."""
    from pathlib import Path

    from summarist.evaluation.quality_gate import EXIT_DROP, QUALITY_CHECK_FILE, check_export

    assert cfg.check is not None
    result = check_export(Path(str(out)), cfg.model, cfg.check, split=split, lang=cfg.lang)
    typer.echo(f"quality check: {result['verdict']}")
    typer.echo(f"quality check: {Path(str(out)) / QUALITY_CHECK_FILE}")
    if result["significant_drop"]:
        typer.secho(
            "warning: the export is significantly worse than its source model"
            + ("" if cfg.fail_on_drop else " (--fail-on-drop turns this into exit code 3)"),
            err=True,
            fg=typer.colors.YELLOW,
        )
        if cfg.fail_on_drop:
            raise typer.Exit(EXIT_DROP)
