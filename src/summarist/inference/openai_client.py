"""Summaries from an OpenAI-compatible endpoint: `/chat/completions`, asked concurrently.

Each text becomes one chat request (the system prompt, then the text as the user message). Up
to `concurrency` requests are in flight. A timeout, a refused or reset connection, 429 and 5xx
are retried up to `max_retries` times, waiting `retry_backoff_s` doubled each time, or what the
server's `Retry-After` says (capped at `max_retry_wait_s`). 401/403 (the key) and 404 (the URL
or the model) stop the run at once: every text would fail the same way. An answer that is not
JSON or holds no choice fails its text without a retry (the server did answer). Every answer is
kept in the response cache as it arrives, so a run that was interrupted or partly failed
resumes where it stopped and never asks an answered text again.

The HTTP client is httpx (`pip install 'summarist[openai]'`), not the `openai` SDK: retries,
Retry-After and the cache are ours to control, and the SDK would retry on its own.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from summarist.config.openai import OpenAISystem, default_cache_dir
from summarist.errors import SummaristError
from summarist.inference.response_cache import ResponseCache, cache_key

log = logging.getLogger(__name__)

RETRY_STATUS = {408, 409, 425, 429}  # and every 5xx
FATAL_STATUS = {401: "the API key was refused", 403: "the API key may not use this model",
                404: "not found: check the base URL (it usually ends in /v1) and the model name"}  # fmt: skip


class EndpointError(SummaristError):
    """The endpoint cannot answer any text (down at the start, wrong key, URL or model)."""


@dataclass
class Outcome:
    """What became of one text."""

    index: int
    summary: str | None = None
    error: str | None = None
    cached: bool = False
    finish_reason: str | None = None
    usage: dict[str, Any] | None = None
    model: str | None = None
    """The model the server says answered (`model` of its response)."""
    system_fingerprint: str | None = None
    attempts: int = 0
    seconds: float = 0.0


@dataclass
class EndpointRun:
    """Every text's outcome, in input order, and what the endpoint said about itself."""

    outcomes: list[Outcome]
    listed_models: list[str] | None = None
    """Model ids of the endpoint's `GET /models` (None: not asked, or not available)."""
    seconds: float = 0.0
    retries: int = 0

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.error is not None]

    @property
    def from_cache(self) -> int:
        return sum(o.cached for o in self.outcomes)

    def record(self) -> dict[str, Any]:
        """What the run directory keeps: counts, the server-reported models, the failures."""
        answered = [o for o in self.outcomes if o.error is None]
        usage = {k: sum((o.usage or {}).get(k) or 0 for o in answered)
                 for k in ("prompt_tokens", "completion_tokens")}  # fmt: skip
        return {
            "texts": len(self.outcomes),
            "answered": len(answered),
            "from_cache": self.from_cache,
            "asked": len(self.outcomes) - self.from_cache,
            "failed": len(self.failed),
            "retries": self.retries,
            "seconds": round(self.seconds, 3),
            "listed_models": self.listed_models,
            "response_models": sorted({o.model for o in answered if o.model}),
            "system_fingerprints": sorted({o.system_fingerprint for o in answered if o.system_fingerprint}),
            "finish_reasons": {r: sum(o.finish_reason == r for o in answered)
                               for r in sorted({str(o.finish_reason) for o in answered})},
            "usage": usage,
            "failures": [{"index": o.index, "error": o.error} for o in self.failed],
        }  # fmt: skip


def messages_for(text: str, system: OpenAISystem) -> list[dict[str, str]]:
    s = system.settings
    messages = [{"role": "system", "content": s.system_prompt}] if s.system_prompt else []
    return [*messages, {"role": "user", "content": s.prompt.replace("{text}", text)}]


def run_endpoint(
    system: OpenAISystem, texts: list[str], progress: Callable[[int], None] | None = None
) -> EndpointRun:
    """Summaries of `texts` from `system` (cached answers first); see the module doc.

    >>> from summarist.config.openai import parse_system
    >>> run = run_endpoint(parse_system("openai:t5@http://127.0.0.1:8000/v1"), ["A text."])  # doctest: +SKIP
    >>> run.outcomes[0].summary  # doctest: +SKIP
    """
    state = _Progress(progress)
    try:
        return asyncio.run(_run(system, texts, state))
    except KeyboardInterrupt:
        log.warning(
            "interrupted: %d of %d texts answered and kept in the cache; the same command "
            "resumes from there", state.answered, len(texts),
        )  # fmt: skip
        raise


