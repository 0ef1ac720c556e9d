"""The pre-load memory plan: its parts move the way the levers say, and a run that will not
fit stops before any weight is read, in one line naming the shortfall and the levers.

(Estimate against measured peak RSS: bench/bench_memory.py, docs/lora.md.)"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from summarist.config.data import DataConfig
from summarist.config.train import TrainConfig
from summarist.errors import ConfigError
from summarist.training import memory
from tests.tiny_models import tiny_model

# A BART-large-sized shape: 406M parameters, 12+12 layers of width 1024.
LARGE = memory.Shape(params=406_000_000, trainable=406_000_000, weight_bytes=4 * 406e6,
                     hidden=1024, ffn=4096, heads=16, encoder_layers=12, decoder_layers=12,
                     vocab=50265)  # fmt: skip
BATCH = (8, 512, 128)


def _cfg(**kw: object) -> TrainConfig:
    return TrainConfig(data=DataConfig(["unused"]), **kw)


def _plan(shape: memory.Shape = LARGE, batch: tuple = BATCH, precision: str = "fp32",
          **kw: object) -> memory.MemoryPlan:  # fmt: skip
    return memory.estimate(shape, batch, _cfg(**kw), precision, baseline=0.5 * memory.GB)


def test_model_states_follow_the_trainable_parameters() -> None:
    full = _plan()
    assert full.weights == LARGE.weight_bytes
    assert full.gradients == 4 * LARGE.params and full.optimizer == 8 * LARGE.params
    lora = _plan(replace(LARGE, trainable=2_000_000), lora=True)
    assert lora.weights == full.weights  # the frozen base is still there
    assert lora.gradients + lora.optimizer == 12 * 2_000_000
    # Measured: LoRA keeps more activations (peft's dropout copies), not fewer.
    assert lora.activations > full.activations


def test_each_lever_lowers_the_peak() -> None:
    full = _plan()
    assert _plan(gradient_checkpointing=True).activations < full.activations / 3
    assert _plan(precision="bf16").activations < full.activations
    assert _plan(precision="bf16").weights > full.weights  # autocast's bf16 weight copies
    assert _plan(batch=(2, 512, 128)).activations == pytest.approx(full.activations / 4)
    assert _plan(batch=(8, 256, 128)).total < full.total
    assert full.total == pytest.approx(
        full.weights + full.gradients + full.optimizer + full.activations + full.logits
        + full.baseline + full.overhead
    )  # fmt: skip


def test_largest_piece_is_the_longest_batch_cut_by_max_batch_tokens() -> None:
    from summarist.data.corpus import Split
    from summarist.models.loading import load_skeleton

    short = ["Anna: hi. Ben: yes."] * 20
    long = ["Anna: did you get the report today? Ben: yes, I got it. " * 6] * 3
    split = Split("train", short + long, [["Ben got it."]] * 23)
    skeleton = load_skeleton(str(tiny_model("bart")))
    rows, src, tgt = memory.largest_piece(skeleton, _cfg(batch_size=8, max_batch_tokens=0), split)
    assert rows == 8 and src > 60 and tgt > 2  # the three long ones pad their batch
    cut = memory.largest_piece(skeleton, _cfg(batch_size=8, max_batch_tokens=4 * src), split)
    assert cut[0] * (cut[1] + cut[2]) <= 4 * src


def test_skeleton_is_on_the_meta_device_and_counts_like_the_real_model() -> None:
    from summarist.models.loading import load_for_training, load_skeleton

    name = f"bert2bert:{tiny_model('bert')}"
    skeleton = load_skeleton(name)
    assert {p.device.type for p in skeleton.model.parameters()} == {"meta"}
    real = load_for_training(name).model
    assert sum(p.numel() for p in skeleton.model.parameters()) == sum(
        p.numel() for p in real.parameters()
    )


def test_a_run_that_will_not_fit_stops_before_loading_with_the_levers(tmp_path: Path) -> None:
    from summarist.data.corpus import Split

    split = Split("train", ["Anna: did you get the report? Ben: yes."] * 8, [["Ben got it."]] * 8)
    cfg = _cfg(model=str(tiny_model("t5")), memory_budget_gb=0.001, batch_size=8, precision="fp32")
    with pytest.raises(ConfigError) as err:
        memory.check_memory(cfg, split)
    line = str(err.value)
    assert "\n" not in line and "GB short" in line
    for lever in ("--lora (", "--batch-size 2 --grad-accum 4 (", "--gradient-checkpointing (",
                  "--precision bf16 ("):  # fmt: skip
        assert lever in line, line
    assert "--memory-budget-gb" in line
    # Enough memory: a plan, recorded in GB.
    plan = memory.check_memory(replace(cfg, memory_budget_gb=64.0), split)
    assert plan is not None and plan.fits and plan.to_dict()["available_gb"] == 64.0
    assert memory.check_memory(replace(cfg, memory_budget_gb=0), split) is None


def test_lora_targets_are_checked_on_the_skeleton() -> None:
    from summarist.data.corpus import Split

    split = Split("train", ["a b c"] * 4, [["a"]] * 4)
    cfg = _cfg(model=str(tiny_model("t5")), lora=True, lora_targets=["qv"])
    with pytest.raises(ConfigError, match="no linear layer named 'qv'.*did you mean"):
        memory.check_memory(cfg, split)


def test_lora_target_resolution_per_family() -> None:
    from summarist.models.loading import load_skeleton
    from summarist.models.lora import ALL_LINEAR, resolve_targets
    from summarist.models.registry import FAMILIES

    skeleton = load_skeleton(str(tiny_model("t5")))
    model, family = skeleton.model, skeleton.family
    assert resolve_targets(model, family, []) == ["q", "v"]
    every = resolve_targets(model, family, [ALL_LINEAR])
    assert {"q", "k", "v", "o", "wi", "wo"} <= set(every) and "lm_head" not in every
    generic = next(f for f in FAMILIES if f.name == "generic")
    with pytest.raises(ConfigError, match="no default LoRA target layers.*all-linear"):
        resolve_targets(model, generic, [])
    with pytest.raises(ConfigError, match="cannot be combined"):
        resolve_targets(model, family, [ALL_LINEAR, "q"])
