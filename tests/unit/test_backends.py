"""Backends: CTranslate2 against torch fp32 (greedy, beam search, bans); exact token counts in
batches of mixed lengths on every backend; int8 paths; fallbacks."""

from __future__ import annotations

import functools
import logging
from pathlib import Path

import pytest

from summarist.errors import ModelError
from summarist.inference.summarizer import Summarizer
from tests import tiny_models as tiny

torch = pytest.importorskip("torch")
torch.set_num_threads(1)
pytest.importorskip("ctranslate2")

from transformers import LogitsProcessor, LogitsProcessorList  # noqa: E402

TEXTS = [
    "Anna: Did you book the train? Ben: Yes, for Friday at nine.",
    "Eve: lunch?",
    "Cara: The report is late again. Dan: I will finish it tonight, promise. Cara: Thanks.",
    "",
]
GREEDY = {"max_new_tokens": 10, "num_beams": 1, "no_repeat_ngram_size": 0}
# Inputs whose summaries (tiny models trained on `tiny.training_pairs()`) come in mixed lengths:
# under a cap of CAP new tokens some stop at EOS and some are cut off, in one batch.
MIXED = [
    "Eve: lunch? Finn: yes.",
    "Anna: Did you get the keys? Ben: Yes.",
    "Cara: Did you book the train tickets for Friday? Dan: Yes, at 4 pm.",
    "Dan: the report is late again. Eve: I will finish the report tonight, promise. Dan: Thanks.",
    "Ben: Did you get dinner? Cara: Yes.",
    "Finn: Did you book a birthday gift for Monday? Anna: Yes, at 7 pm.",
]
CAP = 9
# Beam search with the settings users get (GenerationSettings' defaults but a length penalty and
# a minimum length): the two libraries apply the bans at different places (see the test below).
# early_stopping=True (the default) is what CTranslate2 always does: stop at num_beams finished.
BEAMS_BANS = {"num_beams": 4, "no_repeat_ngram_size": 3, "length_penalty": 2.0,
              "min_new_tokens": 8, "early_stopping": True}  # fmt: skip


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tok = tiny.t5_tokenizer()
    root = tmp_path_factory.mktemp("models")
    return {
        "t5": tiny.save(tiny.tiny_seq2seq("t5"), tok, root / "t5", **GREEDY),
        "bart": tiny.save(tiny.tiny_seq2seq("bart"), tok, root / "bart", **GREEDY),
        "bert2bert": tiny.save(
            tiny.tiny_seq2seq("bert2bert"), tiny.minilm_tokenizer(), root / "b2b", **GREEDY
        ),
    }


@pytest.mark.parametrize("family", ["t5", "bart"])
@pytest.mark.parametrize("min_new_tokens", [0, 10])
def test_ctranslate2_fp32_greedy_equals_torch(saved, family: str, min_new_tokens: int) -> None:
    ref = Summarizer.from_pretrained(str(saved[family]))
    fast = Summarizer.from_pretrained(str(saved[family]), backend="ctranslate2")
    assert fast.backend.name == "ctranslate2"
    a = ref.summarize_detailed(TEXTS, min_new_tokens=min_new_tokens)
    b = fast.summarize_detailed(TEXTS, min_new_tokens=min_new_tokens)
    tiny.assert_varied(a.summaries[:3])
    assert a.summaries == b.summaries
    assert a.new_tokens == b.new_tokens
    if min_new_tokens:
        assert a.new_tokens[:3] != [0, 0, 0]


@pytest.mark.parametrize("family", ["t5", "bart"])
@pytest.mark.parametrize("length_penalty", [1.0, 2.0])
def test_ctranslate2_fp32_beam_search_equals_torch(saved, family: str, length_penalty) -> None:
    """4 beams and a length penalty, no bans: the two beam searches agree token for token."""
    ref = Summarizer.from_pretrained(str(saved[family]))
    fast = Summarizer.from_pretrained(str(saved[family]), backend="ctranslate2")
    kw = {"num_beams": 4, "length_penalty": length_penalty, "max_new_tokens": 16,
          "early_stopping": True}  # fmt: skip
    a = ref.summarize_detailed(MIXED, **kw)
    b = fast.summarize_detailed(MIXED, **kw)
    tiny.assert_varied(a.summaries)
    assert a.summaries == b.summaries and a.new_tokens == b.new_tokens


