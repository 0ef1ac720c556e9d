"""`summarist evaluate` and `summarist baseline` end to end through the real entry point."""

from __future__ import annotations

import json
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


def assert_user_error(res: subprocess.CompletedProcess[str], fragment: str) -> None:
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    assert fragment in lines[0]


@pytest.fixture
def baseline_run(tiny_corpus: Path, tmp_path: Path) -> Path:
    out = tmp_path / "lead"
    res = run_cli(
        "baseline", "lead-1-utterances", "--data", str(tiny_corpus), "-o", str(out), "--no-report"
    )
    assert res.returncode == 0, res.stderr
    return out


def test_baseline_writes_a_run_directory(baseline_run: Path) -> None:
    assert {"config.yaml", "metrics.json", "predictions.jsonl"} <= {
        p.name for p in baseline_run.iterdir()
    }
    config = rundir.read_yaml(baseline_run / "config.yaml")
    assert config["kind"] == "baseline" and config["baseline"]["name"] == "lead-1-utterances"
    metrics = rundir.read_json(baseline_run / "metrics.json")
    test = metrics["splits"]["test"]
    assert test["n"] == 10 and test["rouge_settings"]["multi_ref"] == "max"
    rows = rundir.read_jsonl(baseline_run / "predictions.jsonl")
    assert len(rows) == 10 and rows[0]["prediction"].startswith("Cara: Did you get")
    assert rows[0]["id"] == "d50"


def test_evaluate_plain_text_predictions_with_two_references(tmp_path: Path) -> None:
    rows = [
        {
            "dialogue": f"A: we meet at {i}.\nB: ok {i}.",
            "ref_a": f"They meet at {i}.",
            "ref_b": f"A and B agree on {i} o'clock.",
        }
        for i in range(12)
    ]
    data = write_jsonl(tmp_path / "test.jsonl", rows)
    preds = tmp_path / "preds.txt"
    preds.write_text("".join(r["ref_b"] + "\n" for r in rows), encoding="utf-8")
    scores = {}
    for rule in ("max", "avg"):
        out = tmp_path / rule
        res = run_cli(
            "evaluate", "--predictions", str(preds), "--data", str(data),
            "--summary-column", "ref_a", "--summary-column", "ref_b",
            "--multi-ref", rule, "--bootstrap", "100", "-o", str(out), "--no-report",
        )  # fmt: skip
        assert res.returncode == 0, res.stderr
        split = rundir.read_json(out / "metrics.json")["splits"]["test"]
        assert split["rouge_settings"]["multi_ref"] == rule
        scores[rule] = split["rouge"]["rouge1"]["fmeasure"]["mid"]
        assert len(rundir.read_jsonl(out / "predictions.jsonl")[0]["references"]) == 2
    assert scores["max"] == 100.0 and scores["avg"] < 90


def test_rescore_and_compare_runs(baseline_run: Path, tiny_corpus: Path, tmp_path: Path) -> None:
    res = run_cli("evaluate", str(baseline_run), "--multi-ref", "pooled", "--no-report")
    assert res.returncode == 0, res.stderr
    settings = rundir.read_json(baseline_run / "metrics.json")["splits"]["test"]["rouge_settings"]
    assert settings["multi_ref"] == "pooled"
    other = tmp_path / "oracle"
    res = run_cli("baseline", "oracle", "--data", str(tiny_corpus), "-o", str(other), "--no-report")
    assert res.returncode == 0, res.stderr
    res = run_cli("evaluate", "--compare", str(other), str(baseline_run), "--json")
    assert res.returncode == 0, res.stderr
    result = json.loads(res.stdout)
    assert result["n"] == 10 and result["split"] == "test"
    assert result["rouge"]["rouge1"]["diff"] > 0  # the oracle beats lead-1


def test_user_errors_exit_2_with_one_line(
    baseline_run: Path, tiny_corpus: Path, tmp_path: Path
) -> None:
    short = tmp_path / "short.txt"
    short.write_text("one\ntwo\nthree\n", encoding="utf-8")
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    data = ["--data", str(tiny_corpus), "--split", "test", "-o", str(tmp_path / "o"), "--no-report"]
    assert_user_error(
        run_cli("evaluate", "--predictions", str(short), *data), "3 predictions for 10"
    )
    assert_user_error(run_cli("evaluate", "--predictions", str(empty), *data), "no predictions")
    assert_user_error(
        run_cli("evaluate", "--predictions", str(short), *data, "--summary-column", "nope"),
        "unknown column 'nope'",
    )
    assert_user_error(run_cli("baseline", "leed-3", "--data", str(tiny_corpus)), "did you mean")
    assert_user_error(run_cli("evaluate", "--compare", str(baseline_run)), "two run directories")
    assert_user_error(run_cli("evaluate", str(tmp_path)), "not a run directory")
    assert_user_error(
        run_cli("evaluate", "--predictions", str(short), *data, "--multi-ref", "best"),
        "--multi-ref",
    )


def test_evaluation_imports_no_torch() -> None:
    code = (
        "import sys\n"
        "import summarist.metrics, summarist.baselines, summarist.evaluation\n"
        "from summarist.metrics import compute_rouge\n"
        "compute_rouge(['a cat'], [['a cat']], bootstrap=10)\n"
        "assert 'torch' not in sys.modules and 'transformers' not in sys.modules\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
