"""`summarist compare`: several models on the same texts, side by side, optionally scored."""

from __future__ import annotations

from typing import Annotated

import typer

from summarist.cli.options import Flags, options
from summarist.cli.root import JSON_REASON, JsonOpt, app, show
from summarist.model_comparison import CompareModelsConfig

MORE_MODELS_REASON = (
    "the rest of `--models A B C` (a click option takes one value): appended to models"
)


@app.command()
@options(
    CompareModelsConfig, command_only={"more_models": MORE_MODELS_REASON, "as_json": JSON_REASON}
)
def compare(
    flags: Flags,
    more_models: Annotated[
        list[str] | None,
        typer.Argument(
            help="More models (so that --models A B C works).", metavar="MODEL", show_default=False
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Several models side by side: summaries, lengths, latency (--data: ROUGE, CIs, tests).

    With --data and --split every model is also scored (ROUGE with bootstrap CIs), gets a run
    directory under --output-dir, and each pair of models gets a paired bootstrap test. A model
    may be an OpenAI-compatible endpoint (openai:MODEL@URL or a system YAML file, in --models or
    --system); --temperature, --top-p and --stop then set the endpoints' requests too.
    """
    from summarist.distributed import is_main_rank
    from summarist.model_comparison import compare_models, render_evaluation, render_side_by_side

    if more_models:
        flags.values[("models",)] = [*(flags.get("models") or []), *more_models]
    cfg: CompareModelsConfig = flags.build()
    result = compare_models(cfg)
    if not is_main_rank():  # under a launcher the main rank prints
        return
    from summarist.evaluation.systems import check_complete

    failed = {i for m in result["models"].values() for i in m.get("errors") or {}}
    if as_json:
        show(result, as_json=True)
        check_complete(len(failed), len(result["texts"]), "the JSON above")
        return
    from rich.console import Console

    console = Console()
    console.print(render_side_by_side(result))
    where = "the table above"
    if "evaluation" in result:
        for table in render_evaluation(result["evaluation"]):
            console.print(table)
        typer.echo(f"run directories: {cfg.output_dir}")
        where = f"the failed examples above and {cfg.output_dir}/*/metrics.json"
    check_complete(len(failed), len(result["texts"]), where)
