"""`summarist data stats` end to end through the real entry point (subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from summarist.rundir import read_jsonl
from tests.conftest import write_jsonl


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "summarist", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def test_help_lists_commands() -> None:
    for cmd in (
        [sys.executable, "-m", "summarist", "--help"],
        [str(Path(sys.executable).parent / "summarist"), "--help"],
    ):
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        assert "data" in out.stdout and "Commands" in out.stdout


def test_stats_json_table_and_plot(tiny_corpus: Path, tmp_path: Path) -> None:
    res = run_cli("data", "stats", "--data", str(tiny_corpus), "--json")
    assert res.returncode == 0, res.stderr
    stats = json.loads(res.stdout)
    assert list(stats["splits"]) == ["train", "validation", "test"]
    train = stats["splits"]["train"]
    assert train["rows"] == 40 and train["kept"] == 40
    assert set(train["source_words"]) == {"p50", "p90", "p95", "p99", "max", "mean"}
    words = [len(r["dialogue"].split()) for r in read_jsonl(tiny_corpus / "train.jsonl")]
    assert train["source_words"]["max"] == max(words)
    assert train["source_words"]["p50"] == pytest.approx(np.percentile(words, 50), abs=0.01)
    assert train["source_words"]["p99"] == pytest.approx(np.percentile(words, 99), abs=0.01)
    assert train["compression_ratio"]["median"] > 1
    plot = tmp_path / "plots" / "lengths.png"
    res = run_cli("data", "stats", "--data", str(tiny_corpus), "--plot", str(plot))
    assert res.returncode == 0, res.stderr
    assert "source words p95" in res.stdout and "validation" in res.stdout
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and plot.stat().st_size > 5_000


def test_stats_with_tokenizer_counts_tokens_and_truncation(tiny_corpus: Path) -> None:
    res = run_cli(
        "data", "stats", "--data", str(tiny_corpus), "--json", "--model", "minilm",
        "--max-source-length", "34", "--max-target-length", "64",
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    train = json.loads(res.stdout)["splits"]["train"]
    assert train["source_tokens"]["p50"] > train["source_words"]["p50"]  # WordPiece splits more
    from summarist.models.pretrained import load_tokenizer

    tok = load_tokenizer("minilm")
    sources = [r["dialogue"] for r in read_jsonl(tiny_corpus / "train.jsonl")]
    over = [len(ids) > 34 for ids in tok(sources)["input_ids"]]
    assert 0 < sum(over) < len(over)  # 33-37 tokens: the limit cuts some, not all
    assert train["truncated_source_share"] == pytest.approx(np.mean(over), abs=1e-4)
    assert train["truncated_summary_share"] == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data", "missing.jsonl"], "file not found: missing.jsonl"),
        (["--data", "{bad}"], "unknown file extension"),
        (["--data", "{bad}", "--preset", "samsun"], "did you mean 'samsum'"),
        (["--data", "{good}", "--text-column", "dialog"], "did you mean 'dialogue'"),
        (["--data", "{good}", "--min-summary-words", "500"], "empty after filtering"),
        (["--data", "{good}", "--max-source-length", "10"], "add --model NAME"),
        (["--data", "{good}", "--split-ratios", "0.5,0.5"], "needs three numbers"),
        (["--data", "{broken}"], "broken.jsonl:2: malformed JSON line"),
        (["--data", "{latin}"], "--encoding"),
        (["--data", "knkarthick/dialogsum"], "needs the Hugging Face Hub"),
    ],
)
def test_bad_input_one_line_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    good = write_jsonl(
        tmp_path / "good.jsonl", [{"dialogue": "A: hi\nB: yo", "summary": "A greets B."}]
    )
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"text": "a", "summary": "b"}\n{"text": \n', "utf-8")
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes(b'{"text": "caf\xe9", "summary": "x"}\n')
    (tmp_path / "bad.xlsx").write_text("x")
    paths = {"good": good, "broken": broken, "latin": latin, "bad": tmp_path / "bad.xlsx"}
    argv = [a.format(**paths) if a.startswith("{") else a for a in args]
    res = run_cli("data", "stats", *argv, cwd=tmp_path)
    assert res.returncode == 2, (res.stdout, res.stderr)
    lines = [line for line in res.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and message in lines[0], res.stderr
    assert "Traceback" not in res.stderr
    debug = run_cli("--debug", "data", "stats", *argv, cwd=tmp_path)
    assert debug.returncode != 0 and "Traceback" in debug.stderr


def test_shared_samsum_quirks_are_reported(shared_data: Path) -> None:
    """SAMSum's known quirks (../shared/data/README.md): 1 empty dialogue, duplicates, 47 leaked."""
    res = run_cli("data", "stats", "--data", str(shared_data / "samsum"), "--json")
    assert res.returncode == 0, res.stderr
    splits = json.loads(res.stdout)["splits"]
    train, val = splits["train"], splits["validation"]
    assert train["rows"] == 14_732 and train["empty"] == 1
    # 467 byte-identical duplicate dialogues; 478 once \r\n and \n are unified and outer
    # whitespace is stripped (`data.prepare.normalize`), empty dialogues not counted.
    assert train["duplicate_sources"] == 478
    assert val["leaked"] == 47 and train["leaked"] == 0
    assert "47 validation examples also appear in train" in res.stderr


def test_shared_dialogsum_and_csl(shared_data: Path) -> None:
    res = run_cli("data", "stats", "--data", str(shared_data / "dialogsum"), "--json")
    assert res.returncode == 0, res.stderr
    splits = json.loads(res.stdout)["splits"]
    assert splits["train"]["rows"] == 12_460 and splits["validation"]["rows"] == 500
    res = run_cli("data", "stats", "--data", str(shared_data / "csl_zh" / "dev.tsv"), "--json")
    assert res.returncode == 0, res.stderr
    csl = json.loads(res.stdout)["splits"]["validation"]
    assert csl["rows"] == 1000 and csl["summary_words"]["p50"] > 5  # characters, not 1 "word"