class RenormalizeAfterBans(LogitsProcessor):
    """Log-softmax again after transformers' bans: CTranslate2's order (bans, then softmax)."""

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        return scores.log_softmax(dim=-1)


@pytest.mark.parametrize("family", ["t5", "bart"])
def test_ctranslate2_beam_search_bans_before_the_softmax_torch_after(saved, family) -> None:
    """The documented difference (README, "Backends"; `--backend` help), measured exactly.

    transformers' beam search sets banned tokens (repeated n-grams, EOS under the minimum
    length) to -inf in the log-probabilities, so a beam whose likely next tokens are banned
    keeps that loss; CTranslate2 bans them in the logits before its log-softmax, so the rest
    renormalize and the beam loses nothing. Torch with one more log-softmax after its
    processors reproduces CTranslate2 on every input here; without it some beams rank differently.
    """
    ref = Summarizer.from_pretrained(str(saved[family]))
    fast = Summarizer.from_pretrained(str(saved[family]), backend="ctranslate2")
    texts = [source for source, _ in tiny.training_pairs()[::4]] + MIXED
    settings = ref.settings.with_overrides(max_new_tokens=16, **BEAMS_BANS)
    sources = [ids for ids in ref.tokenizer([ref.prefix + t for t in texts])["input_ids"]]
    torch_ids = ref.backend.generate_ids(sources, settings)
    ct2_ids = fast.backend.generate_ids(sources, settings)
    generate = ref.backend.model.generate
    ref.backend.model.generate = functools.partial(  # type: ignore[method-assign]
        generate, logits_processor=LogitsProcessorList([RenormalizeAfterBans()])
    )
    renormalized = ref.backend.generate_ids(sources, settings)
    tiny.assert_varied(ref.tokenizer.batch_decode(ct2_ids, skip_special_tokens=True))
    assert renormalized == ct2_ids
    differ = sum(a != b for a, b in zip(torch_ids, ct2_ids, strict=True))
    assert 0 < differ < len(texts), differ
    # CTranslate2 always stops at num_beams finished hypotheses (transformers' early_stopping=True)
    no_early_stop = settings.with_overrides(early_stopping=False)
    assert fast.backend.generate_ids(sources, no_early_stop) == ct2_ids
    # greedy: the argmax is the same either way, so the backends agree with the same bans
    greedy = settings.with_overrides(num_beams=1)
    assert ref.backend.generate_ids(sources, greedy) == fast.backend.generate_ids(sources, greedy)


BACKENDS = [("torch", None), ("torch", "bf16"), ("torch", "int8"), ("ctranslate2", None),
            ("ctranslate2", "int8")]  # fmt: skip


@pytest.mark.parametrize("family", ["t5", "bart"])
@pytest.mark.parametrize("num_beams", [1, 4])
@pytest.mark.parametrize(("backend", "quantize"), BACKENDS)
def test_mixed_lengths_in_one_batch_count_exact_tokens_and_caps(
    saved, family: str, num_beams: int, backend: str, quantize: str | None
) -> None:
    """Some outputs stop at EOS, some at the cap, in one batch: each one's count is its own.

    The expected counts come from decoding each input alone (no batch-mates, so no padding
    or EOS fill): its length, less the EOS that stopped it before the cap.
    """
    from summarist.config.generation import hit_cap

    s = Summarizer.from_pretrained(str(saved[family]), backend=backend, quantize=quantize)
    kw = {"num_beams": num_beams, "max_new_tokens": CAP, "no_repeat_ngram_size": 0}
    got = s.summarize_detailed(MIXED, **kw)
    settings = s.settings.with_overrides(**kw)
    sources = s.tokenizer([s.prefix + t for t in MIXED])["input_ids"]
    alone = [s.backend.generate_ids([ids], settings)[0] for ids in sources]
    eos = s.tokenizer.eos_token_id
    assert all(ids[-1] == eos for ids in alone if len(ids) < CAP)
    want = [len(ids) if len(ids) >= CAP else len(ids) - 1 for ids in alone]
    tiny.assert_varied(got.summaries)
    assert got.summaries == s.tokenizer.batch_decode(alone, skip_special_tokens=True)
    assert got.new_tokens == want
    capped = hit_cap(got.new_tokens, CAP)
    assert capped == [len(ids) >= CAP for ids in alone]
    assert any(capped) and not all(capped), got.new_tokens