@dataclass
class _Progress:
    callback: Callable[[int], None] | None
    done: int = 0
    answered: int = 0
    retries: int = 0
    unreachable: str | None = None
    """Set when a text failed to connect after every retry: texts not yet asked fail fast."""

    def finished(self, outcome: Outcome) -> None:
        self.done += 1
        self.answered += outcome.error is None
        if self.callback is not None:
            self.callback(self.done)


async def _run(system: OpenAISystem, texts: list[str], state: _Progress) -> EndpointRun:
    httpx = _httpx()
    s = system.settings
    start = time.perf_counter()
    cache = ResponseCache(s.cache_dir or default_cache_dir()) if s.cache else None
    requests = [messages_for(t, system) for t in texts]
    keys = [cache_key(system.base_url, system.model, m, s.request_settings()) for m in requests]
    outcomes: list[Outcome | None] = [None] * len(texts)
    for i, key in enumerate(keys):
        hit = cache.get(key) if cache is not None else None
        if hit is not None:
            outcomes[i] = _from_answer(i, hit, cached=True)
            state.finished(outcomes[i])  # type: ignore[arg-type]
    todo = [i for i, o in enumerate(outcomes) if o is None]
    listed = None
    headers = {"Authorization": f"Bearer {system.api_key}"}
    limits = httpx.Limits(max_connections=s.concurrency, max_keepalive_connections=s.concurrency)
    timeout = httpx.Timeout(s.request_timeout_s)
    async with httpx.AsyncClient(
        base_url=system.base_url, headers=headers, timeout=timeout, limits=limits
    ) as client:
        if todo:
            listed = await _list_models(client, system)
        gate = asyncio.Semaphore(s.concurrency)

        async def one(i: int) -> None:
            async with gate:
                outcomes[i] = await _ask(client, system, requests[i], i, state)
            got = outcomes[i]
            if cache is not None and got.error is None:
                cache.put(
                    keys[i], _answer_of(got), {"model": system.model, "messages": requests[i]}
                )
            state.finished(got)

        try:
            async with asyncio.TaskGroup() as tasks:
                for i in todo:
                    tasks.create_task(one(i))
        except BaseExceptionGroup as group:  # a fatal answer (key, URL, model) ends the run
            fatal = next((e for e in group.exceptions if isinstance(e, SummaristError)), None)
            if fatal is not None:
                raise fatal from None
            raise
    done = [o for o in outcomes if o is not None]
    return EndpointRun(done, listed, time.perf_counter() - start, state.retries)


async def _list_models(client: Any, system: OpenAISystem) -> list[str] | None:
    """The endpoint's `GET /models` ids; a server that cannot be reached at all stops here."""
    httpx = _httpx()
    try:
        r = await client.get("/models")
    except httpx.TransportError as err:
        raise EndpointError(
            f"cannot reach {system.base_url}: {_why(err)}",
            "is the server running, and is the URL right? (it usually ends in /v1)",
        ) from None
    if r.status_code in (401, 403):
        raise EndpointError(f"{system.base_url}: {FATAL_STATUS[r.status_code]} (HTTP {r.status_code})",
                            f"set {system.api_key_env}")  # fmt: skip
    try:
        return [str(m["id"]) for m in r.json()["data"]] if r.status_code == 200 else None
    except (ValueError, KeyError, TypeError):
        return None


