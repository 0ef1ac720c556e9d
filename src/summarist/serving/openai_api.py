"""OpenAI-compatible routes: `POST /v1/chat/completions` and `POST /v1/completions`.

They go through the same batcher, limits, metrics and API key as `/v1/summarize`, so the
clients, gateways and UIs that speak OpenAI's API (the `openai` SDK, LangChain, Open WebUI)
can use any served model. The text to summarize is the content of the last `user` message
(chat) or the prompt (completions); the model applies its own prompt (T5's prefix, say), so
system messages and earlier turns are not given to it. Decoding: `temperature` 0 is greedy,
above 0 (or `top_p`) samples (with `seed`: reproducibly), neither given keeps the model's saved
settings (beam search, usually). Errors have OpenAI's shape, `{"error": {"message", "type",
"param", "code"}}`.

Streaming sends OpenAI's chunks (role first, the content, the finish reason, the usage chunk
when `stream_options.include_usage`, then `data: [DONE]`). Generation is batched across
requests, not token by token, so the content arrives as one delta when its batch finishes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, replace
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from summarist.config.generation import GenerationSettings
from summarist.errors import ConfigError
from summarist.serving import openai_schemas as o
from summarist.serving.auth import key_first
from summarist.serving.batcher import Batcher, Closed, Job, Result
from summarist.serving.routes import (
    await_jobs,
    cap_settings,
    check_sizes,
    ready_batcher,
    submit_texts,
)
from summarist.serving.state import State

MAX_STOP = 4  # as OpenAI
SAMPLING_EPS = 1e-5
"""A temperature below this is greedy (as vLLM): dividing logits by 1e-82 overflows to NaN."""
ERROR_TYPES = {401: "authentication_error", 404: "invalid_request_error", 429: "rate_limit_error"}


class OpenAIError(Exception):
    """An answer in OpenAI's error shape."""

    def __init__(
        self, status: int, message: str, param: str | None = None, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.param, self.code = status, message, param, code


def error_body(status: int, message: str, param: str | None = None, code: str | None = None) -> dict[str, Any]:  # fmt: skip
    kind = ERROR_TYPES.get(status, "invalid_request_error" if status < 500 else "server_error")
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def error_response(err: OpenAIError, headers: dict[str, str] | None = None) -> JSONResponse:
    body = error_body(err.status, err.message, err.param, err.code)
    return JSONResponse(body, status_code=err.status, headers=headers)


class OpenAIRoute(APIRoute):
    """Every error of these routes in OpenAI's shape: invalid bodies are 400 (not 422), and
    the HTTP errors of the shared helpers (413, 503 with Retry-After, 504) keep their status."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Any]]:
        handle = super().get_route_handler()

        async def handler(request: Request) -> Any:
            try:
                return await handle(request)
            except OpenAIError as err:
                return error_response(err)
            except RequestValidationError as exc:
                return error_response(invalid(exc))
            except (HTTPException, StarletteHTTPException) as exc:
                detail = (
                    exc.detail if isinstance(exc.detail, dict) else {"message": str(exc.detail)}
                )
                err = OpenAIError(exc.status_code, detail["message"], detail.get("field"))
                return error_response(err, exc.headers)

        return handler


def invalid(exc: RequestValidationError) -> OpenAIError:
    first = next(iter(exc.errors()), {"loc": ("body",), "msg": "invalid request"})
    loc = [str(p) for p in first.get("loc", ()) if p != "body"]
    if first.get("type") == "json_invalid":
        return OpenAIError(400, f"the body is not valid JSON: {first['msg']}")
    where = ".".join(loc) or None
    return OpenAIError(400, f"{where or 'body'}: {first['msg']}", where)


@dataclass(frozen=True)
class Answer:
    text: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int


def openai_router(state: State, schemas: Any = None) -> APIRouter:
    """The two routes, for the app's `State` (its config, batchers and metrics); `schemas`
    (summarist's own request bodies) are not used: these bodies are OpenAI's."""
    from summarist import __version__

    route_class = key_first(state.api_key, OpenAIRoute)
    router = APIRouter(route_class=route_class, tags=["OpenAI-compatible"])
    responses: dict[int | str, dict[str, Any]] = {
        code: {"model": o.ErrorResponse} for code in (400, 401, 404, 413, 503, 504)
    }

    @router.post("/v1/chat/completions", response_model=o.ChatCompletion, responses=responses)
    async def chat(body: o.ChatCompletionRequest, request: Request) -> Any:
        refuse_unsupported(body)
        for field in ("logprobs", "tools", "functions", "top_logprobs"):
            if getattr(body, field):
                raise OpenAIError(400, f"{field} is not supported by summarist", field)
        kind = (body.response_format or {}).get("type", "text")
        if kind != "text":
            raise OpenAIError(400, f"response_format {kind!r} is not supported", "response_format")
        max_tokens = body.max_completion_tokens or body.max_tokens
        return await complete(request, body, [user_text(body.messages)], max_tokens, chat=True)

    @router.post("/v1/completions", response_model=o.Completion, responses=responses)
    async def completions(body: o.CompletionRequest, request: Request) -> Any:
        refuse_unsupported(body)
        asked = {"logprobs": body.logprobs is not None, "echo": bool(body.echo),
                 "suffix": bool(body.suffix), "best_of": (body.best_of or 1) != 1}  # fmt: skip
        for field, given in asked.items():
            if given:
                raise OpenAIError(400, f"{field} is not supported by summarist", field)
        prompts = [body.prompt] if isinstance(body.prompt, str) else list(body.prompt)
        if not prompts:
            raise OpenAIError(400, "prompt is an empty list", "prompt")
        return await complete(request, body, prompts, body.max_tokens, chat=False)

    async def complete(
        request: Request, body: Any, texts: list[str], max_tokens: int | None, *, chat: bool
    ) -> Any:
        config = state.config
        name = body.model or config.names[0]
        if name not in config.names:
            raise OpenAIError(
                404, f"the model '{name}' does not exist; served: {', '.join(config.names)}",
                "model", "model_not_found",
            )  # fmt: skip
        check_sizes(texts, config, "prompt" if not chat else "messages")
        batcher = ready_batcher(state, name)
        settings = request_settings(batcher, body, max_tokens, config)
        deadline = time.monotonic() + config.timeout_s
        jobs = await submit_texts(batcher, texts, settings, deadline)
        meta = {
            "id": ("chatcmpl-" if chat else "cmpl-") + uuid.uuid4().hex,
            "created": int(time.time()),
            "model": name,
            "system_fingerprint": f"summarist-{__version__}-{getattr(batcher.summarizer.backend, 'name', 'model')}",
        }
        if body.stream:
            usage = bool(body.stream_options and body.stream_options.include_usage)
            events = stream(request, batcher, jobs, deadline, settings, meta, chat, usage)
            headers = {"cache-control": "no-cache", "x-accel-buffering": "no"}
            return StreamingResponse(events, media_type="text/event-stream", headers=headers)
        results = await await_jobs(request, batcher, jobs, deadline)
        answers = [answer(r, settings) for r in results]
        usage_out = usage_of(answers)
        if chat:
            choice = o.ChatChoice(
                index=0,
                message=o.AssistantMessage(content=answers[0].text),
                finish_reason=answers[0].finish_reason,  # type: ignore[arg-type]
            )
            return o.ChatCompletion(**meta, choices=[choice], usage=usage_out)
        choices = [
            o.CompletionChoice(index=i, text=a.text, finish_reason=a.finish_reason)  # type: ignore[arg-type]
            for i, a in enumerate(answers)
        ]
        return o.Completion(**meta, choices=choices, usage=usage_out)

    return router


def refuse_unsupported(body: o.Sampling) -> None:
    """400 for what OpenAI defines and summarist cannot do, naming the field."""
    if body.n is not None and body.n != 1:
        raise OpenAIError(400, f"n={body.n}: only n=1 is supported", "n")
    for field in ("presence_penalty", "frequency_penalty"):
        if getattr(body, field) not in (None, 0, 0.0):
            raise OpenAIError(
                400, f"{field} is not supported (repetition_penalty is, as an extra field)", field
            )
    if body.logit_bias:
        raise OpenAIError(400, "logit_bias is not supported", "logit_bias")
    stops = [body.stop] if isinstance(body.stop, str) else list(body.stop or [])
    if len(stops) > MAX_STOP or any(not s for s in stops):
        raise OpenAIError(400, f"stop: at most {MAX_STOP} non-empty strings", "stop")


def user_text(messages: list[o.ChatMessage]) -> str:
    """The text to summarize: the content of the last `user` message (text parts joined)."""
    last = next((m for m in reversed(messages) if m.role == "user"), None)
    if last is None or last.content is None:
        raise OpenAIError(400, "messages: no user message holds the text to summarize", "messages")
    if isinstance(last.content, str):
        return last.content
    kinds = sorted({p.type for p in last.content if p.type != "text"})
    if kinds:
        raise OpenAIError(400, f"messages: only text content is supported, not {kinds[0]}", "messages")  # fmt: skip
    return "\n".join(p.text or "" for p in last.content)


def request_settings(
    batcher: Batcher, body: o.Sampling, max_tokens: int | None, config: Any
) -> GenerationSettings:
    """The model's saved settings (within the server's caps) with the request's applied."""
    base = cap_settings(batcher.summarizer.settings, config)
    if max_tokens is not None and max_tokens > config.max_new_tokens:
        raise OpenAIError(
            400, f"max_tokens={max_tokens} is over this server's cap of {config.max_new_tokens}",
            "max_tokens",
        )  # fmt: skip
    if body.num_beams is not None and body.num_beams > config.max_beams:
        raise OpenAIError(400, f"num_beams over this server's cap of {config.max_beams}", "num_beams")  # fmt: skip
    changes: dict[str, Any] = {}
    if body.temperature is not None and body.temperature < SAMPLING_EPS:
        changes = {"num_beams": 1, "do_sample": False, "early_stopping": False}
    elif body.temperature is not None or body.top_p is not None:
        changes = {"num_beams": 1, "do_sample": True, "early_stopping": False,
                   "temperature": body.temperature or 1.0, "top_p": body.top_p or 1.0,
                   "sample_seed": body.seed}  # fmt: skip
    if max_tokens is not None:
        changes["max_new_tokens"] = max_tokens
        changes["min_new_tokens"] = min(base.min_new_tokens, max_tokens)
    if body.stop:
        changes["stop"] = (body.stop,) if isinstance(body.stop, str) else tuple(body.stop)
    extras = {"num_beams": body.num_beams, "length_penalty": body.length_penalty,
              "no_repeat_ngram_size": body.no_repeat_ngram_size,
              "repetition_penalty": body.repetition_penalty, "min_new_tokens": body.min_tokens}  # fmt: skip
    changes.update({k: v for k, v in extras.items() if v is not None})
    try:
        return replace(base, **changes)
    except ConfigError as err:
        raise OpenAIError(400, err.message) from None


def answer(result: Result, settings: GenerationSettings) -> Answer:
    """The completion of one result: cut before the first stop string (OpenAI leaves the stop
    sequence out); "length" when generation used the whole token budget."""
    text, stopped = result.summary, False
    cuts = [i for i in (text.find(s) for s in settings.stop) if i >= 0]
    if cuts:
        text, stopped = text[: min(cuts)], True
    reason = "length" if not stopped and result.new_tokens >= settings.max_new_tokens else "stop"
    return Answer(text, reason, result.source_tokens, result.new_tokens)


def usage_of(answers: list[Answer]) -> o.Usage:
    prompt = sum(a.prompt_tokens for a in answers)
    completion = sum(a.completion_tokens for a in answers)
    return o.Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion)  # fmt: skip