def test_export_directory_round_trip_keeps_prefix_and_settings(saved, tmp_path: Path) -> None:
    from summarist.inference.backends.ctranslate2_backend import export_model, read_export_meta

    out = export_model(str(saved["t5"]), tmp_path / "ct2", quantize="int8")
    meta = read_export_meta(out)
    assert meta["quantization"] == "int8" and meta["prefix"] == "summarize: "
    loaded = Summarizer.from_pretrained(str(out))
    assert loaded.backend.name == "ctranslate2"
    assert loaded.prefix == "summarize: " and loaded.settings.max_new_tokens == 10
    assert loaded.backend.max_batch == 8  # an int8 export computes in int8 under "default"
    got = loaded.summarize(TEXTS[:3], min_new_tokens=10)
    assert all(got)


def spy_on_translate(summarizer: Summarizer) -> list[tuple[int, int]]:
    """(sources, max_batch_size) of every `translate_batch` call its backend makes from now on."""
    calls: list[tuple[int, int]] = []
    translate = summarizer.backend.translator.translate_batch

    def spy(sources: list, **kwargs: object) -> list:
        calls.append((len(sources), int(kwargs["max_batch_size"])))  # type: ignore[call-overload]
        return translate(sources, **kwargs)

    summarizer.backend.translator = type("Spy", (), {"translate_batch": staticmethod(spy)})()
    return calls


def test_ctranslate2_int8_on_cpu_decodes_in_batches_of_at_most_eight(saved) -> None:
    """int8 decodes faster in small batches here; fp32 keeps the asked batch size."""
    texts = [f"Speaker {i}: item number {i} is on the list, please check it." for i in range(20)]
    fp32 = Summarizer.from_pretrained(str(saved["t5"]), backend="ctranslate2")
    int8 = Summarizer.from_pretrained(str(saved["t5"]), backend="ctranslate2", quantize="int8")
    assert fp32.backend.max_batch == 0 and int8.backend.max_batch == 8
    replicas = fp32.backend.parallel_batches
    assert fp32.backend.batch_size_for(64, 16) == 16
    # Too few to fill the replicas: split evenly (1 replica keeps all 8; 2 take 4 each).
    assert fp32.backend.batch_size_for(8, 16) == {1: 8, 2: 4, 3: 3, 4: 2}.get(replicas, 1)
    assert int8.backend.batch_size_for(64, 16) == 8
    assert int8.backend.batch_size_for(5, 16) == {1: 5, 2: 3, 3: 2, 4: 2}.get(replicas, 1)
    sizes = spy_on_translate(int8)
    got = int8.summarize(texts, min_new_tokens=3)
    assert len(got) == 20 and all(got)
    assert sum(n for n, _ in sizes) == 20 and all(cap <= 8 for _, cap in sizes), sizes


def test_ctranslate2_takes_a_window_of_texts_per_call_and_reports_each_batch(saved) -> None:
    """One call for many batches keeps both replicas busy; progress still comes per batch and
    outputs come back in input order, the same as batch-by-batch decoding."""
    from summarist.inference.batching import STREAM_WINDOW, run_batched

    texts = [" ".join(["word"] * (1 + i % 7)) + f" number {i}." for i in range(23)]
    fast = Summarizer.from_pretrained(str(saved["t5"]), backend="ctranslate2")
    calls = spy_on_translate(fast)
    ticks: list[int] = []
    settings = fast.settings.with_overrides(min_new_tokens=2)
    got, _ = run_batched(fast.backend, fast.tokenizer, texts, settings, batch_size=4,
                         prefix=fast.prefix, on_batch=ticks.append)  # fmt: skip
    assert calls == [(23, 4)] and STREAM_WINDOW > 23
    assert ticks == [4, 4, 4, 4, 4, 3]
    one_by_one = [run_batched(fast.backend, fast.tokenizer, [t], settings, prefix=fast.prefix)[0][0]
                  for t in texts]  # fmt: skip
    tiny.assert_varied(one_by_one)
    assert got == one_by_one