async def _ask(
    client: Any, system: OpenAISystem, messages: list[dict[str, str]], index: int, state: _Progress
) -> Outcome:
    """One text through the retry loop."""
    httpx = _httpx()
    s = system.settings
    body = {"model": system.model, "messages": messages, **s.request_settings()}
    began = time.perf_counter()
    error = "not asked"
    for attempt in range(s.max_retries + 1):
        if state.unreachable is not None:
            error = f"not asked: {system.base_url} stopped answering ({state.unreachable})"
            break
        wait = s.retry_backoff_s * 2**attempt
        try:
            async with asyncio.timeout(s.request_timeout_s):
                r = await client.post("/chat/completions", json=body)
        except (TimeoutError, httpx.TimeoutException):
            error, retry = f"timed out after {s.request_timeout_s:g} s", True
        except httpx.TransportError as err:
            error, retry = f"connection failed: {_why(err)}", True
        else:
            if r.status_code == 200:
                outcome = _parse(index, r)
                outcome.attempts, outcome.seconds = attempt + 1, time.perf_counter() - began
                return outcome
            if r.status_code in FATAL_STATUS:
                raise EndpointError(
                    f"{system.base_url} answered HTTP {r.status_code} for model "
                    f"{system.model!r}: {FATAL_STATUS[r.status_code]} ({_message(r)})",
                    f"check the URL, the model name and {system.api_key_env}",
                )
            error = f"HTTP {r.status_code}: {_message(r)}"
            retry = r.status_code in RETRY_STATUS or r.status_code >= 500
            wait = retry_after(r.headers.get("retry-after"), wait)
        if not retry or attempt == s.max_retries:
            if error.startswith("connection failed") and retry:
                state.unreachable = error
            break
        state.retries += 1
        log.debug("text %d: %s; retry %d in %.2f s", index, error, attempt + 1, wait)
        await asyncio.sleep(min(wait, s.max_retry_wait_s))
    return Outcome(index, error=error, attempts=attempt + 1, seconds=time.perf_counter() - began)


def retry_after(value: str | None, fallback: float) -> float:
    """Seconds a `Retry-After` header asks for (seconds or an HTTP date); else `fallback`."""
    if not value:
        return fallback
    value = value.strip()
    if value.replace(".", "", 1).isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return fallback
    return max(0.0, when.timestamp() - time.time())


def _parse(index: int, r: Any) -> Outcome:
    """An Outcome from a 200 answer; malformed JSON or a missing choice is the text's error."""
    try:
        data = r.json()
    except ValueError:
        return Outcome(index, error=f"malformed JSON in the answer: {r.text[:80]!r}")
    choices = data.get("choices") if isinstance(data, dict) else None
    if not isinstance(choices, list) or not choices:
        return Outcome(index, error="the answer holds no choice")
    first = choices[0] if isinstance(choices[0], dict) else {}
    content = (
        (first.get("message") or {}).get("content")
        if isinstance(first.get("message"), dict)
        else None
    )
    if not isinstance(content, str):
        return Outcome(index, error="the answer's choice holds no message content")
    return _from_answer(index, {
        "content": content,
        "finish_reason": first.get("finish_reason"),
        "usage": data.get("usage") if isinstance(data.get("usage"), dict) else None,
        "model": data.get("model"),
        "system_fingerprint": data.get("system_fingerprint"),
    }, cached=False)  # fmt: skip


def _from_answer(index: int, answer: dict[str, Any], *, cached: bool) -> Outcome:
    return Outcome(
        index,
        summary=str(answer["content"]).strip(),
        cached=cached,
        finish_reason=answer.get("finish_reason"),
        usage=answer.get("usage"),
        model=answer.get("model"),
        system_fingerprint=answer.get("system_fingerprint"),
    )


def _answer_of(o: Outcome) -> dict[str, Any]:
    return {"content": o.summary, "finish_reason": o.finish_reason, "usage": o.usage,
            "model": o.model, "system_fingerprint": o.system_fingerprint}  # fmt: skip


def _message(r: Any) -> str:
    """The error message of an answer: OpenAI's `error.message`, else the start of the body."""
    try:
        data = r.json()
        err = data.get("error") if isinstance(data, dict) else None
        if isinstance(err, dict) and err.get("message"):
            return str(err["message"])[:200]
        if isinstance(err, str):
            return err[:200]
    except ValueError:
        pass
    return " ".join(r.text.split())[:200] or r.reason_phrase


def _why(err: Exception) -> str:
    return str(err) or type(err).__name__


def _httpx() -> Any:
    try:
        import httpx
    except ImportError:
        raise SummaristError(
            "evaluating an OpenAI-compatible endpoint needs httpx",
            "pip install 'summarist[openai]'",
        ) from None
    return httpx
