"""`run_batched`: longest inputs first, results back in input order, empty texts skipped.

A fake character-level tokenizer and backend make every summary a function of its own input
(the first `cap` characters), so a summary or count put back in the wrong slot is visible.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from summarist.config.generation import GenerationSettings
from summarist.inference.batching import run_batched

EOS, PAD = 1, 0
CAP = 6
SETTINGS = GenerationSettings(max_new_tokens=CAP, num_beams=1)
TEXTS = ["medium text", "", "a much longer input text", "tiny", "   ", "longest input text of all!"]


class CharTokenizer:
    pad_token_id = PAD

    def __call__(self, texts: list[str], truncation: bool = False, max_length: int | None = None):
        ids = [[ord(c) for c in t] + [EOS] for t in texts]
        return {"input_ids": [i[:max_length] if truncation and max_length else i for i in ids]}

    def batch_decode(self, outputs: list[list[int]], skip_special_tokens: bool = True) -> list[str]:
        return ["".join(chr(i) for i in ids if i > EOS) for ids in outputs]


class CopyBackend:
    """Summarizes a source as its first CAP characters; EOS when shorter; pads the batch."""

    name = "copy"

    def __init__(self) -> None:
        self.batches: list[list[list[int]]] = []

    def summary_ids(self, src: list[int], cap: int) -> list[int]:
        text = [i for i in src if i != EOS]
        return text[:cap] if len(text) >= cap else text + [EOS]

    def generate_ids(self, batch: list[list[int]], settings: GenerationSettings) -> list[list[int]]:
        self.batches.append(batch)
        out = [self.summary_ids(src, settings.max_new_tokens) for src in batch]
        width = max(len(o) for o in out)
        return [o + [PAD] * (width - len(o)) for o in out]


class StreamingCopyBackend(CopyBackend):
    def stream_ids(
        self, batch: list[list[int]], settings: GenerationSettings, *, batch_size: int
    ) -> Iterator[list[int]]:
        self.batches.append(batch)
        for src in batch:
            yield self.summary_ids(src, settings.max_new_tokens)


def expected() -> tuple[list[str], list[int]]:
    summaries = [t.strip()[:CAP] if t.strip() else "" for t in TEXTS]
    return summaries, [min(len(t), CAP) if t.strip() else 0 for t in TEXTS]


@pytest.mark.parametrize("backend_class", [CopyBackend, StreamingCopyBackend])
def test_results_come_back_in_input_order(backend_class: type[CopyBackend]) -> None:
    backend, seen = backend_class(), []
    got = run_batched(backend, CharTokenizer(), TEXTS, SETTINGS, batch_size=2, on_batch=seen.append)
    assert got == expected()
    assert seen == [2, 2]  # four non-empty texts in batches of two
    sources = [src for batch in backend.batches for src in batch]
    assert len(sources) == 4  # the empty and the whitespace-only text never reach the model


def test_batches_run_longest_first() -> None:
    backend = CopyBackend()
    run_batched(backend, CharTokenizer(), TEXTS, SETTINGS, batch_size=3)
    lengths = [[len(src) for src in batch] for batch in backend.batches]
    assert lengths == [[27, 25, 12], [5]]


def test_streamed_windows_are_reported_batch_by_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    from summarist.inference import batching as generation

    monkeypatch.setattr(generation, "STREAM_WINDOW", 3)  # two windows: 3 + 1 sources
    texts = ["alpha one", "bravo two!", "charlie three", "dog"]
    seen: list[int] = []
    got = run_batched(StreamingCopyBackend(), CharTokenizer(), texts, SETTINGS, batch_size=2,
                      on_batch=seen.append)  # fmt: skip
    assert got == (["alpha", "bravo", "charli", "dog"], [CAP, CAP, CAP, 3])
    assert seen == [2, 1, 1]  # window 1: charlie, bravo | alpha; window 2: dog


def test_truncation_limit_reaches_the_backend() -> None:
    backend = CopyBackend()
    run_batched(backend, CharTokenizer(), ["abcdefghij"], SETTINGS, limit=4)
    assert backend.batches == [[[ord(c) for c in "abcd"]]]
