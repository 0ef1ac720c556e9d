"""One file split by --split-ratios: trained on its train part, evaluated on validation and
test, in `train`, `evaluate` and `baseline` alike, with the same split every time (seed 42 by
default, recorded in config.yaml, read back by --resume). Driven through the CLI in-process."""

from __future__ import annotations

import io
import logging
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from unittest import mock

import pytest

from summarist.config.data import DataConfig
from summarist.rundir import read_json, read_jsonl, read_yaml
from tests.conftest import write_jsonl
from tests.tiny_models import tiny_model

pytest.importorskip("torch")

RATIOS = "0.8,0.1,0.1"
N = 40  # 40 distinct sources: round(40 * 0.8) = 32 train, 4 validation, 4 test


@pytest.fixture
def one_file(tmp_path: Path) -> Path:
    things = ["the report", "lunch", "the tickets", "a gift", "the keys", "dinner", "a taxi"]
    rows = [
        {"id": f"d{i}",
         "dialogue": f"#Person1#: Did you get {things[i % 7]}? It is case {i}.\n"
                     f"#Person2#: Yes, I got {things[i % 7]} today. See you at {i % 12 + 1}.",
         "summary": f"#Person2# got {things[i % 7]} for case {i}."}
        for i in range(N)
    ]  # fmt: skip
    path = tmp_path / "one.jsonl"
    write_jsonl(path, rows)
    return path


def cli(*argv: str) -> tuple[int, str, str]:
    from summarist.cli import main, root

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err), mock.patch.dict(root.STATE, {"debug": False}):
        try:
            main([str(a) for a in argv])
            code = 0
        except SystemExit as exit_:
            code = int(exit_.code or 0)
    return code, out.getvalue(), err.getvalue()


def split_ids(path: Path, seed: int = 42) -> dict[str, list[str]]:
    """The ids of each split, computed by the library itself (not through the CLI)."""
    from summarist.data.loading import load_corpus

    ratios = tuple(float(r) for r in RATIOS.split(","))
    corpus = load_corpus(DataConfig([str(path)], split_ratios=ratios, seed=seed))  # type: ignore[arg-type]
    return {name: list(split.extra["id"]) for name, split in corpus.splits.items()}


def ids_by_split(run: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for row in read_jsonl(run / "predictions.jsonl"):
        out.setdefault(row["split"], []).append(row["id"])
    return out


TRAIN = ("--model", "{model}", "--split-ratios", RATIOS, "--max-steps", "4", "--batch-size", "4",
         "--threads", "1", "--eval-samples", "2", "--eval-every", "2", "--num-beams", "1",
         "--max-new-tokens", "8", "--learning-rate", "1e-3", "--precision", "fp32", "--no-report")  # fmt: skip


def train_args(data: Path, out: Path) -> list[str]:
    model = str(tiny_model("t5"))
    return ["train", "--data", str(data), "--output-dir", str(out),
            *(a.replace("{model}", model) for a in TRAIN)]  # fmt: skip


def test_train_evaluate_and_baseline_use_the_same_split_of_one_file(
    one_file: Path, tmp_path: Path
) -> None:
    expected = split_ids(one_file)
    assert {k: len(v) for k, v in expected.items()} == {"train": 32, "validation": 4, "test": 4}
    assert expected != split_ids(one_file, seed=7)  # the seed decides the split

    run = tmp_path / "run"
    code, _, err = cli(*train_args(one_file, run))
    assert code == 0, err
    metrics = read_json(run / "metrics.json")["splits"]
    assert {name: m["n"] for name, m in metrics.items()} == {"validation": 4, "test": 4}
    assert ids_by_split(run) == {"validation": expected["validation"], "test": expected["test"]}
    saved = read_yaml(run / "config.yaml")
    assert saved["data"]["seed"] == 42 and saved["seed"] == 42  # recorded, never null
    assert saved["data"]["split_ratios"] == [0.8, 0.1, 0.1]
    assert saved["resolved"]["train_examples"] == 32
    log = [r for r in read_jsonl(run / "train_log.jsonl") if "eval" in r]
    assert [r["eval"]["n"] for r in log] == [2, 2]  # evaluation during training: validation

    preds = tmp_path / "test_preds.txt"  # lead-1 of the test part, one per line
    rows = {r["id"]: r["dialogue"] for r in read_jsonl(one_file)}
    preds.write_text("".join(rows[i].splitlines()[0] + "\n" for i in expected["test"]), "utf-8")
    code, _, err = cli("evaluate", "--predictions", preds, "--data", one_file, "--split-ratios",
                       RATIOS, "--split", "test", "-o", tmp_path / "eval", "--bootstrap", "0",
                       "--no-report")  # fmt: skip
    assert code == 0, err
    assert read_json(tmp_path / "eval" / "metrics.json")["splits"]["test"]["n"] == 4
    assert ids_by_split(tmp_path / "eval") == {"test": expected["test"]}

    code, _, err = cli("baseline", "lead-1", "--data", one_file, "--split-ratios", RATIOS,
                       "--split", "validation", "--split", "test", "-o", tmp_path / "lead",
                       "--bootstrap", "0", "--no-report")  # fmt: skip
    assert code == 0, err
    assert ids_by_split(tmp_path / "lead") == {k: expected[k] for k in ("validation", "test")}

    code, _, err = cli("evaluate", run, "--bootstrap", "0", "--no-report")  # re-score the run
    assert code == 0, err
    assert ids_by_split(run) == {"validation": expected["validation"], "test": expected["test"]}


def test_resume_reproduces_the_split(
    one_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from summarist.training import loop

    def interrupt(step: int) -> None:
        if step == 3:
            raise KeyboardInterrupt

    cut = tmp_path / "cut"
    monkeypatch.setattr(loop, "_debug_kill", interrupt)
    code, _, _ = cli(*train_args(one_file, cut))
    assert code == 130 and (cut / "checkpoint.pt").exists()
    monkeypatch.undo()
    code, _, err = cli("train", "--resume", cut)
    assert code == 0, err
    expected = split_ids(one_file)
    assert ids_by_split(cut) == {"validation": expected["validation"], "test": expected["test"]}
    assert read_yaml(cut / "config.yaml")["data"]["seed"] == 42


def test_one_file_without_ratios_trains_on_all_of_it_and_says_so(
    one_file: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from summarist.config.train import load_train_config
    from summarist.training.loop import setup

    cfg = load_train_config(None, {"data": str(one_file), "model": str(tiny_model("t5")),
                                   "max_steps": 1, "threads": 1, "output_dir": str(tmp_path / "r")})  # fmt: skip
    with caplog.at_level(logging.WARNING, logger="summarist"):
        s = setup(cfg, tmp_path / "r")
    assert s.splits == {} and len(s.train_split) == N and s.eval_split is None
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert f"{one_file} is one file without splits: training uses all {N} examples" in warning
    assert "--split-ratios 0.8,0.1,0.1" in warning
