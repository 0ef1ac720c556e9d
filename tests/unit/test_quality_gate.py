"""The quality gate of exports: an identical export passes, a damaged model is flagged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from summarist.cli import app
from summarist.errors import ConfigError, DataError
from summarist.evaluation.quality_gate import (
    EXIT_DROP,
    QUALITY_CHECK_FILE,
    QualityCheckConfig,
    check_backend,
    check_quality,
)
from summarist.inference.summarizer import Summarizer
from tests import tiny_models as tiny

torch = pytest.importorskip("torch")
torch.set_num_threads(1)
pytest.importorskip("ctranslate2")

N = 30
GREEDY = {"max_new_tokens": 8, "min_new_tokens": 4, "num_beams": 1, "no_repeat_ngram_size": 0}
NAMES = ("Anna", "Ben", "Cara", "Dan", "Eve", "Finn")
THINGS = ("the train", "lunch", "the report", "a gift", "the keys")


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A tiny T5, and validation data whose references are that model's own summaries, so the
    source model scores ROUGE 100 and any damage shows as a drop."""
    root = tmp_path_factory.mktemp("gate")
    model = tiny.save(tiny.tiny_seq2seq("t5"), tiny.t5_tokenizer(), root / "t5", **GREEDY)
    texts = [
        f"{NAMES[i % 6]}: Did you get {THINGS[i % 5]}? {NAMES[(i + 1) % 6]}: Yes, at {i} pm."
        for i in range(N)
    ]
    summaries = Summarizer.from_pretrained(str(model)).summarize(texts)
    assert len(set(summaries)) > 3 and all(s.strip() for s in summaries)
    data = root / "data"
    data.mkdir()
    with open(data / "validation.jsonl", "w", encoding="utf-8") as fh:
        for t, s in zip(texts, summaries, strict=True):
            fh.write(json.dumps({"text": t, "summary": s}) + "\n")
    damaged = tiny.tiny_seq2seq("t5")
    with torch.no_grad():  # a "broken quantization": every weight rounded to a coarse grid
        for p in damaged.parameters():
            p.copy_(torch.round(p * 2) / 2)
    tiny.save(damaged, tiny.t5_tokenizer(), root / "damaged", **GREEDY)
    return {"model": model, "data": data, "damaged": root / "damaged", "root": root}


def test_an_identical_fp32_export_passes_and_writes_its_result(setup) -> None:
    out = setup["root"] / "ct2"
    result = CliRunner().invoke(
        app,
        ["export", "--model", str(setup["model"]), "-o", str(out),
         "--check-data", str(setup["data"]), "--check-samples", "20", "--fail-on-drop"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "no significant ROUGE drop on validation (20 examples, 20 identical)" in result.output
    saved = json.loads((out / QUALITY_CHECK_FILE).read_text(encoding="utf-8"))
    assert saved["n"] == 20 and saved["identical"] == 20 and not saved["significant_drop"]
    assert saved["rouge"]["rouge1"]["diff"] == 0 and saved["rouge"]["rouge1"]["p_value"] == 1
    assert (
        saved["rouge"]["rouge1"]["reference"] == 100 and saved["candidate_backend"] == "ctranslate2"
    )


def test_a_damaged_model_is_flagged_as_a_significant_drop(setup) -> None:
    reference = Summarizer.from_pretrained(str(setup["model"]))
    damaged = Summarizer.from_pretrained(str(setup["damaged"]))
    result = check_quality(reference, damaged, QualityCheckConfig(data=setup["data"]))
    assert result["significant_drop"] and "rouge1" in result["dropped"]
    assert result["identical"] < N and result["n"] == N
    r1 = result["rouge"]["rouge1"]
    assert r1["diff"] < 0 and r1["high"] < 0 and r1["p_value"] < 0.05
    assert result["verdict"].startswith("SIGNIFICANT QUALITY DROP on validation (30 examples")
    assert (
        result["examples"]
        and result["examples"][0]["candidate"] != result["examples"][0]["reference_model"]
    )


def test_fail_on_drop_exits_3_with_a_plain_warning(setup, monkeypatch) -> None:
    """The export of a model whose converted copy is broken: the damaged model stands in for
    what the export directory loads."""
    real = Summarizer.from_pretrained.__func__  # type: ignore[attr-defined]
    out = setup["root"] / "ct2-broken"

    def load(cls, path, **kw):  # type: ignore[no-untyped-def]
        return real(cls, str(setup["damaged"]) if path == str(out) else path, **kw)

    monkeypatch.setattr(Summarizer, "from_pretrained", classmethod(load))
    args = ["export", "--model", str(setup["model"]), "-o", str(out),
            "--check-data", str(setup["data"])]  # fmt: skip
    warned = CliRunner().invoke(app, args)
    assert warned.exit_code == 0, warned.output
    assert "SIGNIFICANT QUALITY DROP" in warned.output
    assert "warning: the export is significantly worse than its source model" in warned.output
    failed = CliRunner().invoke(app, [*args, "--fail-on-drop"])
    assert failed.exit_code == EXIT_DROP, failed.output
    assert json.loads((out / QUALITY_CHECK_FILE).read_text(encoding="utf-8"))["significant_drop"]


def test_gate_mistakes_fail_before_anything_is_written(setup) -> None:
    out = setup["root"] / "never"
    runner = CliRunner()
    no_data = runner.invoke(app, ["export", "--model", str(setup["model"]), "-o", str(out),
                                  "--fail-on-drop"])  # fmt: skip
    assert isinstance(no_data.exception, ConfigError) and "--check-data" in str(no_data.exception)
    missing = runner.invoke(app, ["export", "--model", str(setup["model"]), "-o", str(out),
                                  "--check-data", str(setup["root"] / "nope")])  # fmt: skip
    assert isinstance(missing.exception, DataError)
    bad = runner.invoke(app, ["export", "--model", str(setup["model"]), "-o", str(out),
                              "--check-data", str(setup["data"]), "--check-samples", "-1"])  # fmt: skip
    assert isinstance(bad.exception, ConfigError)
    assert not out.exists()


def test_fast_backends_check_themselves_against_torch_fp32(setup) -> None:
    cfg = QualityCheckConfig(data=setup["data"], samples=10)
    result = check_backend(str(setup["model"]), cfg, backend="ctranslate2")
    assert result["candidate_backend"] == "ctranslate2" and result["identical"] == 10
    assert not result["significant_drop"] and result["candidate"].endswith("(ctranslate2, fp32)")
    int8 = check_backend(str(setup["model"]), cfg, quantize="int8")
    assert int8["n"] == 10 and int8["candidate_backend"] == "torch" and "verdict" in int8
    with pytest.raises(ConfigError, match="nothing to check"):
        check_backend(str(setup["model"]), cfg)
