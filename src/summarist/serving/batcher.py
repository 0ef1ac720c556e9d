"""Dynamic batching: texts of concurrent requests merged into one generation call per model.

Each text of a request becomes a `Job` in its model's bounded queue. One worker thread per
model takes the oldest job, waits at most `max_wait_s` (counted from when that job arrived)
for others with the *same* generation settings, and runs up to `max_texts` texts /
`max_tokens` source tokens through `Summarizer.summarize_detailed` (so long inputs go through
the same map-reduce as `summarist summarize`). Generation never runs on the event loop; results
come back to it with `call_soon_threadsafe`. A job whose request timed out or disconnected is
removed from the queue before it starts; a job that already started finishes and its result
is discarded.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import threading
import time
from dataclasses import dataclass
from typing import Any

from summarist.config.generation import GenerationSettings
from summarist.serving.prometheus import Metrics

log = logging.getLogger(__name__)


class QueueFull(Exception):
    """The model's queue cannot take the request's texts; retry after `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"queue full, retry after {retry_after}s")
        self.retry_after = retry_after


class Closed(Exception):
    """The batcher is shutting down and takes no new work."""


@dataclass(frozen=True)
class Result:
    summary: str
    new_tokens: int
    source_tokens: int
    levels: int


@dataclass(eq=False)
class Job:
    """One text waiting for (or in) a batch."""

    text: str
    tokens: int
    settings: GenerationSettings
    deadline: float
    """time.monotonic() after which nobody waits for the result."""
    future: asyncio.Future[Result]
    loop: asyncio.AbstractEventLoop
    arrived: float
    started: bool = False


class Batcher:
    """The queue and worker thread of one served model."""

    def __init__(
        self,
        name: str,
        summarizer: Any,
        metrics: Metrics,
        *,
        max_wait_s: float,
        max_texts: int,
        max_tokens: int,
        max_queue: int,
    ) -> None:
        self.name = name
        self.summarizer = summarizer
        self.metrics = metrics
        self.max_wait_s = max_wait_s
        self.max_texts = max_texts
        self.max_tokens = max_tokens
        self.max_queue = max_queue
        self.queue: list[Job] = []
        self.cond = threading.Condition()
        self.closing = False
        self.seconds_per_text = 0.05  # running estimate, for Retry-After
        self.thread = threading.Thread(target=self._work, name=f"summarist-{name}", daemon=True)

    def start(self) -> None:
        self.thread.start()

    @property
    def depth(self) -> int:
        return len(self.queue)

    def submit(
        self,
        texts: list[str],
        tokens: list[int],
        settings: GenerationSettings,
        deadline: float,
    ) -> list[Job]:
        """Queue the texts of one request (all or none); call from the event loop."""
        loop = asyncio.get_running_loop()
        now = time.monotonic()
        with self.cond:
            if self.closing:
                raise Closed
            if len(self.queue) + len(texts) > self.max_queue:
                wait = (len(self.queue) + len(texts)) * self.seconds_per_text
                raise QueueFull(max(1, math.ceil(wait)))
            jobs = [
                Job(t, n, settings, deadline, loop.create_future(), loop, now)
                for t, n in zip(texts, tokens, strict=True)
            ]
            self.queue.extend(jobs)
            self.cond.notify()
        return jobs

    def cancel(self, jobs: list[Job], reason: str) -> int:
        """Take the unstarted `jobs` out of the queue; returns how many left it."""
        with self.cond:
            waiting = {id(j) for j in jobs if not j.started}
            before = len(self.queue)
            self.queue = [j for j in self.queue if id(j) not in waiting]
            removed = before - len(self.queue)
        for job in jobs:
            if not job.future.done():
                job.future.cancel()
        if removed:
            self.metrics.record_dropped(self.name, reason, removed)
        return removed

    def close(self, timeout: float) -> None:
        """Finish the queued work (at most `timeout` seconds), then stop the worker."""
        with self.cond:
            self.closing = True
            self.cond.notify_all()
        if self.thread.is_alive():
            self.thread.join(timeout)
        with self.cond:
            left, self.queue = self.queue, []
        for job in left:  # drain timed out: answer rather than hang
            _resolve(job, Closed())

    def _work(self) -> None:
        while True:
            with self.cond:
                batch = self._next_batch()
            if batch is None:
                return
            if batch:
                self._run(batch)

    def _next_batch(self) -> list[Job] | None:
        """Wait for work, let the batch fill for up to max_wait_s, take it (lock held)."""
        while not self.queue:
            if self.closing:
                return None
            self.cond.wait()
        first = self.queue[0]
        fill_until = first.arrived + self.max_wait_s
        while not self.closing and not self._full(first.settings):
            left = fill_until - time.monotonic()
            if left <= 0:
                break
            self.cond.wait(left)
        return self._take(first.settings)

    def _cap(self, settings: GenerationSettings) -> int:
        """Texts per batch for `settings`: one when sampling with a seed, so that the summary
        depends on the seed alone, never on which other texts shared the batch."""
        return 1 if settings.do_sample and settings.sample_seed is not None else self.max_texts

    def _full(self, settings: GenerationSettings) -> bool:
        texts = tokens = 0
        for job in self.queue:
            if job.settings == settings:
                texts += 1
                tokens += job.tokens
                if texts >= self._cap(settings) or tokens >= self.max_tokens:
                    return True
        return False

    def _take(self, settings: GenerationSettings) -> list[Job]:
        """Oldest jobs with these settings, within the caps; expired ones leave the queue."""
        now = time.monotonic()
        batch: list[Job] = []
        kept: list[Job] = []
        tokens = expired = 0
        cap = self._cap(settings)
        for job in self.queue:
            if job.future.done() or job.deadline <= now:
                expired += 1
                continue
            fits = len(batch) < cap and (not batch or tokens + job.tokens <= self.max_tokens)
            if job.settings == settings and fits:
                job.started = True
                batch.append(job)
                tokens += job.tokens
            else:
                kept.append(job)
        self.queue = kept
        if expired:
            self.metrics.record_dropped(self.name, "deadline", expired)
        return batch

    def _run(self, batch: list[Job]) -> None:
        start = time.perf_counter()
        try:
            out = self.summarizer.summarize_detailed([j.text for j in batch], batch[0].settings)
        except Exception as err:  # the model failed: every waiting request hears about it
            log.exception("generation failed for a batch of %d on %s", len(batch), self.name)
            for job in batch:
                _resolve(job, err)
            return
        seconds = time.perf_counter() - start
        self.seconds_per_text = 0.8 * self.seconds_per_text + 0.2 * seconds / len(batch)
        self.metrics.record_batch(self.name, len(batch), sum(out.new_tokens))
        for i, job in enumerate(batch):
            result = Result(
                out.summaries[i], out.new_tokens[i], out.source_tokens[i], out.levels[i]
            )
            _resolve(job, result)


def _resolve(job: Job, value: Result | BaseException) -> None:
    """Hand a result (or error) to the request's event loop; once only, never after cancel."""

    def settle() -> None:
        if job.future.done():
            return
        if isinstance(value, BaseException):
            job.future.set_exception(value)
        else:
            job.future.set_result(value)

    # RuntimeError: the loop is closed, nobody is waiting any more.
    with contextlib.suppress(RuntimeError):
        job.loop.call_soon_threadsafe(settle)