def test_torch_int8_quantizes_linears_and_still_generates(saved) -> None:
    int8 = Summarizer.from_pretrained(str(saved["t5"]), quantize="int8")
    from torch.ao.nn.quantized.dynamic import Linear as DynamicLinear

    assert any(isinstance(m, DynamicLinear) for m in int8.backend.model.modules())
    assert all(int8.summarize(TEXTS[:3], min_new_tokens=10))


def test_ctranslate2_leaves_torchs_thread_count_alone(saved) -> None:
    """Creating a Translator used to set OpenMP's (so torch's) thread count to 1."""
    import torch

    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        fast = Summarizer.from_pretrained(str(saved["t5"]), backend="ctranslate2")
        assert fast.backend.name == "ctranslate2" and fast.backend.parallel_batches == 2
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_torch_int8_keeps_the_output_head_and_feed_forward_outputs_fp32(saved) -> None:
    import torch
    from torch.ao.nn.quantized.dynamic import Linear as DynamicLinear

    from summarist.inference.backends.packing import PackedLinear

    float_linear = (torch.nn.Linear, PackedLinear)  # on CPU fp32 layers are also pre-packed
    # the feed-forward output of each family, by name (the rule itself is by shape)
    ffn_out = {"t5": ".DenseReluDense.wo", "bart": ".fc2", "bert2bert": ".output.dense"}
    for family, suffix in ffn_out.items():
        model = Summarizer.from_pretrained(str(saved[family]), quantize="int8").backend.model
        head = model.get_output_embeddings()
        assert type(head) in float_linear and head.weight.dtype == torch.float32, family
        kept = {n for n, m in model.named_modules() if type(m) in float_linear and m is not head}
        names = [n for n, _ in model.named_modules()]
        expected = {n for n in names if n.endswith(suffix) and "attention.output" not in n}
        assert expected and kept == expected, f"{family}: {sorted(kept ^ expected)[:4]}"
        quantized = [m for m in model.modules() if isinstance(m, DynamicLinear)]
        assert len(quantized) > len(kept), family


def test_torch_bf16_casts_weights_and_still_generates(saved) -> None:
    import torch

    fp32 = Summarizer.from_pretrained(str(saved["bart"]))
    bf16 = Summarizer.from_pretrained(str(saved["bart"]), quantize="bf16")
    dtypes = {p.dtype for p in bf16.backend.model.parameters()}
    assert dtypes == {torch.bfloat16}
    got = bf16.summarize_detailed(TEXTS[:3], min_new_tokens=10, max_new_tokens=10)
    assert all(got.summaries) and got.new_tokens == [10, 10, 10]
    assert {p.dtype for p in fp32.backend.model.parameters()} == {torch.float32}


def test_default_batch_size_is_32_for_greedy_bf16_on_cpu_and_16_otherwise(saved) -> None:
    """Greedy bf16 steps are cheap enough that batches of 32 pay; an explicit size wins."""
    texts = [f"Speaker {i}: item number {i} is on the list, please check it." for i in range(40)]

    def batch_sizes(summarizer: Summarizer, **overrides: object) -> list[int]:
        sizes: list[int] = []
        original = summarizer.backend.generate_ids

        def spy(batch: list, settings: object) -> list:
            sizes.append(len(batch))
            return original(batch, settings)

        summarizer.backend.generate_ids = spy  # type: ignore[method-assign]
        summarizer.summarize(texts, max_new_tokens=2, **overrides)
        return sizes

    bf16 = Summarizer.from_pretrained(str(saved["t5"]), quantize="bf16")
    assert batch_sizes(bf16) == [32, 8]
    assert batch_sizes(bf16, num_beams=2) == [16, 16, 8]
    assert batch_sizes(Summarizer.from_pretrained(str(saved["t5"]))) == [16, 16, 8]
    assert batch_sizes(Summarizer.from_pretrained(str(saved["t5"]), quantize="int8")) == [16, 16, 8]
    chosen = Summarizer.from_pretrained(str(saved["t5"]), quantize="bf16", batch_size=10)
    assert batch_sizes(chosen) == [10, 10, 10, 10]


