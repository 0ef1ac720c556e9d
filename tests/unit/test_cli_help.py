"""One source for every option: each command's flags are its config's fields, and `--help` shows
the dataclass defaults, readable at 80 columns.

The tables below are the explicit exceptions, each with its reason; everything else follows
the one rule (a field is a flag named after it, nested configs flattened).
"""

from __future__ import annotations

import dataclasses
import io
import types
import typing
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import typer

from summarist.cli import app
from summarist.cli import baseline as baseline_cli
from summarist.cli import compare as compare_cli
from summarist.cli import data as data_cli
from summarist.cli import evaluate as evaluate_cli
from summarist.cli import export as export_cli
from summarist.cli import report as report_cli
from summarist.cli import serve as serve_cli
from summarist.cli import summarize as summarize_cli
from summarist.cli import train as train_cli
from summarist.config.docs import NO_DEFAULT, field_docs, show_default
from summarist.config.generation import GenerationSettings
from summarist.config.train import TrainConfig

COMMANDS: dict[str, Any] = {
    "data stats": data_cli.data_stats,
    "data cache": data_cli.data_cache,
    "train": train_cli.train,
    "evaluate": evaluate_cli.evaluate,
    "baseline": baseline_cli.baseline,
    "summarize": summarize_cli.summarize,
    "compare": compare_cli.compare,
    "export": export_cli.export,
    "serve": serve_cli.serve,
    "report": report_cli.report,
}
REQUIRE_SUMMARY = "set by the library: texts to summarize need none"
EXTRA_BODY = "YAML only (a system file or the --config preset): a mapping of request fields"
# Fields that are no flag (YAML-only, or filled in by the command), with the reason.
NO_FLAG: dict[str, dict[str, str]] = {
    "data stats": {"data.require_summary": REQUIRE_SUMMARY},
    "train": {"data.require_summary": REQUIRE_SUMMARY},
    "evaluate": {"data.require_summary": REQUIRE_SUMMARY,
                 "run_dir": "the positional RUN_DIR (RUN_A RUN_B with --compare)",
                 "openai.extra_body": EXTRA_BODY},
    "baseline": {"data.require_summary": REQUIRE_SUMMARY},
    "compare": {"data.require_summary": REQUIRE_SUMMARY, "openai.extra_body": EXTRA_BODY},
    "export": {"check.data.require_summary": REQUIRE_SUMMARY},
}  # fmt: skip
# Parameters that set no field of the config, with the reason (the command declares them).
COMMAND_ONLY: dict[str, set[str]] = {
    "data stats": {"config", "as_json"},
    "data cache": {"as_json"},
    "train": {"config", "resume"},
    "evaluate": {"config", "run_dirs", "compare", "as_json"},
    "baseline": {"config", "as_json"},
    "summarize": {"config"},
    "compare": {"config", "more_models", "as_json"},
    "export": {"config"},
    "serve": {"config"},
    "report": set(),
}
# The rename table: flags whose name is not the field's (today's names, kept), and shared flags.
RENAMED: dict[str, dict[str, str]] = {
    "train": {"data.summary_columns": "--summary-column", "data.languages": "--language",
              "eval_splits": "--eval-split", "data.seed": "--seed",
              # the data cache's flags say so (--cache/--cache-dir are the endpoints' answers)
              "data.cache_dir": "--data-cache-dir", "data.cache": "--data-cache"},
    "evaluate": {"data.summary_columns": "--summary-column", "data.languages": "--language",
                 "scoring.seed": "--bootstrap-seed", "baselines": "--baseline",
                 "data.cache_dir": "--data-cache-dir", "data.cache": "--data-cache"},
    "baseline": {"data.summary_columns": "--summary-column", "data.languages": "--language",
                 "scoring.seed": "--bootstrap-seed", "seed": "--baseline-seed",
                 "splits": "--split", "data.cache_dir": "--data-cache-dir", "data.cache": "--data-cache"},
    "compare": {"data.summary_columns": "--summary-column", "data.languages": "--language",
                "scoring.seed": "--bootstrap-seed", "data.text_column": "--text-column",
                "data.encoding": "--encoding", "scoring.lang": "--lang", "systems": "--system",
                # shared: one flag sets the local models' override and the endpoints' request
                "openai.temperature": "--temperature", "openai.top_p": "--top-p",
                "openai.stop": "--stop", "data.cache_dir": "--data-cache-dir", "data.cache": "--data-cache"},
    "serve": {"models": "--model", "api_keys": "--api-key", "cors_origins": "--cors-origin"},
    "export": {"check.data.data": "--check-data", "check.seed": "--check-bootstrap-seed",
               "check.data.summary_columns": "--check-summary-column",
               "check.data.languages": "--check-language",
               "check.data.cache_dir": "--check-data-cache-dir",
               "check.data.cache": "--check-data-cache"},
    "data stats": {"data.summary_columns": "--summary-column", "data.languages": "--language",
                   "data.cache_dir": "--data-cache-dir", "data.cache": "--data-cache"},
    "data cache": {"cache_dir": "--data-cache-dir"},
}  # fmt: skip
# Defaults this command shows instead of the field's, each declared on the field's metadata.
OTHER_DEFAULT: dict[tuple[str, str], str] = {
    ("train", "generation.max_new_tokens"): "the references' p99, rounded up to 8",
    ("evaluate", "data.dedupe"): "none",  # scoring keeps every example of the split given
    ("compare", "data.dedupe"): "none",  # every model sees every example of the split given
}


