"""Run the app under uvicorn: bind (127.0.0.1 by default), and drain on SIGTERM.

On SIGTERM/SIGINT uvicorn stops accepting connections, waits up to `drain_s` for the requests
in flight to be answered, then runs the lifespan's shutdown, which lets each model's worker
finish its queue.
"""

from __future__ import annotations

import logging
from types import FrameType
from typing import TYPE_CHECKING

from summarist.config.serve import ServeConfig
from summarist.errors import ConfigError
from summarist.serving.app import Loader, create_app

if TYPE_CHECKING:
    import uvicorn

log = logging.getLogger(__name__)


def check_paths_and_backend(config: ServeConfig) -> None:
    """One-line errors for the backend options and for a model path that holds no model, before
    anything loads or binds: models load in the app's lifespan, after the port is taken."""
    from summarist.inference.backends.ctranslate2_backend import is_export_dir
    from summarist.inference.backends.select import check_backend_options
    from summarist.models.resolve import check_local_model, resolve_model_path

    check_backend_options(config.backend, config.quantize, config.device)
    for m in config.models:
        if not m.path.strip():
            raise ConfigError(f"--model {m.name}= names no path", "--model NAME=PATH")
        if not is_export_dir(resolve_model_path(m.path)):
            check_local_model(m.path)


def build_server(config: ServeConfig, load: Loader | None = None) -> uvicorn.Server:
    """The uvicorn server of `config`'s app; a signal marks the app draining (`/readyz` 503)."""
    import uvicorn

    app = create_app(config, load)
    state = app.state.summarist

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            state.draining = True  # before uvicorn stops accepting: balancers see 503 at once
            super().handle_exit(sig, frame)

    return Server(
        uvicorn.Config(
            app,
            host=config.host,
            port=config.port,
            log_level=config.log_level,
            timeout_graceful_shutdown=int(config.drain_s) or None,
            access_log=False,
        )
    )


def run(config: ServeConfig) -> None:
    check_paths_and_backend(config)
    if config.host not in ("127.0.0.1", "localhost", "::1") and not config.api_keys:
        log.warning(
            "serving on %s without an API key: anyone who can reach it may use it", config.host
        )
    build_server(config).run()
