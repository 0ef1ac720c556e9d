"""Training on the data cache: a second run maps what the first tokenized, `--streaming` resumes
at the exact example after `kill -9`, and under torchrun one rank builds while the other maps,
each rank reading only its own shards."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from summarist.config.data import DataConfig
from summarist.config.train import TrainConfig
from summarist.data import loading, tokens
from summarist.training.loop import setup
from tests.integration.test_distributed import launch
from tests.integration.test_train import assert_same_weights, dialogues, model_name  # noqa: F401
from tests.unit.test_data_cache import Counter

ROOT = Path(__file__).resolve().parents[2]


def more_dialogues(data: Path, n: int = 120) -> Path:
    """`dialogues`' folder with a longer train split (so a stream has something to shuffle)."""
    rows = []
    for i in range(n):
        rows.append({"id": f"t{i}", "dialogue": f"#Person1#: Where is item {i}?\n#Person2#: "
                     + "It is here. " * (i % 6 + 1), "summary": f"#Person2# has item {i}."})  # fmt: skip
    (data / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    return data


def test_a_second_run_maps_the_corpus_and_its_token_ids(
    dialogues: Path,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reads = Counter(monkeypatch, loading, "write_split")
    tokenized = Counter(monkeypatch, tokens, "build_store")

    def start(out: str) -> object:
        cfg = TrainConfig.from_dict({"data": DataConfig([str(dialogues)], cache_dir=str(tmp_path / "c")),
                                     "model": model_name("t5"), "output_dir": str(tmp_path / out),
                                     "max_steps": 2, "threads": 1, "report": False})  # fmt: skip
        return setup(cfg, tmp_path / out)

    first = start("one")
    assert (reads.calls, tokenized.calls) == (3, 1)  # train, validation, test read; train tokenized
    second = start("two")  # what --resume and a second `train` on the same data do
    assert (reads.calls, tokenized.calls) == (3, 1)
    assert [e.input_ids.tolist() for e in second.examples] == [  # type: ignore[attr-defined]
        e.input_ids.tolist()
        for e in first.examples  # type: ignore[attr-defined]
    ]


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    import os

    return subprocess.run([sys.executable, "-m", "summarist", *args], capture_output=True,
                          text=True, env={**os.environ, "OMP_NUM_THREADS": "1", **(env or {})},
                          cwd=ROOT)  # fmt: skip


def stream_args(data: Path, out: Path, cache: Path) -> list[str]:
    return ["train", "--data", str(data), "--model", model_name("t5"), "--output-dir", str(out),
            "--max-steps", "6", "--batch-size", "4", "--threads", "1", "--eval-every", "2",
            "--eval-samples", "4", "--log-every", "1", "--learning-rate", "1e-3", "--no-report",
            "--num-beams", "1", "--eval-split", "validation", "--precision", "fp32",
            "--streaming", "--shuffle-buffer", "16", "--no-group-by-length",
            "--data-cache-dir", str(cache)]  # fmt: skip


def test_streaming_resumes_after_kill_9_at_the_exact_example(
    dialogues: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    """Bitwise on CPU in fp32: the resumed stream feeds steps 5 and 6 the examples the
    uninterrupted run saw (restarting the stream at example 16, not at 0)."""
    data, cache = more_dialogues(dialogues), tmp_path / "cache"
    full = cli(*stream_args(data, tmp_path / "full", cache))
    assert full.returncode == 0, full.stderr[-3000:]
    killed = cli(*stream_args(data, tmp_path / "cut", cache),
                 env={"SUMMARIST_TEST_KILL_AT_STEP": "5"})  # fmt: skip
    assert killed.returncode == -9 and (tmp_path / "cut" / "checkpoint.pt").exists()
    resumed = cli("--debug", "train", "--resume", str(tmp_path / "cut"))
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    said = " ".join(resumed.stderr.split())  # log lines as one (rich wraps them at 80 columns)
    assert re.search(r"epoch 0: reads shards \[[\d, ]+\] from example 16", said), said[-2000:]
    assert_same_weights(tmp_path / "cut", tmp_path / "full")
    config = (tmp_path / "full" / "config.yaml").read_text("utf-8")
    assert "streaming: true" in config and not list((cache / "tokens").glob("*"))


def built_and_mapped(stderr: str) -> tuple[list[str], list[str]]:
    stderr = " ".join(stderr.split())
    built = re.findall(r"data cache: built (\S+)", stderr)
    mapped = re.findall(r"data cache: mapped (\S+)", stderr)
    return built, mapped


@pytest.mark.slow
def test_two_ranks_build_the_cache_once_and_each_reads_its_own_shards(
    dialogues: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    data = more_dialogues(dialogues)
    args = ["--debug", "train", "--data", str(data), "--model", model_name("t5-nodropout"),
            "--max-steps", "3", "--batch-size", "2", "--threads", "1", "--eval-every", "0",
            "--eval-samples", "0", "--no-report", "--num-beams", "1", "--eval-split",
            "validation", "--data-cache-dir", str(tmp_path / "cache")]  # fmt: skip
    run = launch(2, *args, "--output-dir", str(tmp_path / "mapped"), timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    built, mapped = built_and_mapped(run.stderr)
    kinds = sorted(b.split("/")[0] for b in built)
    assert kinds == ["corpora", "prepared", "tokens"], built  # each built once, by one rank
    assert set(built) <= set(mapped)  # ... and mapped by the other
    assert not list((tmp_path / "cache").glob("*/.*.tmp"))

    run = launch(2, *args, "--streaming", "--output-dir", str(tmp_path / "streamed"), timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    said = " ".join(run.stderr.split())
    reads = dict(re.findall(r"rank (\d) of 2, epoch 0: reads shards (\[[\d, ]*\])", said))
    shards = {rank: set(json.loads(v)) for rank, v in reads.items()}
    assert sorted(shards) == ["0", "1"] and not (shards["0"] & shards["1"])
    assert shards["0"] | shards["1"] == set(range(8))  # the 120 rows in 4 x 2 ranks pieces
    built, _ = built_and_mapped(run.stderr)
    assert sorted(b.split("/")[0] for b in built) == ["prepared", "streams"]
