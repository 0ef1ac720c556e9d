"""`summarist compare`: side by side on --input; with --data, run dirs per model + paired tests."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from summarist.metrics import ROUGE_TYPES, bootstrap_ci, paired_bootstrap
from summarist.rundir import METRICS, PREDICTIONS, read_json, read_jsonl
from tests import tiny_models as tiny

pytest.importorskip("torch")


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    import torch

    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("cmp")
    tok = tiny.t5_tokenizer()
    gen = {"max_new_tokens": 6, "min_new_tokens": 6, "num_beams": 1}
    return [
        tiny.save(tiny.tiny_seq2seq("t5"), tok, root / "t5" / "model", **gen),
        tiny.save(tiny.tiny_seq2seq("bart"), tok, root / "bart" / "model", **gen),
    ]


def test_compare_on_data_writes_a_run_per_model_and_paired_tests(models, tiny_corpus, tmp_path):
    from summarist.config.data import DataConfig
    from summarist.evaluation import ScoringConfig
    from summarist.model_comparison import CompareModelsConfig, compare_models

    out = tmp_path / "runs"
    cfg = CompareModelsConfig(
        models=[str(m) for m in models],
        data=DataConfig(data=[str(tiny_corpus)]),
        split="test",
        output_dir=out,
        scoring=ScoringConfig(bootstrap=50, workers=1),
    )
    result = compare_models(cfg)
    evaluation = result["evaluation"]
    assert sorted(p.name for p in out.iterdir()) == ["bart-model", "t5-model"]
    for name in ("t5-model", "bart-model"):
        metrics = read_json(out / name / METRICS)
        rows = read_jsonl(out / name / PREDICTIONS)
        assert metrics["splits"]["test"]["n"] == len(rows) == 10
        ci = metrics["splits"]["test"]["rouge"]["rouge1"]["fmeasure"]
        r1 = np.array([r["scores"]["rouge1"] for r in rows])
        expected = bootstrap_ci(r1, 50, seed=0)[:, 0]  # the scoring settings above
        assert [ci["low"], ci["mid"], ci["high"]] == pytest.approx(expected, abs=1e-3)
        assert all(r["new_tokens"] == 6 and r["hit_cap"] for r in rows)
    (pair,) = evaluation["pairs"]
    assert pair["n"] == 10
    a, b = (
        np.array(
            [[r["scores"][t] for t in ROUGE_TYPES] for r in read_jsonl(Path(run) / PREDICTIONS)]
        )
        for run in (pair["a"], pair["b"])
    )
    want = paired_bootstrap(a, b, 50, seed=0)
    got = pair["rouge"]["rougeL"]
    assert got["diff"] == pytest.approx(want["diff"][2], abs=1e-3)
    assert got["p_value"] == pytest.approx(want["p_value"][2], abs=1e-3)
    # faithfulness: each model's block, and a paired test per figure on the same examples
    from summarist.metrics.faithfulness import FIGURES

    assert set(pair["faithfulness"]) == set(FIGURES) and pair["faithfulness_method"]
    rows_a = read_jsonl(Path(pair["a"]) / PREDICTIONS)
    novel = pair["faithfulness"]["novel_1"]
    assert novel["n"] == 10  # six new tokens each: every summary defines it
    assert novel["a"] == pytest.approx(np.mean([r["faithfulness"]["novel_1"] for r in rows_a]))
    assert "faithfulness" in read_json(Path(pair["a"]) / METRICS)["splits"]["test"]
    first = result["models"][str(models[0])]
    assert first["ms_per_text"] > 0 and len(first["summaries"]) == 10


def test_cli_models_a_b_side_by_side(models, tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"text": "Anna: Did you book the train? Ben: Yes."}) + "\n")
    res = subprocess.run(
        [sys.executable, "-m", "summarist", "compare", "--models", str(models[0]),
         str(models[1]), "--input", str(src), "--json"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    result = json.loads(res.stdout)
    assert list(result["models"]) == [str(m) for m in models]
    assert all(len(m["summaries"]) == 1 for m in result["models"].values())
    assert "evaluation" not in result
