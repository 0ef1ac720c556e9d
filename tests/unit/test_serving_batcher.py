"""The dynamic batcher: merging, caps, no mixed settings, 503 / 504, disconnects, one answer each."""

from __future__ import annotations

import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest

pytest.importorskip("fastapi", reason="the serve extra is not installed")
from fastapi.testclient import TestClient

from summarist.serving import create_app
from summarist.serving.batcher import Batcher, QueueFull
from summarist.serving.prometheus import Metrics
from tests.unit._serving import ScriptedSummarizer, config, wait_ready


def make(s: ScriptedSummarizer, **kw: float) -> Batcher:
    opts = {"max_wait_s": 0.05, "max_texts": 8, "max_tokens": 10_000, "max_queue": 64, **kw}
    b = Batcher("m", s, Metrics(), **opts)  # type: ignore[arg-type]
    b.start()
    return b


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def test_concurrent_requests_share_batches_within_the_text_cap() -> None:
    s = ScriptedSummarizer()
    b = make(s, max_texts=4)

    async def main() -> list[str]:
        jobs = [b.submit([f"text {i}"], [2], s.settings, time.monotonic() + 5) for i in range(10)]
        return [r.summary for r in await asyncio.gather(*(j[0].future for j in jobs))]

    got = run(main())
    b.close(5)
    assert got == [f"summary of text {i}" for i in range(10)]  # each its own answer, in order
    assert [len(t) for t, _ in s.batches] == [4, 4, 2]


def test_source_token_cap_splits_batches_but_one_long_text_still_runs() -> None:
    s = ScriptedSummarizer()
    b = make(s, max_tokens=10)

    async def main() -> None:
        jobs = b.submit(["a", "b", "c", "d"], [6, 4, 30, 1], s.settings, time.monotonic() + 5)
        await asyncio.gather(*(j.future for j in jobs))

    run(main())
    b.close(5)
    assert [t for t, _ in s.batches] == [["a", "b"], ["c"], ["d"]]


def test_texts_with_different_settings_never_share_a_batch() -> None:
    s = ScriptedSummarizer()
    b = make(s)
    other = replace(s.settings, max_new_tokens=4)

    async def main() -> None:
        d = time.monotonic() + 5
        jobs = [b.submit([f"t{i}"], [1], s.settings if i % 2 else other, d)[0] for i in range(6)]
        await asyncio.gather(*(j.future for j in jobs))

    run(main())
    b.close(5)
    assert len(s.batches) == 2
    for texts, settings in s.batches:
        assert len(texts) == 3 and {int(t[1]) % 2 for t in texts} == {settings == s.settings}


def test_max_wait_bounds_how_long_a_lone_request_waits() -> None:
    s = ScriptedSummarizer()
    b = make(s, max_wait_s=0.2)

    async def main() -> float:
        start = time.monotonic()
        await b.submit(["x"], [1], s.settings, start + 5)[0].future
        return time.monotonic() - start

    waited = run(main())
    b.close(5)
    assert 0.19 <= waited < 1.5


def test_a_full_queue_refuses_whole_requests_with_a_retry_hint() -> None:
    s = ScriptedSummarizer()
    s.gate.clear()
    b = make(s, max_queue=3, max_texts=1)

    async def main() -> int:
        d = time.monotonic() + 5
        first = b.submit(["a"], [1], s.settings, d)
        await asyncio.sleep(0.1)  # "a" is generating (held by the gate), the queue is empty
        b.submit(["b", "c", "d"], [1, 1, 1], s.settings, d)
        with pytest.raises(QueueFull) as full:
            b.submit(["e"], [1], s.settings, d)
        s.gate.set()
        await first[0].future
        return full.value.retry_after

    assert run(main()) >= 1
    b.close(5)


def test_cancelled_jobs_leave_the_queue_before_they_start() -> None:
    s = ScriptedSummarizer()
    s.gate.clear()
    b = make(s, max_texts=1)

    async def main() -> int:
        d = time.monotonic() + 5
        running = b.submit(["a"], [1], s.settings, d)
        await asyncio.sleep(0.1)
        waiting = b.submit(["b", "c"], [1, 1], s.settings, d)
        removed = b.cancel(waiting, "disconnect")
        s.gate.set()
        await running[0].future
        return removed

    assert run(main()) == 2
    b.close(5)
    assert [t for t, _ in s.batches] == [["a"]]


def client_for(s: ScriptedSummarizer, **kw: object) -> TestClient:
    return TestClient(create_app(config("m", **kw), lambda m: s))


def test_overload_answers_503_with_retry_after_and_the_rest_200() -> None:
    s = ScriptedSummarizer(delay=0.05)
    with client_for(s, max_queue=2, max_batch_texts=1, max_wait_ms=0) as c:
        wait_ready(c)
        with ThreadPoolExecutor(12) as pool:
            got = list(
                pool.map(lambda i: c.post("/v1/summarize", json={"texts": [f"t{i}"]}), range(24))
            )
        codes = {r.status_code for r in got}
        assert codes <= {200, 503} and 503 in codes and 200 in codes
        assert all(r.headers["retry-after"].isdigit() for r in got if r.status_code == 503)
        assert c.post("/v1/summarize", json={"texts": ["after"]}).status_code == 200


def test_past_its_deadline_a_request_gets_504_and_its_texts_leave_the_queue() -> None:
    s = ScriptedSummarizer()
    with client_for(s, max_batch_texts=1, max_wait_ms=0) as c:
        wait_ready(c)
        s.gate.clear()
        with ThreadPoolExecutor(2) as pool:
            busy = pool.submit(c.post, "/v1/summarize", json={"texts": ["first"]})
            time.sleep(0.2)
            late = c.post("/v1/summarize", json={"texts": ["x", "y"], "timeout_s": 0.3})
            assert late.status_code == 504 and late.json()["field"] == "timeout_s"
            s.gate.set()
            assert busy.result().status_code == 200
        assert all("x" not in texts for texts, _ in s.batches)
        assert 'reason="deadline"} 2' in c.get("/metrics").text


def test_a_client_that_disconnects_frees_its_unstarted_work() -> None:
    s = ScriptedSummarizer()
    app = create_app(config("m", max_batch_texts=1, max_wait_ms=0), lambda m: s)
    body = json.dumps({"texts": ["gone-1", "gone-2"]}).encode()
    sent: list[dict] = []

    async def main() -> None:
        async with app.router.lifespan_context(app):
            state = app.state.summarist
            while not state.ready:
                await asyncio.sleep(0.01)
            s.gate.clear()
            batcher = state.batchers["m"]
            d = time.monotonic() + 5
            busy = batcher.submit(["busy"], [1], s.settings, d)  # holds the worker
            messages = [{"type": "http.request", "body": body, "more_body": False}]

            async def receive() -> dict:
                if messages:
                    return messages.pop()
                await asyncio.sleep(0.2)  # the client goes away while its texts wait
                return {"type": "http.disconnect"}

            async def send(message: dict) -> None:
                sent.append(message)

            scope = {
                "type": "http", "method": "POST", "path": "/v1/summarize", "raw_path": b"/v1/summarize",
                "query_string": b"", "headers": [(b"content-type", b"application/json")],
                "scheme": "http", "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 1),
                "http_version": "1.1", "root_path": "",
            }  # fmt: skip
            await app(scope, receive, send)
            assert batcher.depth == 0
            s.gate.set()
            await busy[0].future

    asyncio.run(main())
    assert [
        t
        for t, _ in s.batches
        if t != ["A short text to warm the model up before the first request arrives."]
    ] == [["busy"]]
    assert sent[0]["status"] == 499
