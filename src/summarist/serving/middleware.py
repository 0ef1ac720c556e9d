"""ASGI middleware of the service: body-size cap, per-route metrics and answer counts (API keys
are a route dependency: `serving.auth`).

Pure ASGI (no BaseHTTPMiddleware) so that nothing buffers responses and a client's disconnect
still reaches the endpoint through `receive`.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from summarist.serving.prometheus import Metrics

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


async def send_json(send: Send, status: int, body: dict[str, Any], headers: list[Any]) -> None:
    data = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), *headers],
        }
    )
    await send({"type": "http.response.body", "body": data})


class BodyLimit:
    """413 for a body over `max_bytes` (declared or streamed); the app gets the body replayed.

    Before the 413 goes out, the rest of the body is read and dropped (at most `DRAIN_BYTES`,
    for at most `DRAIN_S`): a client that writes its whole body before it reads (Python's
    urllib and requests) would otherwise see the connection reset under its write instead of
    the answer. A client that asked `Expect: 100-continue` (curl, for large bodies) has not sent
    the body, and one that declares more than the bound gets the answer at once.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            expects = headers.get(b"expect", b"").lower() == b"100-continue"
            if int(length) <= DRAIN_BYTES and not expects:
                await drain(receive, int(length))
            await self.refuse(send)
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_bytes:
                if message.get("more_body", False):
                    await drain(receive, DRAIN_BYTES - size)
                await self.refuse(send)
                return
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def refuse(self, send: Send) -> None:
        why = f"request body over {self.max_bytes} bytes"
        # summarist's fields and OpenAI's `error` object: both kinds of client read the answer
        error = {"message": why, "type": "invalid_request_error", "param": "body", "code": None}
        body = {"detail": why, "field": "body", "message": why, "error": error}
        await send_json(send, 413, body, [(b"connection", b"close")])


DRAIN_BYTES = 64 * 1024 * 1024
"""Most bytes of an oversize body read (and dropped) so that its client gets the 413."""
DRAIN_S = 10.0
"""Longest time spent reading them."""


async def drain(receive: Receive, most: int) -> None:
    """Read and drop the rest of a request body: up to `most` bytes or `DRAIN_S` seconds."""
    end = time.monotonic() + DRAIN_S
    read = 0
    while read < most:
        try:
            message = await asyncio.wait_for(receive(), max(0.0, end - time.monotonic()))
        except TimeoutError:
            return
        if message["type"] == "http.disconnect":
            return
        read += len(message.get("body", b""))
        if not message.get("more_body", False):
            return


class Accounting:
    """Requests by route and status, latency; counts accepted vs answered API requests."""

    def __init__(self, app: ASGIApp, metrics: Metrics, routes: set[str]) -> None:
        self.app = app
        self.metrics = metrics
        self.routes = routes
        self.accepted = 0
        self.answered = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route = scope["path"] if scope["path"] in self.routes else "other"
        start = time.perf_counter()
        status = 500
        self.accepted += 1

        async def counted(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                self.answered += 1
            await send(message)

        try:
            await self.app(scope, receive, counted)
        finally:
            self.metrics.record_request(route, status, time.perf_counter() - start)
