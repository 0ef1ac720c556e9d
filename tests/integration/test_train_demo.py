"""`make demo`'s plumbing, end to end, with a tiny warm start instead of MiniLM (seconds)."""

from __future__ import annotations

from pathlib import Path

import pytest

from summarist.rundir import read_json
from tests.tiny_models import tiny_model


def small_demo_data(out_dir: Path) -> Path:
    """The demo's own corpus, cut to a few rows per split (plumbing, not quality, is tested)."""
    from summarist.data.builtin import export_debian_descriptions

    out = export_debian_descriptions(out_dir)
    for name, keep in (("train", 64), ("validation", 16), ("test", 24)):
        path = out / f"{name}.jsonl"
        path.write_text("".join(path.read_text().splitlines(keepends=True)[:keep]))
    return out


def test_demo_runs_every_stage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from summarist import demo

    monkeypatch.setattr(demo, "export_demo_data", small_demo_data)

    # The demo's default is `minilm-bart`: the same mapping, from a tiny BERT.
    # Two steps of a tiny model cannot summarize: the demo must say so (exit 1, FAIL lines).
    bert = tiny_model("bert")
    capsys.readouterr()  # building the tiny model is not the demo's output
    assert demo.main(out=tmp_path, model=f"bert2bart:{bert}", steps=2) == 1
    captured = capsys.readouterr()
    printed = captured.out
    assert "FAIL" in printed and "distinct" in printed and "constant" in printed
    assert "Loading weights" not in captured.err and "Writing model shards" not in captured.err
    run = tmp_path / "run"
    metrics = read_json(run / "metrics.json")["splits"]["test"]
    assert "lead-3" in metrics["baselines"]  # descriptions are prose: lead-3 sentences
    assert "constant" in metrics["baselines"] and "degenerate" in metrics
    for stage in ("1. data stats", "2. fine-tune", "3. final evaluation", "4. summarize",
                  "artefacts"):  # fmt: skip
        assert stage in printed
    assert str(run / "model") in printed
    assert (run / "README.md").exists() and (run / "model" / "generation_config.json").exists()


def test_about_text_check_needs_shared_words_and_not_the_constant() -> None:
    from summarist.demo import about_text_check

    text = "A tool that fine-tunes summarization models on your own data."
    assert about_text_check("tool for summarization models", text, "Logging library")[1]
    assert not about_text_check("Logging library for Ruby", text, None)[1]  # no shared word
    # The constant output is never "about" the text, even when it shares words with it.
    assert not about_text_check("Tool for Ruby", text, "tool for ruby")[1]


def test_demo_trains_the_default_model_with_its_own_recipe() -> None:
    """`make demo` fine-tunes `summarist train`'s default with that model's measured recipe."""
    from summarist import demo
    from summarist.config.data import DataConfig
    from summarist.config.train import DEFAULT_MODEL, TrainConfig

    assert demo.DEMO_MODEL == DEFAULT_MODEL == TrainConfig(data=DataConfig(["x"])).model
    smol, bart = demo.recipe_for("smollm2-135m"), demo.recipe_for("minilm-bart")
    cfg = demo.demo_config(Path("d"), smol.steps, Path("o"), "smollm2-135m")
    assert (cfg.max_steps, cfg.max_source_length, cfg.generation.num_beams) == (40, 112, 1)
    cfg = demo.demo_config(Path("d"), bart.steps, Path("o"), "minilm-bart")
    assert (cfg.max_steps, cfg.max_source_length, cfg.generation.num_beams) == (500, 64, 4)
    assert demo.recipe_for("bert2bart:/some/tiny") == bart  # any other model: the seq2seq recipe


def test_demo_checks_the_gain_over_zero_shot_when_there_is_one() -> None:
    from summarist import demo
    from summarist.training.final import ZERO_SHOT

    def split(low: float) -> dict:
        def f1(mid: float) -> dict:
            return {"rouge1": {"fmeasure": {"mid": mid, "low": mid - 2, "high": mid + 2}}}

        return {
            "n": 200, "rouge": f1(40.0), "diagnostics": {"distinct_share": 1.0},
            "baselines": {"lead-3": f1(20.0), "constant": f1(10.0)},
            "paired": {ZERO_SHOT: {"rouge1": {"a": 40.0, "b": 30.0, "diff": 10.0, "low": low,
                                              "high": 12.0}}},
        }  # fmt: skip

    gained = [c for c in demo.quality_checks(split(8.0)) if "zero-shot" in c[0]]
    assert len(gained) == 1 and gained[0][1] and "+10.0" in gained[0][0]
    assert not next(c for c in demo.quality_checks(split(-1.0)) if "zero-shot" in c[0])[1]
    without = split(8.0)
    del without["paired"]
    assert not [c for c in demo.quality_checks(without) if "zero-shot" in c[0]]
