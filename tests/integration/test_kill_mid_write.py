"""`evaluate`, `compare --data`, `export` and `report` killed in the middle of writing their
output leave the previous complete files in place, never a truncated one.

Each test writes a complete output first, then runs the same command again in a child process
whose writes the kernel cuts: RLIMIT_FSIZE with SIGXFSZ at its default action kills the process
the moment a file would grow past N bytes, so no `finally`, no `except` and no atexit runs,
exactly as with `kill -9`, but at a known point inside the writer (tests/faults.py explains the
limit). N is half the size of the output file written first, so the cut always lands in it.
Afterwards every previous file is byte for byte what it was, and the only trace of the killed
run is one temp entry (`.NAME.*.tmp`) holding exactly N bytes: proof that the cut landed inside
our writer, and that readers (which open fixed names) never see it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from summarist import rundir
from tests.conftest import write_jsonl
from tests.faults import snapshot
from tests.integration.test_bad_inputs import ROWS, run_cli

ROOT = Path(__file__).resolve().parents[2]

CHILD = r"""
import resource, signal, sys

limit, when, argv = int(sys.argv[1]), sys.argv[2], sys.argv[3:]


def arm():
    # The kernel kills us at the cut (SIGXFSZ's default action): no cleanup runs, as with kill -9.
    signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))


import matplotlib.font_manager, torch, summarist.cli, summarist.evaluation, summarist.reports

if when == "convert":
    # export first saves the model to a scratch folder (larger than any output file); arm once
    # the converter starts, so the cut lands in what it writes
    from ctranslate2.converters import TransformersConverter

    real = TransformersConverter.convert

    def convert(self, *args, **kwargs):
        arm()
        return real(self, *args, **kwargs)

    TransformersConverter.convert = convert
else:
    arm()
summarist.cli.main(argv)
"""


def kill_mid_write(argv: list[str], nbytes: int, when: str = "now") -> None:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}"}
    res = subprocess.run(
        [sys.executable, "-c", CHILD, str(nbytes), when, *argv],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert res.returncode == -signal.SIGXFSZ, (
        f"not killed mid-write: {res.returncode}\n{res.stderr}"
    )


def assert_previous_files_kept(folder: Path, before: dict[str, str], nbytes: int) -> None:
    """Every file as it was; beside them one temp entry, cut at exactly `nbytes`."""
    after = snapshot(folder)
    debris = {name: digest for name, digest in after.items() if ".tmp" in name}
    assert {k: v for k, v in after.items() if k not in debris} == before
    sizes = [(folder / name).stat().st_size for name in debris]
    assert nbytes in sizes, f"the cut did not land in one of our temp files: {debris}"
    hidden = [p for name in debris for p in Path(name).parts if p.endswith(".tmp")]
    assert hidden and all(p.startswith(".") for p in hidden), debris


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("kill-corpus")
    rows = [{**r, "dialogue": r["dialogue"] + " padding" * 40} for r in ROWS]  # bigger files
    write_jsonl(root / "train.jsonl", rows[:10])
    write_jsonl(root / "test.jsonl", rows[10:])
    return root


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.tiny_models import tiny_model

    out = tmp_path_factory.mktemp("kill-model") / "t5"
    shutil.copytree(tiny_model("t5"), out)
    return out


def test_evaluate_killed_mid_write_keeps_the_previous_run(corpus: Path, tmp_path: Path) -> None:
    preds = tmp_path / "preds.txt"
    preds.write_text("".join(f"Ben got the keys {i}.\n" for i in range(10, 30)), "utf-8")
    run = tmp_path / "run"
    argv = ["evaluate", "--predictions", str(preds), "--data", str(corpus), "-o", str(run),
            "--bootstrap", "10"]  # fmt: skip
    code, _, err = run_cli(argv)
    assert code == 0, err
    before = snapshot(run)
    assert {rundir.PREDICTIONS, rundir.METRICS, rundir.CONFIG, "report.html"} <= set(before)
    preds.write_text("".join(f"They meet at {i}.\n" for i in range(10, 30)), "utf-8")
    nbytes = (run / rundir.PREDICTIONS).stat().st_size // 2
    kill_mid_write(argv, nbytes)
    assert_previous_files_kept(run, before, nbytes)
    assert rundir.read_json(run / rundir.METRICS)["splits"]["test"]["n"] == 20


def test_report_killed_mid_write_keeps_the_previous_page(corpus: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    code, _, err = run_cli(["baseline", "lead-1", "--data", str(corpus), "-o", str(run),
                            "--bootstrap", "10"])  # fmt: skip
    assert code == 0, err
    before = snapshot(run)
    nbytes = (run / "report.html").stat().st_size // 2
    kill_mid_write(["report", str(run), "--title", "a new title"], nbytes)
    assert_previous_files_kept(run, before, nbytes)
    assert (run / "report.html").read_text("utf-8").rstrip().endswith("</html>")


def test_compare_data_killed_mid_write_keeps_the_previous_runs(
    corpus: Path, model: Path, tmp_path: Path
) -> None:
    out = tmp_path / "compare"
    argv = ["compare", "--models", str(model), "--data", str(corpus), "--split", "test",
            "-o", str(out), "--bootstrap", "10", "--max-new-tokens", "4"]  # fmt: skip
    code, _, err = run_cli(argv)
    assert code == 0, err
    before = snapshot(out)
    (first,) = [p for p in out.iterdir() if p.is_dir()]
    nbytes = (first / rundir.PREDICTIONS).stat().st_size // 2
    kill_mid_write(argv, nbytes)
    assert_previous_files_kept(out, before, nbytes)


def test_export_killed_mid_conversion_keeps_the_previous_export(
    model: Path, tmp_path: Path
) -> None:
    out = tmp_path / "ct2"
    code, _, err = run_cli(["export", "--model", str(model), "-o", str(out)])
    assert code == 0, err
    before = snapshot(tmp_path)
    assert "ct2/model.bin" in before
    nbytes = (out / "model.bin").stat().st_size // 2
    kill_mid_write(["export", "--model", str(model), "-o", str(out)], nbytes, when="convert")
    assert_previous_files_kept(tmp_path, before, nbytes)
    # the export still loads, and a later export replaces it whole
    from summarist.inference.backends.ctranslate2_backend import is_export_dir

    assert is_export_dir(out)
    code, _, err = run_cli(["export", "--model", str(model), "-o", str(out), "--quantize", "int8"])
    assert code == 0, err
    assert (out / "model.bin").stat().st_size < nbytes  # int8 now, about a quarter of fp32
