"""`--help` shows the defaults of the config fields, never hand-copied ones that drift."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest
import typer

from summarist.cli import app
from summarist.config.data import DataConfig
from summarist.config.docs import NO_DEFAULT, field_default, field_docs, show_default
from summarist.config.generation import GenerationSettings
from summarist.config.serve import ServeConfig
from summarist.config.train import TrainConfig
from summarist.evaluation import BaselineRunConfig, EvaluateConfig, ScoringConfig
from summarist.model_comparison import CompareModelsConfig
from summarist.summarize import SummarizeConfig

# The configs each command builds, searched in order for a field named like the option.
CONFIGS: dict[str, tuple[type, ...]] = {
    "train": (TrainConfig, GenerationSettings, DataConfig),
    "summarize": (SummarizeConfig, GenerationSettings),
    "compare": (CompareModelsConfig, ScoringConfig, DataConfig, GenerationSettings),
    "evaluate": (DataConfig, EvaluateConfig, ScoringConfig),  # --seed: the data split seed
    "baseline": (DataConfig, BaselineRunConfig, ScoringConfig),
    "data stats": (DataConfig,),
    "data prepare": (DataConfig,),
    "serve": (ServeConfig,),
}
# Options whose field has another name.
ALIASES: dict[str, dict[str, tuple[type, str]]] = {
    "train": {"eval_split": (TrainConfig, "eval_splits")},
    "summarize": {"source": (SummarizeConfig, "input"), "output_format": (SummarizeConfig, "format")},
    "compare": {"source": (CompareModelsConfig, "input")},
    "evaluate": {"bootstrap_seed": (ScoringConfig, "seed")},
    "baseline": {"bootstrap_seed": (ScoringConfig, "seed"),
                 "baseline_seed": (BaselineRunConfig, "seed")},
}  # fmt: skip
# Deliberate differences, each with its reason.
NOT_THE_FIELD_DEFAULT = {
    ("train", "max_new_tokens"): "from the references' p99 (max_new_tokens_from_references)",
    ("evaluate", "dedupe"): "scoring keeps every example of the split given",
    ("compare", "dedupe"): "every model sees every example of the split given",
}
SHOWN = re.compile(r"\(default: ([^)]*)\)")


def commands() -> list[tuple[str, Any]]:
    root = typer.main.get_command(app)
    out = []
    for name, cmd in root.commands.items():  # type: ignore[attr-defined]
        if hasattr(cmd, "commands"):  # a group (typer vendors click: no isinstance)
            out += [(f"{name} {sub}", c) for sub, c in cmd.commands.items()]
        else:
            out.append((name, cmd))
    return out


def field_for(command: str, option: str) -> tuple[type, str] | None:
    if option in ALIASES.get(command, {}):
        return ALIASES[command][option]
    for cls in CONFIGS.get(command, ()):
        names = {f.name for f in dataclasses.fields(cls)}
        if option in names:
            return cls, option
        if option + "s" in names:
            return cls, option + "s"  # --summary-column → summary_columns
    return None


def test_every_command_has_its_configs_listed() -> None:
    listed = {name for name, _ in commands()} - {"export", "report", "version"}
    assert listed <= set(CONFIGS), sorted(listed - set(CONFIGS))


@pytest.mark.parametrize(("command", "cmd"), commands(), ids=[n for n, _ in commands()])
def test_help_defaults_are_the_config_field_defaults(command: str, cmd: Any) -> None:
    checked = 0
    for param in cmd.params:
        if param.param_type_name != "option" or param.name is None:
            continue
        found = field_for(command, param.name)
        if found is None or (command, param.name) in NOT_THE_FIELD_DEFAULT:
            continue
        cls, name = found
        expected: Any = field_default(cls, name)
        if expected is NO_DEFAULT:
            continue
        shown = SHOWN.findall(param.help or "")
        if expected is not None and shown and not shown[-1].startswith("the model's"):
            assert shown[-1] == show_default(expected), (command, param.name, shown, expected)
        if param.default is not None and param.default != () and not param.multiple:
            value = param.default
            assert value == expected or str(value) == str(expected), (
                command, param.name, value, expected
            )  # fmt: skip
        checked += 1
    assert checked > 0 or command in ("export", "report", "version")


def test_train_flags_carry_the_field_docs() -> None:
    cmd = dict(commands())["train"]
    helps = {p.name: p.help or "" for p in cmd.params}
    docs = field_docs(TrainConfig)
    assert "3e-4" in helps["learning_rate"] and "minilm-bart" in helps["learning_rate"]
    assert helps["precision"].startswith(docs["precision"].rstrip("."))
    assert helps["num_beams"].startswith(field_docs(GenerationSettings)["num_beams"].rstrip("."))
    assert "(default: 4)" in helps["num_beams"]
