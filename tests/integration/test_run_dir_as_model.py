"""A training run directory stands for its model wherever a model is expected (`runs/x`
resolves to `runs/x/model`): summarize (CLI), export, compare, `Summarizer.from_pretrained`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from summarist.rundir import CONFIG, MODEL_DIR, write_yaml
from tests import tiny_models as tiny

pytest.importorskip("torch")

TEXT = "Anna: Did you book the train?\nBen: Yes, for Friday at nine."


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch

    torch.set_num_threads(1)
    run = tmp_path_factory.mktemp("runs") / "t5"
    tiny.save(
        tiny.tiny_seq2seq("t5"), tiny.t5_tokenizer(), run / MODEL_DIR, max_new_tokens=6, num_beams=1
    )
    write_yaml(run / CONFIG, {"kind": "train"})
    return run


def test_from_pretrained_takes_the_run_directory(run_dir: Path) -> None:
    from summarist.inference.summarizer import Summarizer
    from summarist.models.resolve import resolve_model_path, resolve_run_dir

    assert resolve_run_dir(str(run_dir)) == str(run_dir / MODEL_DIR)
    assert resolve_model_path(str(run_dir / MODEL_DIR)) == str(run_dir / MODEL_DIR)
    by_run = Summarizer.from_pretrained(str(run_dir)).summarize([TEXT])
    by_model = Summarizer.from_pretrained(str(run_dir / MODEL_DIR)).summarize([TEXT])
    assert by_run == by_model and by_run[0]


def test_summarize_cli_takes_the_run_directory(run_dir: Path, tmp_path: Path) -> None:
    src = tmp_path / "doc.txt"
    src.write_text(TEXT, encoding="utf-8")
    res = subprocess.run(
        [sys.executable, "-m", "summarist", "summarize", "-m", str(run_dir), str(src)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() and "Traceback" not in res.stderr


def test_export_and_compare_take_the_run_directory(run_dir: Path, tmp_path: Path) -> None:
    pytest.importorskip("ctranslate2")
    from summarist.inference.backends.ctranslate2_backend import export_model, read_export_meta
    from summarist.model_comparison import CompareModelsConfig, compare_models

    out = export_model(str(run_dir), tmp_path / "ct2")
    assert (out / "model.bin").exists() and read_export_meta(out)["prefix"] == "summarize: "
    src = tmp_path / "doc.txt"
    src.write_text(TEXT, encoding="utf-8")
    result = compare_models(CompareModelsConfig(models=[str(run_dir), str(out)], input=str(src)))
    a, b = (result["models"][m]["summaries"] for m in (str(run_dir), str(out)))
    assert a == b and a[0]