def test_bf16_with_ctranslate2_on_cpu_is_a_one_line_error(saved) -> None:
    from summarist.errors import ConfigError

    with pytest.raises(ConfigError, match="bf16 on GPUs only"):
        Summarizer.from_pretrained(str(saved["t5"]), backend="ctranslate2", quantize="bf16")
    with pytest.raises(ConfigError, match="unknown --quantize 'fp8'"):
        Summarizer.from_pretrained(str(saved["t5"]), quantize="fp8")


def test_unsupported_family_falls_back_to_torch_with_a_warning(saved, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="summarist"):
        s = Summarizer.from_pretrained(str(saved["bert2bert"]), backend="ctranslate2")
    assert s.backend.name == "torch"
    assert any("cannot convert 'encoder-decoder'" in r.getMessage() for r in caplog.records)


def test_unsupported_family_with_bf16_falls_back_to_torch_bf16(saved, caplog) -> None:
    import torch

    with caplog.at_level(logging.WARNING, logger="summarist"):
        s = Summarizer.from_pretrained(
            str(saved["bert2bert"]), backend="ctranslate2", quantize="bf16"
        )
    assert s.backend.name == "torch"
    assert {p.dtype for p in s.backend.model.parameters()} == {torch.bfloat16}
    assert any("torch backend in bf16" in r.getMessage() for r in caplog.records)


def test_export_of_unsupported_family_says_so(saved, tmp_path: Path) -> None:
    from summarist.inference.backends.ctranslate2_backend import export_model

    with pytest.raises(ModelError, match="CTranslate2 cannot convert 'encoder-decoder'"):
        export_model(str(saved["bert2bert"]), tmp_path / "x")


def test_adapter_without_base_is_a_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "adapter_config.json").write_text('{"base_model_name_or_path": "t5-small"}')
    with pytest.raises(ModelError, match="adapter") as err:
        Summarizer.from_pretrained(str(tmp_path))
    assert "t5-small" in str(err.value) and "\n" not in str(err.value)


def test_encoder_only_checkpoint_is_refused() -> None:
    with pytest.raises(ModelError, match="not a trained summarization"):
        Summarizer.from_pretrained("minilm")


def test_hub_t5_without_saved_prefix_gets_the_family_prefix(tmp_path: Path) -> None:
    model = tiny.tiny_seq2seq("t5")
    model.config.task_specific_params = None
    path = tiny.save(model, tiny.t5_tokenizer(), tmp_path / "t5", **GREEDY)
    assert Summarizer.from_pretrained(str(path)).prefix == "summarize: "


def test_hub_style_max_length_becomes_max_new_tokens(tmp_path: Path) -> None:
    from summarist.models.loading import settings_for

    model = tiny.tiny_seq2seq("bart")
    model.generation_config.max_length = 142
    model.generation_config.min_length = 56
    model.generation_config.num_beams = 4
    assert settings_for(model, str(tmp_path)).max_new_tokens == 141
    assert settings_for(model, str(tmp_path)).min_new_tokens == 55


def test_int8_activations_use_the_full_range_where_vnni_makes_it_exact(saved) -> None:
    from summarist.hardware import cpu_has_vnni
    from summarist.inference.backends.torch_backend import full_range_linear_class

    if not cpu_has_vnni():
        pytest.skip("this CPU has no VNNI: torch's 7-bit activations are kept")
    full_range = full_range_linear_class()
    int8 = Summarizer.from_pretrained(str(saved["bart"]), quantize="int8").backend.model
    assert any(type(m) is full_range for m in int8.modules())
    assert not any(type(m) is full_range.__base__ for m in int8.modules())
    # 8-bit activations round half as coarsely as 7-bit ones: closer to the fp32 product
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    torch.manual_seed(0)
    layer = torch.nn.Sequential(torch.nn.Linear(256, 256))
    x = torch.randn(16, 256) * torch.linspace(0.1, 4.0, 256)
    want = layer(x)
    quantized = quantize_dynamic(layer, {"0": per_channel_dynamic_qconfig}, dtype=torch.qint8)
    err_reduced = (quantized(x) - want).abs().mean()  # torch's own: reduce_range=True
    quantized[0].__class__ = full_range
    err_full = (quantized(x) - want).abs().mean()
    assert err_full < 0.75 * err_reduced, (err_full, err_reduced)
