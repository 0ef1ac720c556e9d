"""The service's routes, on `APIRouter`s that `create_app` includes.

`api_router` holds the API (`/v1/...`; with `--api-key`, every route on it needs a key through
the router's dependency, `serving.auth`); `ops_router` the probes (`/healthz`, `/readyz`), the
Prometheus text (`/metrics`, keyed like the API) and the page at `/`. Another API (an
OpenAI-compatible one, say) is one more router built the same way: a function of the `State`
and the request schemas, listed in `serving.app.API_ROUTERS`. Endpoints only queue texts on a
model's `Batcher` and await the results (`run_texts`), so the event loop never generates.
"""

# No `from __future__ import annotations`: FastAPI reads the endpoints' annotations at runtime,
# and the request models are local to each router's builder.
import asyncio
import contextlib
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.params import Depends
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse

from summarist.config.generation import GenerationSettings
from summarist.config.serve import ServeConfig
from summarist.errors import ConfigError
from summarist.serving import schemas as s
from summarist.serving.auth import key_first
from summarist.serving.batcher import Batcher, Closed, Job, QueueFull, Result
from summarist.serving.faithfulness import check as check_faithfulness
from summarist.serving.openai_schemas import OpenAIModel
from summarist.serving.state import State

STATIC = Path(__file__).with_name("static")


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
    batcher = ready_batcher(state, name)
    generation = request_settings(batcher, settings, state.config)
    deadline = time.monotonic() + timeout
    jobs = await submit_texts(batcher, texts, generation, deadline)
    return await await_jobs(request, batcher, jobs, deadline)


def ready_batcher(state: State, name: str) -> Batcher:
    """The batcher of model `name`; 503 (with Retry-After) while it is still loading."""
    batcher = state.batchers.get(name)
    if batcher is None:
        raise HTTPException(
            503, {"field": "model", "message": f"model {name} is still loading"},
            headers={"Retry-After": "5"},
        )  # fmt: skip
    return batcher


async def submit_texts(
    batcher: Batcher, texts: list[str], settings: GenerationSettings, deadline: float
) -> list[Job]:
    """Queue the texts of one request (all or none); 503 with Retry-After when full."""
    tokens = await asyncio.to_thread(batcher.summarizer.count_tokens, texts)
    try:
        return batcher.submit(texts, tokens, settings, deadline)
    except QueueFull as full:
        raise HTTPException(
            503,
            {"field": "model", "message": f"model {batcher.name} is busy; retry later"},
            headers={"Retry-After": str(full.retry_after)},
        ) from None
    except Closed:
        raise HTTPException(503, {"message": "shutting down"}, {"Retry-After": "5"}) from None


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


def api_router(state: State, schemas: s.Schemas) -> APIRouter:
    """`/v1/summarize`, `/v1/compare`, `/v1/models` (summarist's listing and OpenAI's `data`)."""
    config = state.config
    router = APIRouter(route_class=key_first(state.api_key))
    started = int(time.time())
    SummarizeRequest, CompareRequest = schemas.summarize, schemas.compare

    @router.post("/v1/summarize", response_model=s.SummarizeResponse)
    async def summarize(body: SummarizeRequest, request: Request) -> s.SummarizeResponse:  # type: ignore[valid-type]
        start = time.perf_counter()
        check_sizes(body.texts, config, "texts")
        name = body.model or config.names[0]
        timeout = body.timeout_s or config.timeout_s
        got = await run_texts(request, state, name, body.texts, body.settings, timeout)
        method, faith = None, [None] * len(got)
        if body.faithfulness:
            method, found = await asyncio.to_thread(
                check_faithfulness, body.texts, {"summary": [r.summary for r in got]}
            )
            faith = found["summary"]
        return s.SummarizeResponse(
            model=name,
            summaries=[
                s.SummaryOut(**vars(r), faithfulness=f) for r, f in zip(got, faith, strict=True)
            ],
            latency_ms=1000 * (time.perf_counter() - start),
            faithfulness_method=method,
        )

    @router.post("/v1/compare", response_model=s.CompareResponse)
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
        method, faith = None, {n: [None] for n in names}
        if body.faithfulness:
            refs = [[body.reference]] if body.reference and body.reference.strip() else None
            method, faith = await asyncio.to_thread(
                check_faithfulness,
                [body.text],
                {n: [r.summary] for n, (r, _) in zip(names, outcomes, strict=True)},
                refs,
            )
        results = [
            s.CompareResult(model=n, latency_ms=ms, rouge=f1, faithfulness=faith[n][0], **vars(r))
            for n, (r, ms), f1 in zip(names, outcomes, rouge, strict=True)
        ]
        return s.CompareResponse(results=results, latency_ms=1000 * (time.perf_counter() - start),
                                 faithfulness_method=method)  # fmt: skip

    @router.get("/v1/models", response_model=s.ModelsResponse)
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
        data = [
            OpenAIModel(id=i.name, created=started, max_model_len=i.source_limit) for i in infos
        ]
        return s.ModelsResponse(models=infos, limits=limits, auth=bool(config.api_keys), data=data)

    return router


def ops_router(state: State, auth: list[Depends]) -> APIRouter:
    """Liveness, readiness, `/metrics` (behind `auth`) and the compare page at `/`."""
    config = state.config
    router = APIRouter()

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "alive"}

    @router.get("/readyz")
    async def readyz() -> JSONResponse:
        loading = [n for n in config.names if n not in state.batchers]
        body = {
            "ready": state.ready,
            "loading": loading,
            "error": state.error,
            "draining": state.draining,
        }
        return JSONResponse(body, status_code=200 if state.ready else 503)

    @router.get("/metrics", response_class=PlainTextResponse, dependencies=auth)
    async def metrics() -> PlainTextResponse:
        return PlainTextResponse(state.metrics.render(), media_type="text/plain; version=0.0.4")

    @router.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    return router


def score(summaries: list[str], reference: str) -> list[dict[str, float] | None]:
    """ROUGE F1 (0-100) of each summary against one reference."""
    from summarist.metrics import compute_rouge

    result = compute_rouge(summaries, [[reference]] * len(summaries), bootstrap=0, workers=1)
    return [{k: round(v, 2) for k, v in row.items()} for row in result.per_example]
