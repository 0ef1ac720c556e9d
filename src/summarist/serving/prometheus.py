"""Prometheus text exposition (format 0.0.4) of the service's counters and histograms.

Hand-written rather than a `prometheus_client` dependency: four families, one lock. Workers
(threads) and the event loop both record, so every update takes the lock.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64)
Labels = tuple[tuple[str, str], ...]


class Histogram:
    def __init__(self, buckets: tuple[float, ...]) -> None:
        self.buckets = buckets
        self.counts: dict[Labels, list[int]] = defaultdict(lambda: [0] * len(buckets))
        self.sums: dict[Labels, float] = defaultdict(float)
        self.totals: dict[Labels, int] = defaultdict(int)

    def observe(self, labels: Labels, value: float) -> None:
        counts = self.counts[labels]
        for i, bound in enumerate(self.buckets):
            if value <= bound:
                counts[i] += 1
        self.sums[labels] += value
        self.totals[labels] += 1

    def lines(self, name: str) -> list[str]:
        out = []
        for labels, counts in sorted(self.counts.items()):
            for bound, n in zip(self.buckets, counts, strict=True):
                out.append(f"{name}_bucket{_fmt(labels + (('le', _num(bound)),))} {n}")
            out.append(f"{name}_bucket{_fmt(labels + (('le', '+Inf'),))} {self.totals[labels]}")
            out.append(f"{name}_sum{_fmt(labels)} {self.sums[labels]:.6f}")
            out.append(f"{name}_count{_fmt(labels)} {self.totals[labels]}")
        return out


class Metrics:
    """Requests by route and status, latency, batch sizes, tokens generated, queue depth."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: dict[Labels, int] = defaultdict(int)
        self.latency = Histogram(LATENCY_BUCKETS)
        self.batch_size = Histogram(BATCH_BUCKETS)
        self.tokens: dict[Labels, int] = defaultdict(int)
        self.dropped: dict[Labels, int] = defaultdict(int)
        self.queue_depth: Callable[[], dict[str, int]] = dict

    def record_request(self, route: str, status: int, seconds: float) -> None:
        with self.lock:
            self.requests[(("route", route), ("status", str(status)))] += 1
            self.latency.observe((("route", route),), seconds)

    def record_batch(self, model: str, texts: int, new_tokens: int) -> None:
        with self.lock:
            self.batch_size.observe((("model", model),), texts)
            self.tokens[(("model", model),)] += new_tokens

    def record_dropped(self, model: str, reason: str, texts: int) -> None:
        with self.lock:
            self.dropped[(("model", model), ("reason", reason))] += texts

    def render(self) -> str:
        with self.lock:
            lines = [
                "# HELP summarist_requests_total HTTP requests by route and status.",
                "# TYPE summarist_requests_total counter",
                *(f"summarist_requests_total{_fmt(k)} {v}" for k, v in sorted(self.requests.items())),
                "# HELP summarist_request_seconds Server-side latency of HTTP requests.",
                "# TYPE summarist_request_seconds histogram",
                *self.latency.lines("summarist_request_seconds"),
                "# HELP summarist_batch_texts Texts per generation batch.",
                "# TYPE summarist_batch_texts histogram",
                *self.batch_size.lines("summarist_batch_texts"),
                "# HELP summarist_generated_tokens_total Tokens generated.",
                "# TYPE summarist_generated_tokens_total counter",
                *(f"summarist_generated_tokens_total{_fmt(k)} {v}" for k, v in sorted(self.tokens.items())),
                "# HELP summarist_dropped_texts_total Queued texts dropped before generation.",
                "# TYPE summarist_dropped_texts_total counter",
                *(f"summarist_dropped_texts_total{_fmt(k)} {v}" for k, v in sorted(self.dropped.items())),
                "# HELP summarist_queue_depth Texts waiting per model.",
                "# TYPE summarist_queue_depth gauge",
            ]  # fmt: skip
        lines += [
            f'summarist_queue_depth{{model="{m}"}} {n}' for m, n in self.queue_depth().items()
        ]
        return "\n".join(lines) + "\n"


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _fmt(labels: Labels) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in labels)
    return "{" + inner + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