def leaf_fields(cls: type, prefix: str = "") -> dict[str, tuple[Any, dataclasses.Field]]:
    """Every settable value of a config, by dotted path: its default and its field (walked
    here, independently of the generator)."""
    out: dict[str, tuple[Any, dataclasses.Field]] = {}
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        path = prefix + f.name
        kind = hints[f.name]
        union = typing.get_origin(kind) in (typing.Union, types.UnionType)
        inner = [a for a in typing.get_args(kind) if a is not type(None)] if union else [kind]
        nested = inner[0] if len(inner) == 1 and dataclasses.is_dataclass(inner[0]) else None
        overrides = f.metadata.get("cli", {}).get("overrides")
        if nested is not None:
            out.update(leaf_fields(nested, path + "."))
        elif overrides is not None:
            for g in dataclasses.fields(overrides):
                out[f"{path}.{g.name}"] = (None, g)
        else:
            default = f.default
            if f.default_factory is not dataclasses.MISSING:
                default = f.default_factory()
            out[path] = (NO_DEFAULT if default is dataclasses.MISSING else default, f)
    return out


def click_command(name: str) -> Any:
    root = typer.main.get_command(app)
    cmd = root
    for word in name.split():
        cmd = cmd.commands[word]  # type: ignore[attr-defined]
    return cmd


def help_of(name: str, columns: int = 80) -> str:
    from summarist.cli import main
    from summarist.cli.root import STATE

    out = io.StringIO()
    with (
        mock.patch.dict(STATE),  # `--debug --help` must not leave --debug on for later tests
        mock.patch.dict("os.environ", {"COLUMNS": str(columns)}),
        redirect_stdout(out),
        pytest.raises(SystemExit) as exit_,
    ):
        main([*name.split(), "--help"])
    assert exit_.value.code == 0
    return out.getvalue()


def squeeze(text: str) -> str:
    return "".join(text.split())


@pytest.mark.parametrize("command", COMMANDS)
def test_every_field_is_a_flag_or_listed_with_its_reason(command: str) -> None:
    fn = COMMANDS[command]
    paths = {".".join(leaf.path) for option in fn.generated for leaf in option.leaves}
    fields = leaf_fields(fn.config_class)
    missing = sorted(set(fields) - paths - set(NO_FLAG.get(command, {})))
    assert not missing, f"{command}: fields without a flag: {missing}"
    for path, reason in NO_FLAG.get(command, {}).items():
        assert path not in paths and path in fields
        assert fields[path][1].metadata["cli"]["no_flag"] == reason


@pytest.mark.parametrize("command", COMMANDS)
def test_every_flag_sets_a_field_or_is_command_only(command: str) -> None:
    fn = COMMANDS[command]
    fields = leaf_fields(fn.config_class)
    by_param = {option.param.name: option for option in fn.generated}
    for param in click_command(command).params:
        if param.name in COMMAND_ONLY[command]:
            assert fn.command_only[param.name], (command, param.name)  # a reason, written
            continue
        option = by_param[param.name]  # KeyError: a flag that sets nothing
        for leaf in option.leaves:
            assert ".".join(leaf.path) in fields, (command, param.name)
        flag = option.flag
        for leaf in option.leaves:
            path = ".".join(leaf.path)
            expected = RENAMED.get(command, {}).get(path)
            if expected is None:
                name = leaf.path[-1].replace("_", "-")
                prefix = "check-" if path.startswith("check.") else ""
                expected = f"--{prefix}{name}"
            assert flag == expected, (command, path, flag)
    assert set(fn.command_only) == COMMAND_ONLY[command]


