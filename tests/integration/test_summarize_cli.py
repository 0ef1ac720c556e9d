"""`summarist summarize` / `export` end to end: inputs, outputs, order, errors (exit 2, one line)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests import tiny_models as tiny
from tests.conftest import write_jsonl

pytest.importorskip("torch")

DIALOGUES = [
    "Anna: Did you book the train?\nBen: Yes, for Friday at nine.",
    "Eve: lunch?",
    "Cara: The report is late again.\nDan: I will finish it tonight, promise.\nCara: Thanks.",
    "",
    "Finn: I lost the keys.\nAnna: Check the car.",
]


def run_cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "summarist", *args],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=300,
    )


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch

    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("model") / "t5"
    return tiny.save(
        tiny.tiny_seq2seq("t5"), tiny.t5_tokenizer(), out, max_new_tokens=6, num_beams=1
    )


def summarize_in_process(model_dir: Path, source: str, **kw) -> list[dict]:
    import io

    from summarist.summarize import SummarizeConfig, run_summarize

    buf = io.StringIO()
    run_summarize(SummarizeConfig(model=str(model_dir), input=source, format="jsonl", **kw), buf)
    return [json.loads(line) for line in buf.getvalue().splitlines()]


def test_jsonl_in_jsonl_out_keeps_order_ids_and_flags_empty(model_dir: Path, tmp_path: Path):
    src = write_jsonl(
        tmp_path / "in.jsonl", [{"id": f"x{i}", "dialogue": d} for i, d in enumerate(DIALOGUES)]
    )
    out = tmp_path / "out.jsonl"
    res = run_cli(
        "summarize", "--model", str(model_dir), str(src), "-o", str(out), "--batch-size", "2"
    )
    assert res.returncode == 0, res.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == [f"x{i}" for i in range(5)]
    assert rows[3]["summary"] == "" and rows[3]["new_tokens"] == 0
    assert all(r["summary"] for i, r in enumerate(rows) if i != 3)
    assert "1 of 5 inputs are empty" in res.stderr
    # Same summaries as one text at a time (batching and sorting change nothing).
    alone = [
        summarize_in_process(model_dir, str(src), batch_size=1)[i]["summary"] for i in range(5)
    ]
    tiny.assert_varied([a for i, a in enumerate(alone) if i != 3])
    assert [r["summary"] for r in rows] == alone


def test_csv_folder_and_text_inputs(model_dir: Path, tmp_path: Path) -> None:
    import csv

    with (tmp_path / "in.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["doc", "body"])
        writer.writerows([[f"d{i}", d] for i, d in enumerate(DIALOGUES[:3])])
    rows = summarize_in_process(model_dir, str(tmp_path / "in.csv"), text_column="body")
    assert [r["id"] for r in rows] == ["0", "1", "2"] and len(rows) == 3

    folder = tmp_path / "docs"
    folder.mkdir()
    for name, text in (("b.txt", DIALOGUES[0]), ("a.txt", DIALOGUES[1]), ("skip.md", "x")):
        (folder / name).write_text(text)
    rows = summarize_in_process(model_dir, str(folder))
    assert [r["id"] for r in rows] == ["a.txt", "b.txt"]

    res = run_cli("summarize", "-m", str(model_dir), "-", stdin=DIALOGUES[2])
    assert res.returncode == 0, res.stderr
    assert len(res.stdout.splitlines()) == 1 and res.stdout.strip()


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"text_column": "dialog"}, "no column 'dialog' in in.jsonl (columns: dialogue, n)"),
        ({"text_column": "n"}, "column 'n' of in.jsonl holds int values, not text"),
        ({"long": "squeeze"}, "unknown --long 'squeeze'"),
        ({"generation": {"beam_width": 3}}, "unknown generation setting(s): beam_width"),
    ],
)
def test_bad_input_is_a_one_line_error(model_dir: Path, tmp_path: Path, kw, message) -> None:
    from summarist.errors import SummaristError

    src = write_jsonl(tmp_path / "in.jsonl", [{"dialogue": "Anna: hi.", "n": 3}])
    with pytest.raises(SummaristError) as err:
        summarize_in_process(model_dir, str(src), **kw)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_cli_errors_print_one_line_and_exit_2(model_dir: Path, tmp_path: Path) -> None:
    binary = tmp_path / "blob.txt"
    binary.write_bytes(b"\x00\x01\x02")
    good = tmp_path / "doc.txt"
    good.write_text(DIALOGUES[0])
    for args, message in (
        (["-m", str(tmp_path / "nope"), str(good)], "model directory not found"),
        (["-m", str(model_dir), str(binary)], "looks binary"),
    ):
        res = run_cli("summarize", *args)
        assert res.returncode == 2, res.stderr
        assert res.stderr.startswith("error: ") and message in res.stderr
        assert len(res.stderr.strip().splitlines()) == 1


def test_missing_input_is_a_data_error(model_dir: Path, tmp_path: Path) -> None:
    from summarist.errors import DataError

    with pytest.raises(DataError, match="input not found"):
        summarize_in_process(model_dir, str(tmp_path / "missing.txt"))


def test_export_then_summarize_with_the_export(model_dir: Path, tmp_path: Path) -> None:
    pytest.importorskip("ctranslate2")
    out = tmp_path / "ct2"
    res = run_cli("export", "-m", str(model_dir), "-o", str(out), "--format", "ctranslate2")
    assert res.returncode == 0, res.stderr
    assert (out / "model.bin").exists()
    src = tmp_path / "doc.txt"
    src.write_text(DIALOGUES[0])
    fast = summarize_in_process(out, str(src))
    ref = summarize_in_process(model_dir, str(src))
    tiny.assert_varied([ref[0]["summary"]], at_least=1)
    assert fast[0]["summary"] == ref[0]["summary"]
