"""The `summarist` app: its root options, logging set-up, and `main`, where every input error
(ours and click's) becomes one line and exit code 2."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from summarist.errors import SummaristError

# rich_markup_mode=None: click's plain help, which never cuts an option name and wraps
# descriptions at any width (typer's rich panels truncate both at 80 columns).
app = typer.Typer(
    name="summarist",
    help="Fine-tune, evaluate and run summarization models with one reliable command.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)
data_app = typer.Typer(
    help="Inspect and prepare summarization data.", no_args_is_help=True, rich_markup_mode=None
)
app.add_typer(data_app, name="data")

STATE = {"debug": os.environ.get("SUMMARIST_DEBUG", "") not in ("", "0")}
"""--debug (or SUMMARIST_DEBUG=1): tracebacks and debug logs."""

JSON_REASON = "how the CLI prints the result (a table, or JSON): not a setting of the work"
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


@app.callback()
def root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks and debug logs.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only warnings and errors.")] = False,
) -> None:
    STATE["debug"] = STATE["debug"] or debug
    level = logging.DEBUG if STATE["debug"] else logging.WARNING if quiet else logging.INFO
    configure_logging(level)


@app.command()
def version() -> None:
    """Print the summarist version."""
    from summarist import __version__

    typer.echo(__version__)


def show(obj: Any, as_json: bool) -> None:
    """`obj` as JSON, or printed by rich (a table, a renderable)."""
    if as_json:
        typer.echo(json.dumps(obj, indent=2, ensure_ascii=False))
    else:
        from rich.console import Console

        Console().print(obj)


def show_run(out: Path, as_json: bool, render: Any) -> None:
    """A run directory's metrics, as a table (and where the run is) or JSON."""
    from summarist.rundir import METRICS, read_json

    metrics = read_json(out / METRICS)
    show(metrics if as_json else render(metrics), as_json)
    if not as_json:
        typer.echo(f"run directory: {out}")


def configure_logging(level: int) -> None:
    from rich.console import Console
    from rich.logging import RichHandler

    handler = RichHandler(
        console=Console(stderr=True), show_time=False, show_path=False, markup=False
    )
    logging.basicConfig(level=level, format="%(message)s", handlers=[handler], force=True)
    logging.getLogger("summarist").setLevel(level)
    if level > logging.DEBUG:  # --debug brings the libraries' bars and logs back
        from summarist.quiet import silence_library_output

        silence_library_output()
    for noisy in ("httpx", "urllib3", "filelock", "datasets", "huggingface_hub", "fsspec"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


def command_path(args: list[str]) -> str:
    """`summarist data stats` for `data stats --data x`: where the --help for an error is."""
    words = ["summarist"]
    for arg in args:
        if arg.startswith("-"):
            continue
        words.append(arg)
        if arg != "data":
            break
    return " ".join(words)


# typer >= 0.25 vendors click (typer._click): its exception base, reached without a private import
CLICK_ERROR: type[Exception] = next(
    c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException"
)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app; input errors (ours and click's) print one line, exit code 2."""
    args = sys.argv[1:] if argv is None else list(argv)
    if "--debug" in args:
        STATE["debug"] = True
    try:
        code = app(args=args, prog_name="summarist", standalone_mode=False)
    except SummaristError as err:
        if STATE["debug"]:
            raise
        hint = "" if err.hint else f"; see '{command_path(args)} --help'"
        typer.echo(f"error: {err.one_line()}{hint}", err=True)
        sys.exit(err.exit_code)
    except CLICK_ERROR as err:
        if type(err).__name__ == "NoArgsIsHelpError":  # `summarist` alone: the help, as before
            err.show()  # type: ignore[attr-defined]
            sys.exit(err.exit_code)  # type: ignore[attr-defined]
        # click's own usage errors (bad option value, missing option) in the same one-line form
        command = err.ctx.command_path if getattr(err, "ctx", None) else "summarist"
        message = " ".join(err.format_message().split())
        typer.echo(f"error: {message}; see '{command} --help'", err=True)
        sys.exit(err.exit_code)
    except (KeyboardInterrupt, typer.Abort):
        typer.echo("interrupted", err=True)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
