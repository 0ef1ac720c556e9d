"""The `summarist` command line: a thin layer. Each command parses flags, builds its typed
config (options generated from the config's fields: `cli.options`) and calls one library
function. Errors caused by input print one line and exit with code 2 (`cli.root.main`).

One module per command group; importing the package registers them all on `app`.
"""

from __future__ import annotations

from summarist.cli import (  # noqa: F401  (each registers its command on the app)
    baseline,
    compare,
    data,
    evaluate,
    export,
    report,
    serve,
    summarize,
    train,
)
from summarist.cli.root import app, main

__all__ = ["app", "main"]
