"""The HTTP service (`summarist serve`): app factory, dynamic batcher, schemas, the page at `/`.

Needs the `serve` extra (`pip install summarist[serve]`): fastapi and uvicorn.
"""

from summarist.serving.app import create_app

__all__ = ["create_app", "serve"]


def serve(config: object) -> None:
    """Run the service for a `ServeConfig` under uvicorn until SIGTERM/SIGINT (then drain)."""
    from summarist.serving.server import run

    run(config)  # type: ignore[arg-type]
