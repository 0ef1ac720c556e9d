"""The FastAPI app: `create_app(config)` builds it; models load in its lifespan, never at import.

Loading runs in the background of the lifespan so that `/healthz` (alive) answers at once and
`/readyz` turns 200 only when every model is loaded and has generated once (warmed). Each model
gets a `Batcher` (queue + worker thread); endpoints only queue texts and await results, so the
event loop never generates.

>>> from summarist.config.serve import ServeConfig, ServedModel
>>> app = create_app(ServeConfig(models=[ServedModel("t5", "runs/t5")]))  # doctest: +SKIP
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from summarist.config.generation import GenerationSettings
from summarist.config.serve import ServeConfig, ServedModel
from summarist.errors import ConfigError
from summarist.serving import schemas as s
from summarist.serving.batcher import Batcher, Closed, Job, QueueFull, Result
from summarist.serving.middleware import Accounting, APIKeys, BodyLimit
from summarist.serving.prometheus import Metrics

log = logging.getLogger(__name__)

STATIC = Path(__file__).with_name("static")
WARM_TEXT = "A short text to warm the model up before the first request arrives."
Loader = Callable[[ServedModel], Any]


@dataclass
class State:
    """What the app knows at run time: loaded models, their batchers, readiness."""

    config: ServeConfig
    metrics: Metrics = field(default_factory=Metrics)
    batchers: dict[str, Batcher] = field(default_factory=dict)
    error: str | None = None
    draining: bool = False
    """Set on SIGTERM/SIGINT (and at shutdown): `/readyz` answers 503 so balancers move away."""

    @property
    def ready(self) -> bool:
        return not self.draining and len(self.batchers) == len(self.config.models)


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
    add_routes(app, state, schemas)
    add_error_handlers(app)
    if config.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=config.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["authorization", "x-api-key", "content-type"],
        )
    if config.api_keys:
        app.add_middleware(APIKeys, keys=config.api_keys)
    app.add_middleware(BodyLimit, max_bytes=config.max_body_bytes)
    routes = {r.path for r in app.routes if hasattr(r, "path")}
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


def cap_settings(settings: GenerationSettings, config: ServeConfig) -> GenerationSettings:
    """The model's saved settings within the server's caps."""
    capped = min(settings.max_new_tokens, config.max_new_tokens)
    return replace(
        settings,
        max_new_tokens=capped,
        min_new_tokens=min(settings.min_new_tokens, capped),
        num_beams=min(settings.num_beams, config.max_beams),
    )


def request_settings(batcher: Batcher, given: Any, config: ServeConfig) -> GenerationSettings:
    base = cap_settings(batcher.summarizer.settings, config)
    if given is None:
        return base
    try:
        return base.with_overrides(**given.model_dump(exclude_none=True))
    except ConfigError as err:
        raise HTTPException(422, {"field": "settings", "message": err.message}) from None


def check_sizes(texts: list[str], config: ServeConfig, where: str) -> None:
    if len(texts) > config.max_texts:
        raise HTTPException(
            413, {"field": where, "message": f"{len(texts)} texts; at most {config.max_texts}"}
        )
    for i, text in enumerate(texts):
        if len(text) > config.max_chars:
            raise HTTPException(
                413,
                {
                    "field": f"{where}[{i}]" if where == "texts" else where,
                    "message": f"{len(text)} characters; at most {config.max_chars}",
                },
            )


async def wait_disconnect(request: Request) -> None:
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def run_texts(
    request: Request, state: State, name: str, texts: list[str], settings: Any, timeout: float
) -> list[Result]:
    """Queue `texts` on model `name`, await their results; 503 full, 504 late, gone: dropped."""
    batcher = state.batchers.get(name)
    if batcher is None:
        raise HTTPException(503, {"field": "model", "message": f"model {name} is still loading"})
    generation = request_settings(batcher, settings, state.config)
    deadline = time.monotonic() + timeout
    tokens = await asyncio.to_thread(batcher.summarizer.count_tokens, texts)
    try:
        jobs = batcher.submit(texts, tokens, generation, deadline)
    except QueueFull as full:
        raise HTTPException(
            503,
            {"field": "model", "message": f"model {name} is busy; retry later"},
            headers={"Retry-After": str(full.retry_after)},
        ) from None
    except Closed:
        raise HTTPException(503, {"message": "shutting down"}, {"Retry-After": "5"}) from None
    return await await_jobs(request, batcher, jobs, deadline)


async def await_jobs(request: Request, batcher: Batcher, jobs: list[Job], deadline: float) -> Any:
    results = asyncio.gather(*(j.future for j in jobs))
    gone = asyncio.ensure_future(wait_disconnect(request))
    try:
        done, _ = await asyncio.wait(
            {results, gone}, timeout=max(0.0, deadline - time.monotonic()),
            return_when=asyncio.FIRST_COMPLETED,
        )  # fmt: skip
    finally:
        gone.cancel()
    if results in done:
        try:
            return results.result()
        except Closed:
            raise HTTPException(503, {"message": "shutting down"}, {"Retry-After": "5"}) from None
    batcher.cancel(jobs, "disconnect" if gone in done else "deadline")
    results.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await results
    if gone in done:
        raise HTTPException(499, {"message": "client disconnected"})
    raise HTTPException(504, {"field": "timeout_s", "message": "deadline passed"})


def add_routes(app: FastAPI, state: State, schemas: s.Schemas) -> None:
    config = state.config
    SummarizeRequest, CompareRequest = schemas.summarize, schemas.compare

    @app.post("/v1/summarize", response_model=s.SummarizeResponse)
    async def summarize(body: SummarizeRequest, request: Request) -> s.SummarizeResponse:  # type: ignore[valid-type]
        start = time.perf_counter()
        check_sizes(body.texts, config, "texts")
        name = body.model or config.names[0]
        timeout = body.timeout_s or config.timeout_s
        got = await run_texts(request, state, name, body.texts, body.settings, timeout)
        return s.SummarizeResponse(
            model=name,
            summaries=[s.SummaryOut(**vars(r)) for r in got],
            latency_ms=1000 * (time.perf_counter() - start),
        )

    @app.post("/v1/compare", response_model=s.CompareResponse)
    async def compare(body: CompareRequest, request: Request) -> s.CompareResponse:  # type: ignore[valid-type]
        start = time.perf_counter()
        check_sizes([body.text], config, "text")
        names = body.models or config.names
        timeout = body.timeout_s or config.timeout_s

        async def one(name: str) -> tuple[Result, float]:
            t0 = time.perf_counter()
            got = await run_texts(request, state, name, [body.text], body.settings, timeout)
            return got[0], 1000 * (time.perf_counter() - t0)

        outcomes = await asyncio.gather(*(one(n) for n in names))
        rouge: list[dict[str, float] | None] = [None] * len(names)
        if body.reference and body.reference.strip():
            rouge = await asyncio.to_thread(score, [r.summary for r, _ in outcomes], body.reference)
        results = [
            s.CompareResult(model=n, latency_ms=ms, rouge=f1, **vars(r))
            for n, (r, ms), f1 in zip(names, outcomes, rouge, strict=True)
        ]
        return s.CompareResponse(results=results, latency_ms=1000 * (time.perf_counter() - start))

    @app.get("/v1/models", response_model=s.ModelsResponse)
    async def models() -> s.ModelsResponse:
        infos = []
        for spec in config.models:
            b = state.batchers.get(spec.name)
            summ = b.summarizer if b else None
            infos.append(
                s.ModelInfo(
                    name=spec.name,
                    backend=getattr(getattr(summ, "backend", None), "name", config.backend),
                    ready=b is not None,
                    source_limit=getattr(summ, "source_limit", None),
                    settings=cap_settings(summ.settings, config).to_dict() if summ else None,
                )
            )
        limits = s.Limits(**{k: getattr(config, k) for k in s.Limits.model_fields})
        return s.ModelsResponse(models=infos, limits=limits, auth=bool(config.api_keys))

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "alive"}

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        loading = [n for n in config.names if n not in state.batchers]
        body = {
            "ready": state.ready,
            "loading": loading,
            "error": state.error,
            "draining": state.draining,
        }
        return JSONResponse(body, status_code=200 if state.ready else 503)

    @app.get("/metrics", response_class=PlainTextResponse)
    async def metrics() -> PlainTextResponse:
        return PlainTextResponse(state.metrics.render(), media_type="text/plain; version=0.0.4")

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    add_docs(app)


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


def score(summaries: list[str], reference: str) -> list[dict[str, float] | None]:
    """ROUGE F1 (0-100) of each summary against one reference."""
    from summarist.metrics import compute_rouge

    result = compute_rouge(summaries, [[reference]] * len(summaries), bootstrap=0, workers=1)
    return [{k: round(v, 2) for k, v in row.items()} for row in result.per_example]


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
