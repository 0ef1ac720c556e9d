"""Pre-packed linear layers: same outputs as nn.Linear, every layer packed once, safe fallbacks."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from summarist.config.generation import GenerationSettings
from summarist.inference.batching import generate_batched
from summarist.inference.summarizer import Summarizer
from tests import tiny_models as tiny

torch = pytest.importorskip("torch")
torch.set_num_threads(1)
packing = pytest.importorskip("summarist.inference.backends.packing")
if not packing.packing_available():  # pragma: no cover - torch builds without oneDNN
    pytest.skip("this torch build has no oneDNN packed linear", allow_module_level=True)

TEXTS = [
    "Anna: Did you book the train? Ben: Yes, for Friday at nine.",
    "Eve: lunch?",
    "Cara: The report is late again. Dan: I will finish it tonight, promise. Cara: Thanks.",
]
GREEDY = GenerationSettings(max_new_tokens=12, min_new_tokens=12, num_beams=1,
                            no_repeat_ngram_size=0)  # fmt: skip


def _linear_layers(model: object) -> list[object]:
    return [m for m in model.modules() if type(m) is torch.nn.Linear]  # type: ignore[attr-defined]


@pytest.mark.parametrize("family", ["t5", "bart"])
def test_packed_model_generates_what_the_plain_one_does(family: str) -> None:
    tok = tiny.t5_tokenizer()
    plain = tiny.tiny_seq2seq(family)
    packed = copy.deepcopy(plain)
    distinct = {id(m) for m in _linear_layers(plain)}
    assert packing.pack_linear_layers(packed) == len(distinct)
    assert not _linear_layers(packed), "every nn.Linear is replaced"
    want, _ = generate_batched(plain, tok, TEXTS, GREEDY, prefix="summarize: ")
    got, _ = generate_batched(packed, tok, TEXTS, GREEDY, prefix="summarize: ")
    tiny.assert_varied(want)
    assert got == want


def test_packed_layer_matches_linear_on_3d_input_and_keeps_shape_and_dtype() -> None:
    torch.manual_seed(0)
    for dtype, tol in ((torch.float32, 1e-4), (torch.bfloat16, 3e-2)):
        linear = torch.nn.Linear(24, 40).to(dtype)
        layer = packing.PackedLinear(linear)
        assert layer.weight.shape == linear.weight.shape and layer.weight.dtype == dtype
        x = torch.randn(3, 5, 24, dtype=dtype).transpose(0, 1)  # not contiguous
        with torch.inference_mode():
            got, want = layer(x), linear(x)
        assert got.shape == want.shape == (5, 3, 40)
        assert torch.allclose(got.float(), want.float(), atol=tol, rtol=tol), dtype


def test_tied_output_head_is_packed_without_touching_the_embedding() -> None:
    model = tiny.tiny_seq2seq("t5")
    assert model.get_output_embeddings().weight is model.get_input_embeddings().weight
    before = model.get_input_embeddings().weight.detach().clone()
    packing.pack_linear_layers(model)
    assert isinstance(model.get_output_embeddings(), packing.PackedLinear)
    assert torch.equal(model.get_input_embeddings().weight, before)


def test_a_layer_shared_by_two_parents_is_packed_once() -> None:
    shared = torch.nn.Linear(8, 8)
    model = torch.nn.Sequential(shared, torch.nn.ReLU(), shared)
    assert packing.pack_linear_layers(model) == 1
    assert model[0] is model[2] and isinstance(model[0], packing.PackedLinear)


def test_without_onednn_nothing_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(packing, "packing_available", lambda: False)
    model = tiny.tiny_seq2seq("t5")
    n = len(_linear_layers(model))
    assert packing.pack_linear_layers(model) == 0
    assert len(_linear_layers(model)) == n


def test_a_misbehaving_packed_op_is_detected_and_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    real = packing.PackedLinear.forward
    monkeypatch.setattr(packing.PackedLinear, "forward", lambda self, x: real(self, x) + 1.0)
    model = tiny.tiny_seq2seq("t5")
    assert packing.pack_linear_layers(model) == 0
    assert _linear_layers(model)


@pytest.mark.parametrize("quantize", [None, "bf16", "int8"])
def test_summarizer_on_cpu_packs_its_model(tmp_path: Path, quantize: str | None) -> None:
    tok = tiny.t5_tokenizer()
    path = tiny.save(
        tiny.tiny_seq2seq("t5"),
        tok,
        tmp_path / "t5",
        max_new_tokens=12,
        min_new_tokens=12,
        num_beams=1,
    )
    s = Summarizer.from_pretrained(str(path), quantize=quantize)
    packed = [m for m in s.backend.model.modules() if isinstance(m, packing.PackedLinear)]
    assert packed, "the CPU backend packs its linear layers"
    if quantize == "int8":  # only the fp32 head and feed-forward outputs stay float layers
        head = s.backend.model.get_output_embeddings()
        assert head in packed and all(m is head or m.in_features > m.out_features for m in packed)
        assert not [m for m in s.backend.model.modules() if isinstance(m, torch.nn.Linear)]
    got = s.summarize_detailed(TEXTS)  # min = max = 12 new tokens: every output is full length
    assert got.new_tokens == [12, 12, 12] and all(got.summaries)
    if quantize is None:
        plain = tiny.tiny_seq2seq("t5")  # the same seeded weights, unpacked
        settings = s.settings
        want, _ = generate_batched(plain, tok, TEXTS, settings, prefix=s.prefix)
        tiny.assert_varied(want)
        assert s.summarize(TEXTS) == want
