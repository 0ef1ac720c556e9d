"""`summarist serve`: models over HTTP with dynamic batching, and a compare page at /."""

from __future__ import annotations

import os
from dataclasses import replace

from summarist.cli.options import Flags, options
from summarist.cli.root import STATE, app
from summarist.config.serve import API_KEY_ENV, ServeConfig, keys_from_env
from summarist.errors import SummaristError


@app.command()
@options(ServeConfig)
def serve(flags: Flags) -> None:
    """Serve models over HTTP with dynamic batching, and a compare page at /."""
    try:
        from summarist.serving import serve as run_server
    except ImportError as err:
        raise SummaristError(
            f"serving needs fastapi and uvicorn ({err.name} is missing)",
            "pip install 'summarist[serve]'",
        ) from None
    if STATE["debug"] and flags.get("log_level") is None:
        flags.values[("log_level",)] = "debug"
    cfg: ServeConfig = flags.build()
    env_keys = keys_from_env(os.environ.get(API_KEY_ENV))  # the flag's keys and the variable's
    run_server(replace(cfg, api_keys=[*cfg.api_keys, *env_keys]) if env_keys else cfg)