@pytest.mark.parametrize("command", COMMANDS)
def test_help_shows_the_dataclass_default_of_every_flag(command: str) -> None:
    fn = COMMANDS[command]
    fields = leaf_fields(fn.config_class)
    rendered = squeeze(help_of(command))
    checked = 0
    for option in fn.generated:
        leaf = option.leaves[0]
        path = ".".join(leaf.path)
        default, _ = fields[path]
        shown = OTHER_DEFAULT.get((command, path))
        if (
            shown is None
            and path.count(".")
            and path.rsplit(".", 1)[0] in ("generation", "check.generation")
        ):
            shown = "the model's saved setting" if command != "train" else None
        if shown is None:
            if default is NO_DEFAULT or default is None or default in ([], ()):
                continue
            shown = show_default(default)
        help_ = option.param.annotation.__metadata__[0].help
        assert squeeze(f"(default: {shown})") in squeeze(help_), (command, path)
        assert squeeze(help_) in rendered, (command, path)
        checked += 1
    assert checked > 0 or command == "report"  # report: every default is computed


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_help_at_80_columns_keeps_every_option_name_whole(command: str) -> None:
    text = help_of(command or "--debug")  # `summarist --debug --help`: the root
    assert "…" not in text  # descriptions wrap; nothing is cut
    assert max(len(line) for line in text.splitlines()) <= 80
    cmd = click_command(command) if command else typer.main.get_command(app)
    for param in cmd.params:
        for name in [*param.opts, *getattr(param, "secondary_opts", [])]:
            if name.startswith("-"):
                assert name in text.split() or f"{name}," in text, (command, name)
        if getattr(param, "help", None):
            assert squeeze(param.help) in squeeze(text), (command, param.name)


class Built(Exception):
    """Raised with the config a command built, so the test sees it before any work runs."""


def built(argv: list[str]) -> Any:
    from summarist.cli import main, options

    real = options.merge_config

    def capture(cls: type, preset: Any = None, given: Any = None) -> Any:
        raise Built(real(cls, preset, given))

    with mock.patch.object(options, "merge_config", capture), pytest.raises(Built) as got:
        main(argv)
    return got.value.args[0]


def test_renamed_and_shared_flags_set_their_fields(tmp_path: Path) -> None:
    cfg = built(["train", "--data", "d.jsonl", "--summary-column", "a", "--summary-column", "b",
                 "--seed", "7", "--eval-split", "test", "--num-beams", "2",
                 "--split-ratios", "0.8,0.1,0.1", "--no-report", "--lora", "--lora-targets",
                 "q,v"])  # fmt: skip
    assert cfg.data.summary_columns == ["a", "b"] and cfg.data.data == ["d.jsonl"]
    assert (cfg.seed, cfg.data.seed) == (7, 7)  # one --seed: the training and the split seed
    assert cfg.eval_splits == ["test"] and cfg.generation.num_beams == 2
    assert cfg.data.split_ratios == (0.8, 0.1, 0.1) and cfg.report is False
    assert cfg.lora_targets == ["q", "v"]
    assert cfg.max_new_tokens_from_references is True
    plain = built(["train", "--data", "d.jsonl"])
    assert (plain.seed, plain.data.seed) == (42, 42) and plain.generation == GenerationSettings()

    cfg = built(["evaluate", "--predictions", "p.txt", "--data", "d", "-o", str(tmp_path / "o"),
                 "--bootstrap-seed", "3", "--lang", "en", "--baseline", "lead-3"])  # fmt: skip
    assert (cfg.scoring.seed, cfg.scoring.lang, cfg.data.seed) == (3, "en", 42)
    assert cfg.data.dedupe == "none" and cfg.baselines == ["lead-3"]

    cfg = built(["baseline", "lead-3", "--data", "d", "--baseline-seed", "5", "--split", "a",
                 "--split", "b", "-o", str(tmp_path / "b")])  # fmt: skip
    assert (cfg.name, cfg.seed, cfg.splits, cfg.data.dedupe) == ("lead-3", 5, ["a", "b"], "pair")

    cfg = built(["compare", "--models", "a,b", "c", "--data", "d", "--split", "test",
                 "--lang", "de", "--text-column", "t", "-o", str(tmp_path / "c")])  # fmt: skip
    assert cfg.models == ["a", "b", "c"] and (cfg.lang, cfg.scoring.lang) == ("de", "de")
    assert (cfg.text_column, cfg.data.text_column) == ("t", "t")

    cfg = built(["compare", "--models", "a", "openai:m@http://h:1/v1?x=1,2", "--system",
                 "openai:n@http://h:2/v1", "--input", "t.txt", "--concurrency", "8",
                 "--temperature", "0.5", "--stop", "###", "--stop", "END", "--no-cache"])  # fmt: skip
    assert cfg.models == ["a", "openai:m@http://h:1/v1?x=1,2", "openai:n@http://h:2/v1"]
    assert (cfg.openai.concurrency, cfg.openai.temperature, cfg.openai.cache) == (8, 0.5, False)
    assert cfg.openai.stop == ("###", "END") and cfg.generation["stop"] == ["###", "END"]
    assert cfg.generation["temperature"] == 0.5  # one --temperature: every model's

    cfg = built(["evaluate", "--system", "openai:m@http://h/v1", "--data", "d", "-o",
                 str(tmp_path / "s"), "--limit", "5", "--max-tokens", "40", "--request-seed",
                 "9", "--stop", "a", "--system-prompt", "Be brief: {text}"])  # fmt: skip
    assert (cfg.system, cfg.limit, cfg.openai.max_tokens) == ("openai:m@http://h/v1", 5, 40)
    assert (cfg.openai.request_seed, cfg.openai.stop, cfg.openai.concurrency) == (9, ("a",), 4)
    assert cfg.openai.system_prompt == "Be brief: {text}"

    cfg = built(["summarize", "-m", "m", "in.txt", "--format", "jsonl", "--num-beams", "1",
                 "--no-early-stopping"])  # fmt: skip
    assert (cfg.model, cfg.input, cfg.format) == ("m", "in.txt", "jsonl")
    assert cfg.generation == {"num_beams": 1, "early_stopping": False}  # the rest: as saved

    cfg = built(["serve", "-m", "a=x", "--api-key", "k", "--cors-origin", "http://h"])
    assert [(m.name, m.path) for m in cfg.models] == [("a", "x")]
    assert (cfg.api_keys, cfg.cors_origins) == (["k"], ["http://h"])

    cfg = built(["export", "-m", "m", "-o", str(tmp_path / "e"), "--check-data", "d",
                 "--check-num-beams", "1", "--check-split-ratios", "0.5,0.25,0.25"])  # fmt: skip
    assert cfg.check.data.data == ["d"] and cfg.check.generation == {"num_beams": 1}
    assert cfg.check.data.split_ratios == (0.5, 0.25, 0.25) and cfg.check.samples == 200

    cfg = built(["report", "runs/a", "runs/b", "-o", str(tmp_path / "r.html")])
    assert cfg.run_dirs == [Path("runs/a"), Path("runs/b")] and cfg.out == tmp_path / "r.html"


