"""Run the app under uvicorn: bind (127.0.0.1 by default), and drain on SIGTERM.

On SIGTERM/SIGINT uvicorn stops accepting connections, waits up to `drain_s` for the requests
in flight to be answered, then runs the lifespan's shutdown, which lets each model's worker
finish its queue.
"""

from __future__ import annotations

import logging

from summarist.config.serve import ServeConfig

log = logging.getLogger(__name__)


def run(config: ServeConfig) -> None:
    import uvicorn

    from summarist.serving.app import create_app

    if config.host not in ("127.0.0.1", "localhost", "::1") and not config.api_keys:
        log.warning(
            "serving on %s without an API key: anyone who can reach it may use it", config.host
        )
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(config),
            host=config.host,
            port=config.port,
            log_level=config.log_level,
            timeout_graceful_shutdown=int(config.drain_s) or None,
            access_log=False,
        )
    )
    server.run()
