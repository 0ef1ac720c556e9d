"""Decoder-only models: the CTranslate2 `Generator` (float32) against torch, token for token.

The same prompts (the chat template or the plain one, left-padded batches on the torch side)
must give the same summaries and the same new-token counts with greedy decoding and with beam
search without bans, on every causal family CTranslate2 converts. With bans the two libraries
differ as for seq2seq (see test_backends.py); int8 is a quality question, measured by the export
gate (docs/benchmarks.md, "Export parity").
"""

from __future__ import annotations

import pytest

from summarist.inference.summarizer import Summarizer
from tests import tiny_models as tiny

torch = pytest.importorskip("torch")
torch.set_num_threads(1)
pytest.importorskip("ctranslate2")

TEXTS = [
    "Anna: Did you book the train? Ben: Yes, for Friday at nine.",
    "Eve: lunch? Finn: yes.",
    "Cara: The report is late again. Dan: I will finish it tonight, promise. Cara: Thanks.",
    "Ben: Did you get dinner? Cara: Yes.",
    "Finn: Did you book a birthday gift for Monday? Anna: Yes, at 7 pm.",
]
FAMILIES = ["llama", "qwen2", "gemma", "gpt2"]


def pair(family: str) -> tuple[Summarizer, Summarizer]:
    path = str(tiny.tiny_causal_dir(family))
    ref = Summarizer.from_pretrained(path)
    fast = Summarizer.from_pretrained(path, backend="ctranslate2")
    assert ref.backend.name == "torch" and fast.backend.name == "ctranslate2"
    return ref, fast


@pytest.mark.parametrize("family", FAMILIES)
def test_generator_fp32_greedy_equals_torch(family: str) -> None:
    ref, fast = pair(family)
    kw = {"num_beams": 1, "max_new_tokens": 12, "no_repeat_ngram_size": 0}
    a = ref.summarize_detailed(TEXTS, **kw)
    b = fast.summarize_detailed(TEXTS, **kw)
    tiny.assert_varied(a.summaries)
    assert a.summaries == b.summaries
    assert a.new_tokens == b.new_tokens


@pytest.mark.parametrize("family", FAMILIES)
def test_generator_fp32_beam_search_equals_torch(family: str) -> None:
    """4 beams and a length penalty, no bans: the two beam searches agree token for token."""
    ref, fast = pair(family)
    kw = {"num_beams": 4, "length_penalty": 2.0, "max_new_tokens": 12,
          "no_repeat_ngram_size": 0, "early_stopping": True}  # fmt: skip
    a = ref.summarize_detailed(TEXTS, **kw)
    b = fast.summarize_detailed(TEXTS, **kw)
    tiny.assert_varied(a.summaries)
    assert a.summaries == b.summaries and a.new_tokens == b.new_tokens