def test_a_preset_and_flags_merge_for_every_command_that_takes_one(tmp_path: Path) -> None:
    preset = tmp_path / "p.yaml"
    preset.write_text("data: {data: [d.jsonl], preset: samsum, seed: 3}\nbatch_size: 4\n"
                      "epochs: 2\ngeneration: {num_beams: 3}\n", "utf-8")  # fmt: skip
    cfg = built(["train", "--config", str(preset), "--batch-size", "16", "--text-column", "x"])
    assert (cfg.batch_size, cfg.epochs, cfg.generation.num_beams) == (16, 2, 3)
    assert (cfg.data.preset, cfg.data.text_column, cfg.data.seed) == ("samsum", "x", 3)
    pinned = built(["train", "--config", str(preset), "--max-new-tokens", "20"])
    assert pinned.generation.max_new_tokens == 20 and not pinned.max_new_tokens_from_references

    scoring = tmp_path / "s.yaml"
    scoring.write_text("scoring: {bootstrap: 10, multi_ref: avg}\nreport: false\n", "utf-8")
    cfg = built(["evaluate", "--config", str(scoring), "--predictions", "p", "--data", "d",
                 "-o", str(tmp_path / "o"), "--bootstrap", "20"])  # fmt: skip
    assert (cfg.scoring.bootstrap, cfg.scoring.multi_ref, cfg.report) == (20, "avg", False)

    serve = tmp_path / "serve.yaml"
    serve.write_text("models: [a=x, y/model]\nport: 9000\n", "utf-8")
    cfg = built(["serve", "--config", str(serve), "--port", "9001"])
    assert [m.name for m in cfg.models] == ["a", "y"] and cfg.port == 9001


def test_train_flags_carry_the_field_docs() -> None:
    cmd = click_command("train")
    helps = {p.name: p.help or "" for p in cmd.params}
    docs = field_docs(TrainConfig)
    assert "3e-4" in helps["learning_rate"] and "minilm-bart" in helps["learning_rate"]
    assert helps["precision"].startswith(docs["precision"].rstrip("."))
    assert helps["num_beams"].startswith(field_docs(GenerationSettings)["num_beams"].rstrip("."))
    assert "(default: 4)" in helps["num_beams"]
