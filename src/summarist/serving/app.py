"""The FastAPI app: `create_app(config)` builds it; models load in its lifespan, never at import.

Loading runs in the background of the lifespan so that `/healthz` (alive) answers at once and
`/readyz` turns 200 only when every model is loaded and has generated once (warmed). Each model
gets a `Batcher` (queue + worker thread); the routes (`serving.routes`, on `APIRouter`s listed
in `API_ROUTERS`) only queue texts and await results, so the event loop never generates.

>>> from summarist.config.serve import ServeConfig, ServedModel
>>> app = create_app(ServeConfig(models=[ServedModel("t5", "runs/t5")]))  # doctest: +SKIP
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from summarist.config.serve import ServeConfig, ServedModel
from summarist.serving import schemas as s
from summarist.serving.auth import auth_dependencies
from summarist.serving.batcher import Batcher
from summarist.serving.middleware import Accounting, BodyLimit
from summarist.serving.openai_api import openai_router
from summarist.serving.routes import STATIC, api_router, cap_settings, ops_router
from summarist.serving.state import State

log = logging.getLogger(__name__)

WARM_TEXT = "A short text to warm the model up before the first request arrives."
Loader = Callable[[ServedModel], Any]
RouterFactory = Callable[[State, s.Schemas], APIRouter]

API_ROUTERS: tuple[RouterFactory, ...] = (api_router, openai_router)
"""The API's routers: summarist's own and the OpenAI-compatible one (`serving.openai_api`),
each included behind the API-key dependency, its routes checking the key first (`serving.auth`)."""


def load_summarizer(config: ServeConfig) -> Loader:
    """The default loader: `Summarizer.from_pretrained` with the configured backend."""

    def load(model: ServedModel) -> Any:
        from summarist.inference.summarizer import Summarizer

        return Summarizer.from_pretrained(
            model.path, backend=config.backend, quantize=config.quantize, device=config.device
        )

    return load


def create_app(config: ServeConfig, load: Loader | None = None) -> FastAPI:
    """The service for `config`; `load` (default: `Summarizer.from_pretrained`) opens a model."""
    state = State(config)
    load = load or load_summarizer(config)
    schemas = s.build_schemas(config)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        loading = asyncio.create_task(load_all(state, load))
        yield
        state.draining = True
        loading.cancel()
        for batcher in state.batchers.values():
            await asyncio.to_thread(batcher.close, config.drain_s)
        log.info("stopped: %d requests accepted, %d answered", counted.accepted, counted.answered)

    # docs_url=None: FastAPI's own /docs page loads Swagger UI from a CDN; ours serves it (and
    # /redoc, which would need a CDN too, is off).
    app = FastAPI(
        title="summarist", version=_version(), lifespan=lifespan, docs_url=None, redoc_url=None
    )
    app.state.summarist = state
    state.metrics.queue_depth = lambda: {n: b.depth for n, b in state.batchers.items()}
    auth = auth_dependencies(state.api_key)
    routers = [build(state, schemas) for build in API_ROUTERS]
    for router in routers:
        app.include_router(router, dependencies=auth)
    routers.append(ops_router(state, auth))
    app.include_router(routers[-1])
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    add_docs(app)
    add_error_handlers(app)
    if config.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=config.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["authorization", "x-api-key", "content-type"],
        )
    app.add_middleware(BodyLimit, max_bytes=config.max_body_bytes)
    # Paths counted by name in /metrics (others as "other"); an included router keeps its own.
    every = [*app.routes, *(route for router in routers for route in router.routes)]
    routes = {r.path for r in every if hasattr(r, "path")}
    counted = Accounting(app.build_middleware_stack(), state.metrics, routes)
    app.middleware_stack = counted  # type: ignore[assignment]
    return app


async def load_all(state: State, load: Loader) -> None:
    config = state.config
    for spec in config.models:
        try:
            summarizer = await asyncio.to_thread(load, spec)
            warm = cap_settings(summarizer.settings, config)
            warm = replace(warm, max_new_tokens=min(8, warm.max_new_tokens), min_new_tokens=0)
            await asyncio.to_thread(summarizer.summarize_detailed, [WARM_TEXT], warm)
        except Exception as err:
            state.error = f"{spec.name}: {err}"
            log.exception("could not load model %s from %s", spec.name, spec.path)
            return
        batcher = Batcher(
            spec.name,
            summarizer,
            state.metrics,
            max_wait_s=config.max_wait_ms / 1000,
            max_texts=config.max_batch_texts,
            max_tokens=config.max_batch_tokens,
            max_queue=config.max_queue,
        )
        batcher.start()
        state.batchers[spec.name] = batcher
        log.info("model %s ready (%s)", spec.name, spec.path)


def add_docs(app: FastAPI) -> None:
    """`/docs`: Swagger UI from the `swagger-ui-bundle` package, so it renders offline."""
    from swagger_ui_bundle import swagger_ui_path

    app.mount("/docs/assets", StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        return get_swagger_ui_html(
            openapi_url=root + (app.openapi_url or "/openapi.json"),
            title="summarist - API",
            swagger_js_url=f"{root}/docs/assets/swagger-ui-bundle.js",
            swagger_css_url=f"{root}/docs/assets/swagger-ui.css",
            swagger_favicon_url=f"{root}/docs/assets/favicon-32x32.png",
        )


def add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{k: v for k, v in e.items() if k not in ("input", "ctx")} for e in exc.errors()]
        first = errors[0] if errors else {"loc": ["body"], "msg": "invalid request"}
        loc, msg = list(first.get("loc", ())), first["msg"]
        if first.get("type") == "json_invalid":  # loc is ["body", character offset]
            loc, msg = ["body"], f"{msg} at character {loc[-1]}"
        where = ".".join(str(p) for p in loc if p != "body") or "body"
        body = {"detail": jsonable_encoder(errors), "field": where, "message": msg}
        return JSONResponse(body, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def refused(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, dict) else {"message": str(exc.detail)}
        body = {"detail": detail["message"], **detail}
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def failed(request: Request, exc: Exception) -> JSONResponse:
        log.exception("request failed: %s %s", request.method, request.url.path)
        return JSONResponse({"detail": "internal error", "message": str(exc)}, status_code=500)


def _version() -> str:
    from summarist import __version__

    return __version__
