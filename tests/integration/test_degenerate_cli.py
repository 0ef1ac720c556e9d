"""A model that ignores its input is called out by `evaluate`, `compare --data` and the report."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from summarist import rundir
from tests.conftest import write_jsonl


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "summarist", *args], capture_output=True, text=True, timeout=300
    )


def _evaluate(tiny_corpus: Path, tmp_path: Path, predictions: list[str], name: str):
    preds = write_jsonl(tmp_path / f"{name}.jsonl", [{"prediction": p} for p in predictions])
    out = tmp_path / name
    res = run_cli("evaluate", "--predictions", str(preds), "--data", str(tiny_corpus),
                  "--split", "test", "--output-dir", str(out), "--bootstrap", "200")  # fmt: skip
    assert res.returncode == 0, res.stderr
    return res, rundir.read_json(out / rundir.METRICS)["splits"]["test"], out


def test_evaluate_flags_a_constant_output_everywhere(tiny_corpus: Path, tmp_path: Path) -> None:
    constant = "Ben got the keys for Anna. They meet at 3 pm in room 103."
    res, test, out = _evaluate(tiny_corpus, tmp_path, [constant] * 10, "constant")
    verdict = test["degenerate"]
    assert verdict["flagged"]
    assert "only 1 of 10 predictions are distinct (10%)" in verdict["message"]
    assert {"lead-3-utterances", "constant"} <= set(test["baselines"])
    assert test["constant_baseline"]["source"] == "train"
    assert test["diagnostics"]["distinct_share"] == 0.1
    console = " ".join((res.stdout + res.stderr).replace("│", " ").split())  # panels wrap
    assert "DEGENERATE OUTPUT" in console and "1 of 10 predictions" in console
    report = (out / "report.html").read_text(encoding="utf-8")
    assert 'class="alert"' in report and "only 1 of 10 predictions are distinct" in report
    # the warning comes before the metrics, and the configuration is collapsed at the end
    assert (
        report.index('id="warnings"')
        < report.index('id="metrics"')
        < report.index('id="examples"')
        < report.index('id="configuration"')
    )


def test_evaluate_passes_predictions_that_follow_the_source(
    tiny_corpus: Path, tmp_path: Path
) -> None:
    refs = [r["summary"] for r in rundir.read_jsonl(tiny_corpus / "test.jsonl")]
    res, test, out = _evaluate(tiny_corpus, tmp_path, refs, "good")
    assert not test["degenerate"]["flagged"]
    assert test["degenerate"]["vs_constant"]["low"] > 0
    assert "DEGENERATE" not in res.stdout + res.stderr
    assert 'class="alert"' not in (out / "report.html").read_text(encoding="utf-8")


def test_compare_on_data_scores_the_constant_baseline_and_probes(
    tiny_corpus: Path, tmp_path: Path
) -> None:
    pytest.importorskip("torch")
    from tests import tiny_models as tiny

    tok = tiny.t5_tokenizer()
    model = tiny.save(tiny.tiny_seq2seq("t5"), tok, tmp_path / "t5" / "model", max_new_tokens=6,
                      min_new_tokens=6, num_beams=1)  # fmt: skip
    out = tmp_path / "cmp"
    res = run_cli("compare", "--models", str(model), "--data", str(tiny_corpus), "--split",
                  "test", "-o", str(out), "--bootstrap", "100")  # fmt: skip
    assert res.returncode == 0, res.stderr
    test = rundir.read_json(out / "t5-model" / rundir.METRICS)["splits"]["test"]
    assert {"lead-3-utterances", "constant"} <= set(test["baselines"])
    assert test["diagnostics"]["swap_probe"]["n"] == 8
    assert "distinct_share" in test["diagnostics"]
    # a random tiny model does not summarize: the verdict says so, on the console too
    assert test["degenerate"]["flagged"]
    console = " ".join((res.stdout + res.stderr).replace("│", " ").split())
    assert "DEGENERATE OUTPUT" in console and "constant" in console, res.stdout
