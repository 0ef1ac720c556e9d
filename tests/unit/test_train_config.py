"""TrainConfig: precedence defaults < YAML < flags, validation messages, shipped presets."""

from __future__ import annotations

from pathlib import Path

import pytest

from summarist.config.data import DataConfig
from summarist.config.train import TrainConfig, load_train_config
from summarist.errors import ConfigError

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def test_precedence_defaults_then_yaml_then_flags(tmp_path: Path) -> None:
    preset = tmp_path / "p.yaml"
    preset.write_text("data: corpus/\nbatch_size: 4\nepochs: 2\nnum_beams: 2\n", "utf-8")
    cfg = load_train_config(preset, {"batch_size": 16, "epochs": None})
    assert cfg.batch_size == 16  # flag beats YAML
    assert cfg.epochs == 2  # YAML beats default; an unset flag (None) does not override
    assert cfg.generation.num_beams == 2
    assert cfg.grad_accum == TrainConfig.grad_accum  # default
    assert cfg.data.data == ["corpus/"]
    flagged = load_train_config(preset, {"data": DataConfig(["other/"])})
    assert flagged.data.data == ["other/"]


def test_round_trip_through_dict(tmp_path: Path) -> None:
    cfg = TrainConfig(data=DataConfig(["x/"], split_ratios=(0.8, 0.1, 0.1)), max_steps=3)
    again = TrainConfig.from_dict({"kind": "train", **cfg.to_dict(), "resolved": {}})
    assert again == cfg


def test_unknown_key_suggests_the_right_one(tmp_path: Path) -> None:
    preset = tmp_path / "p.yaml"
    preset.write_text("data: x/\nlearning_rte: 0.1\n", "utf-8")
    with pytest.raises(ConfigError, match="learning_rte.*did you mean 'learning_rate'"):
        load_train_config(preset)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [({"batch_size": 0}, "--batch-size must be >= 1"),
     ({"max_steps": 0}, "--max-steps must be >= 1"),
     ({"epochs": 0}, "--epochs must be > 0"),
     ({"learning_rate": 5.0}, "--learning-rate"),
     ({"precision": "fp8"}, "--precision 'fp8'"),
     ({"report_to": ["wandb"]}, "--report-to 'wandb'"),
     ({"max_new_tokens": 0}, "max_new_tokens must be >= 1"),
     ({"max_source_length": 0}, "--max-source-length must be >= 1")],
)  # fmt: skip
def test_bad_values_are_rejected_with_the_flag_named(overrides: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        load_train_config(None, {"data": "x/", **overrides})


def test_missing_data_and_bad_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no data"):
        load_train_config(None, {"batch_size": 2})
    with pytest.raises(ConfigError, match="not found"):
        load_train_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("data: [unclosed\n", "utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_train_config(bad)
    listy = tmp_path / "list.yaml"
    listy.write_text("- a\n- b\n", "utf-8")
    with pytest.raises(ConfigError, match="mapping"):
        load_train_config(listy)


@pytest.mark.parametrize("preset", sorted(CONFIGS.glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_preset_loads_and_shows_its_command(preset: Path) -> None:
    first = preset.read_text("utf-8").splitlines()[0]
    assert first.startswith("# summarist train --config configs/" + preset.name)
    cfg = load_train_config(preset)
    assert cfg.data.data


def test_presets_exist() -> None:
    assert len(list(CONFIGS.glob("*.yaml"))) >= 3


def test_generation_is_nested_and_flat_keys_of_old_configs_still_load(tmp_path: Path) -> None:
    from summarist.config.generation import GenerationSettings

    # A run's config.yaml from before `generation:` was nested: flat settings as asked for, and
    # the resolved `generation` the run used (max_new_tokens from the references' p99).
    old_run = {"kind": "train", "data": {"data": ["x/"]}, "max_new_tokens": None,
               "min_new_tokens": 0, "num_beams": 2, "length_penalty": 1.0,
               "no_repeat_ngram_size": 3, "eval_batch_size": 32,
               "generation": {**GenerationSettings().to_dict(), "max_new_tokens": 40},
               "resolved": {}}  # fmt: skip
    cfg = TrainConfig.from_dict(old_run)
    assert cfg.generation == GenerationSettings(num_beams=2)
    assert cfg.max_new_tokens_from_references is True
    assert cfg.resolve_generation(48).max_new_tokens == 48
    pinned = TrainConfig.from_dict({**old_run, "max_new_tokens": 12})
    assert pinned.max_new_tokens_from_references is False
    assert pinned.resolve_generation(48).max_new_tokens == 12

    preset = tmp_path / "p.yaml"
    preset.write_text("data: x/\ngeneration:\n  num_beams: 3\n  length_penalty: 2.0\n", "utf-8")
    cfg = load_train_config(preset, {"num_beams": 5})
    assert (cfg.generation.num_beams, cfg.generation.length_penalty) == (5, 2.0)
    assert cfg.max_new_tokens_from_references is True
    fixed = load_train_config(preset, {"max_new_tokens": 20})
    assert fixed.generation.max_new_tokens == 20 and not fixed.max_new_tokens_from_references
    again = TrainConfig.from_dict(fixed.to_dict())
    assert again == fixed
    with pytest.raises(ConfigError, match="num_beam.*did you mean 'num_beams'"):
        TrainConfig.from_dict({"data": "x/", "generation": {"num_beam": 2}})


def test_default_max_new_tokens_is_p99_rounded_up_to_a_multiple_of_8_with_a_floor_of_16() -> None:
    from summarist.config.generation import GenerationSettings, default_max_new_tokens

    # 97 short references and three long ones: p99 = 70 + 0.01 * 130 = 71.3 -> 72, where the
    # p95 (10 -> 16), the p98 (60.2 -> 64), the longest (200) and the mean (13 -> 16) differ.
    skewed = [10] * 97 + [60, 70, 200]
    assert default_max_new_tokens(skewed) == 72
    assert default_max_new_tokens(list(reversed(skewed))) == 72  # order does not matter
    assert default_max_new_tokens([24] * 50) == 24  # a multiple of 8 stays
    assert default_max_new_tokens([25] * 50) == 32
    assert default_max_new_tokens([3, 5, 9]) == 16  # the floor
    assert default_max_new_tokens([3, 5, 7], floor=4) == 8  # p99 6.96
    assert default_max_new_tokens([]) == GenerationSettings().max_new_tokens == 64
