"""Evaluation building blocks: score_split, write_run, predictions files, re-scoring, comparing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from summarist import rundir
from summarist.data.corpus import Split
from summarist.errors import ConfigError, DataError
from summarist.evaluation import (
    CompareRunsConfig,
    EvaluateConfig,
    ScoringConfig,
    compare_runs,
    read_predictions,
    rescore_run,
    score_split,
    write_run,
)

TYPES = {"rouge1", "rouge2", "rougeL", "rougeLsum"}


@pytest.fixture
def split() -> Split:
    texts = [
        f"Anna: I bought {x} today.\nBen: Great, see you at {i} pm."
        for i, x in enumerate(["bread", "milk", "a lamp", "tickets", "shoes", "a cake"])
    ]
    refs = [
        [f"Anna bought {x}."] for x in ["bread", "milk", "a lamp", "tickets", "shoes", "a cake"]
    ]
    return Split("test", texts, refs, {"id": [f"e{i}" for i in range(6)]})


def test_score_split_follows_the_contract(split: Split) -> None:
    preds = [t.split("\n")[0] for t in split.texts]
    metrics, rows = score_split(preds, split, hit_cap=[False] * 5 + [True], bootstrap=100)
    assert metrics["n"] == 6
    assert set(metrics["rouge"]) == TYPES
    assert metrics["rouge_settings"]["multi_ref"] == "max"
    assert metrics["rouge_settings"]["sentence_splitter"] == "punkt"
    assert metrics["diagnostics"]["hit_cap_share"] == pytest.approx(1 / 6, abs=1e-3)
    assert [r["index"] for r in rows] == list(range(6))
    assert rows[2]["id"] == "e2" and rows[2]["split"] == "test"
    assert rows[2]["source"] == split.texts[2] and rows[2]["references"] == split.references[2]
    assert set(rows[0]["scores"]) == TYPES and rows[5]["hit_cap"] is True
    mean_r1 = sum(r["scores"]["rouge1"] for r in rows) / 6
    assert metrics["rouge"]["rouge1"]["fmeasure"]["mid"] == pytest.approx(mean_r1, abs=1e-3)


def test_score_split_errors(split: Split) -> None:
    with pytest.raises(DataError, match="5 predictions for 6 examples"):
        score_split(["x"] * 5, split)
    no_ref = Split("test", ["a", "b"], [["x"], [""]])
    with pytest.raises(DataError, match="no reference"):
        score_split(["a", "b"], no_ref)


def test_write_run_writes_the_three_files(tmp_path: Path, split: Split) -> None:
    metrics, rows = score_split(list(split.summaries), split, bootstrap=0)
    out = write_run(
        tmp_path / "run",
        kind="baseline",
        name="lead-3",
        config={"data": {"data": ["x.jsonl"]}},
        metrics_by_split={"test": metrics},
        prediction_rows=rows,
    )
    assert sorted(p.name for p in out.iterdir()) == [
        "config.yaml",
        "metrics.json",
        "predictions.jsonl",
    ]
    config = rundir.read_yaml(out / "config.yaml")
    assert config["kind"] == "baseline" and "summarist_version" in config
    saved = rundir.read_json(out / "metrics.json")
    assert saved["name"] == "lead-3" and saved["data"] == {"data": ["x.jsonl"]}
    assert saved["splits"]["test"]["rouge"]["rouge1"]["fmeasure"]["mid"] == 100.0
    assert len(rundir.read_jsonl(out / "predictions.jsonl")) == 6


def test_read_predictions_formats(tmp_path: Path) -> None:
    (tmp_path / "p.txt").write_text("first\n\nthird\n", encoding="utf-8")
    assert [r["prediction"] for r in read_predictions(tmp_path / "p.txt")] == ["first", "", "third"]
    lines = [{"summary": "a"}, {"prediction": "b", "references": ["r"]}, "c"]
    (tmp_path / "p.jsonl").write_text("\n".join(json.dumps(x) for x in lines), encoding="utf-8")
    rows = read_predictions(tmp_path / "p.jsonl")
    assert [r["prediction"] for r in rows] == ["a", "b", "c"]
    (tmp_path / "bad.jsonl").write_text('{"output_text": "a"}\n', encoding="utf-8")
    with pytest.raises(DataError, match="no prediction field"):
        read_predictions(tmp_path / "bad.jsonl")
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    with pytest.raises(DataError, match="no predictions"):
        read_predictions(tmp_path / "empty.txt")
    with pytest.raises(DataError, match="not found"):
        read_predictions(tmp_path / "missing.txt")


def test_config_validation() -> None:
    with pytest.raises(ConfigError, match="one of --predictions FILE, --system SPEC or a RUN_DIR"):
        EvaluateConfig()
    with pytest.raises(ConfigError, match="one of"):  # two sources at once
        EvaluateConfig(predictions=Path("p.txt"), system="openai:m@http://h/v1")
    with pytest.raises(ConfigError, match="--output-dir"):
        EvaluateConfig(predictions=Path("p.txt"))
    with pytest.raises(ConfigError, match="--multi-ref"):
        ScoringConfig(multi_ref="best")
    with pytest.raises(ConfigError, match="--sentence-splitter"):
        ScoringConfig(sentence_splitter="spacy")


def test_sentence_splitter_reaches_the_settings(split: Split) -> None:
    metrics, _ = score_split(list(split.summaries), split, bootstrap=0, sentence_splitter="pysbd")
    assert metrics["rouge_settings"]["sentence_splitter"] == "pysbd"


def _run(tmp_path: Path, name: str, split: Split, preds: list[str]) -> Path:
    metrics, rows = score_split(preds, split, bootstrap=0)
    return write_run(
        tmp_path / name,
        kind="evaluate",
        name=name,
        config={"data": None},
        metrics_by_split={"test": {**metrics, "baselines": {"lead-1": {}}}},
        prediction_rows=rows,
    )


def test_rescore_in_place_with_new_settings(tmp_path: Path, split: Split) -> None:
    run = _run(tmp_path, "a", split, [t.split("\n")[0] for t in split.texts])
    rows = rundir.read_jsonl(run / "predictions.jsonl")
    rundir.write_jsonl(run / "predictions.jsonl", [{**r, "latency_ms": 5} for r in rows])
    before = rundir.read_json(run / "metrics.json")["splits"]["test"]
    rescore_run(run, ScoringConfig(multi_ref="pooled", bootstrap=50), report=False)
    after = rundir.read_json(run / "metrics.json")["splits"]["test"]
    assert after["rouge_settings"]["multi_ref"] == "pooled"
    assert after["rouge_settings"]["bootstrap"] == 50
    assert after["rouge"]["rouge1"]["fmeasure"]["mid"] == pytest.approx(
        before["rouge"]["rouge1"]["fmeasure"]["mid"]  # one reference: every rule agrees
    )
    assert set(after["baselines"]["lead-1"]) == TYPES  # listed baselines were re-run
    assert all(r["latency_ms"] == 5 for r in rundir.read_jsonl(run / "predictions.jsonl"))


def test_compare_runs(tmp_path: Path, split: Split) -> None:
    good = _run(tmp_path, "good", split, list(split.summaries))
    bad = _run(tmp_path, "bad", split, ["nothing to see"] * 6)
    result = compare_runs(
        CompareRunsConfig(
            good, bad, scoring=ScoringConfig(bootstrap=200), output_dir=tmp_path / "cmp"
        )
    )
    r1 = result["rouge"]["rouge1"]
    assert r1["a"] == 100.0 and r1["diff"] == pytest.approx(r1["a"] - r1["b"])
    assert r1["low"] > 0 and r1["p_value"] < 0.05
    assert (tmp_path / "cmp" / "comparison.json").is_file()
    other = Split("test", split.texts[:5], split.references[:5])
    short = _run(tmp_path, "short", other, list(other.summaries))
    with pytest.raises(DataError, match="different examples"):
        compare_runs(CompareRunsConfig(good, short))


def test_run_evaluate_on_self_contained_chinese_rows(tmp_path: Path) -> None:
    from summarist.evaluation import run_evaluate

    titles = ["一种新的飞行器控制方法", "基于深度学习的图像分类", "城市交通流量预测模型"]
    rows = [
        {"prediction": t, "references": [t], "source": t * 3, "hit_cap": i == 0}
        for i, t in enumerate(titles)
    ]
    preds = tmp_path / "zh.jsonl"
    preds.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    out = run_evaluate(
        EvaluateConfig(
            predictions=preds,
            output_dir=tmp_path / "out",
            scoring=ScoringConfig(bootstrap=20),
            baselines=["lead-1"],
            report=False,
        )
    )
    split = rundir.read_json(out / "metrics.json")["splits"]["test"]
    assert split["rouge_settings"]["tokenizer"] == "unicode"
    assert split["rouge"]["rouge2"]["fmeasure"]["mid"] == 100.0
    assert split["diagnostics"]["hit_cap_share"] == pytest.approx(1 / 3, abs=1e-3)
    assert set(split["baselines"]["lead-1"]) == TYPES
    assert rundir.read_yaml(out / "config.yaml")["kind"] == "evaluate"
    assert not (out / "report.html").exists()