def sse(data: dict[str, Any]) -> str:
    return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"


async def stream(
    request: Request,
    batcher: Batcher,
    jobs: list[Job],
    deadline: float,
    settings: GenerationSettings,
    meta: dict[str, Any],
    chat: bool,
    include_usage: bool,
) -> AsyncIterator[str]:
    """OpenAI's chunks for `jobs`; each choice's content as it completes, then usage, [DONE]."""
    kind = "chat.completion.chunk" if chat else "text_completion"
    extra = {"usage": None} if include_usage else {}

    def chunk(index: int, delta: str | None, reason: str | None, role: bool = False) -> str:
        if chat:
            d: dict[str, Any] = {"role": "assistant", "content": ""} if role else {}
            if delta is not None:
                d["content"] = delta
            choice: dict[str, Any] = {"index": index, "delta": d, "logprobs": None,
                                      "finish_reason": reason}  # fmt: skip
        else:
            choice = {
                "index": index,
                "text": delta or "",
                "logprobs": None,
                "finish_reason": reason,
            }
        return sse({**meta, "object": kind, "choices": [choice], **extra})

    answers: list[Answer] = []
    try:
        if chat:
            yield chunk(0, None, None, role=True)
        pending = {asyncio.ensure_future(_indexed(i, j)) for i, j in enumerate(jobs)}
        while pending:
            left = deadline - time.monotonic()
            done, pending = await asyncio.wait(
                pending, timeout=max(0.0, left), return_when=asyncio.FIRST_COMPLETED
            )
            if not done:
                raise TimeoutError
            for task in done:
                index, result = task.result()
                got = answer(result, settings)
                answers.append(got)
                yield chunk(index, got.text, None)
                yield chunk(index, None if chat else "", got.finish_reason)
        if include_usage:
            yield sse(
                {**meta, "object": kind, "choices": [], "usage": usage_of(answers).model_dump()}
            )
    except TimeoutError:
        batcher.cancel(jobs, "deadline")
        yield sse(error_body(504, "deadline passed", "timeout_s"))
    except Closed:
        yield sse(error_body(503, "shutting down"))
    except Exception as err:  # the model failed: the stream says so instead of ending silently
        yield sse(error_body(500, f"generation failed: {err}"))
    finally:  # a client that left (the task is cancelled) takes its queued texts with it
        with contextlib.suppress(Exception):
            batcher.cancel(jobs, "disconnect")
    yield "data: [DONE]\n\n"


async def _indexed(index: int, job: Job) -> tuple[int, Result]:
    return index, await job.future
