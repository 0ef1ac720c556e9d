"""`summarist summarize` on two ranks (torchrun, gloo): shards shared out, merged in input
order equal to one process's output, and a re-run after one rank was killed redoes only the
shards that were not finished."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests import tiny_models as tiny
from tests.conftest import write_jsonl
from tests.integration.test_distributed import launch, run_here


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("model") / "t5"
    return tiny.save(
        tiny.tiny_seq2seq("t5"), tiny.t5_tokenizer(), out, max_new_tokens=6, num_beams=1
    )


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    sources = [src for src, _ in tiny.training_pairs()]
    rows = [{"id": f"doc{i}", "text": sources[(i * 7) % len(sources)]} for i in range(200)]
    rows[7]["text"] = ""  # an empty row keeps its place
    return write_jsonl(tmp_path / "in.jsonl", rows)


def summarize(n: int, model: Path, inputs: Path, out: Path, **env: str) -> object:
    return launch(n, "summarize", "--model", str(model), str(inputs), "--output", str(out),
                  "--batch-size", "16", "--shard-size", "30", env=env)  # fmt: skip


@pytest.mark.slow
def test_two_ranks_summarize_like_one_and_resume_after_a_rank_is_killed(
    model_dir: Path, inputs: Path, tmp_path: Path
) -> None:
    assert run_here("summarize", "--model", str(model_dir), str(inputs), "--output",
                    str(tmp_path / "one.jsonl"), "--batch-size", "16") == 0  # fmt: skip
    expected = (tmp_path / "one.jsonl").read_text("utf-8")
    assert len(expected.splitlines()) == 200
    summaries = [json.loads(line)["summary"] for line in expected.splitlines()]
    tiny.assert_varied([s for i, s in enumerate(summaries) if i != 7], 5)

    # 7 shards of 30: rank 1 owns 1, 3, 5 and dies (-9) after writing its first one.
    out = tmp_path / "two.jsonl"
    parts = tmp_path / ".two.jsonl.shards"
    killed = summarize(2, model_dir, inputs, out, SUMMARIST_TEST_KILL_AFTER_SHARDS="1:1")
    assert killed.returncode != 0 and not out.exists()
    kept = {p.name: p.stat().st_mtime_ns for p in parts.glob("*.jsonl")}
    assert any(name.endswith("-00001.jsonl") for name in kept), sorted(kept)
    assert not any(name.endswith("-00003.jsonl") for name in kept)
    assert not list(parts.glob(".*.tmp"))  # shards are written whole or not at all

    again = summarize(2, model_dir, inputs, out)
    assert again.returncode == 0, again.stderr[-2000:]
    assert f"{len(kept)} of 7 shards already done" in again.stderr
    assert out.read_text("utf-8") == expected  # same rows, same order, each once
    assert not parts.exists()  # merged, then removed


def test_a_launcher_needs_files_not_stdin(model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from summarist.distributed import Ranks
    from summarist.errors import ConfigError
    from summarist.summarize import SummarizeConfig, run_summarize

    monkeypatch.setattr(Ranks, "start", classmethod(lambda cls: cls(rank=0, world=2)))
    with pytest.raises(ConfigError, match="under a launcher .* reads a file and writes a file"):
        run_summarize(SummarizeConfig(model=str(model_dir), input="-"))
    assert os.environ.get("WORLD_SIZE") in (None, "1")


@pytest.mark.slow
def test_two_ranks_compare_on_data_like_one_process(model_dir: Path, tmp_path: Path) -> None:
    pairs = tiny.training_pairs()
    rows = [{"id": f"d{i}", "dialogue": src, "summary": ref}
            for i, (src, ref) in enumerate(pairs[:48])]  # fmt: skip
    write_jsonl(tmp_path / "data" / "train.jsonl", rows[:8])
    write_jsonl(tmp_path / "data" / "validation.jsonl", rows[8:])
    args = ["compare", "--models", str(model_dir), "--data", str(tmp_path / "data"),
            "--split", "validation", "--bootstrap", "50", "--shard-size", "7"]  # fmt: skip
    assert run_here(*args, "--output-dir", str(tmp_path / "one")) == 0
    two = launch(2, *args, "--output-dir", str(tmp_path / "two"))
    assert two.returncode == 0, two.stderr[-2000:]
    assert two.stdout.count("run directories:") == 1  # one rank prints
    [run_one] = [p for p in (tmp_path / "one").iterdir()]
    run_two = tmp_path / "two" / run_one.name
    predictions = [(run / "predictions.jsonl").read_text("utf-8") for run in (run_one, run_two)]
    assert predictions[0] == predictions[1] and len(predictions[0].splitlines()) >= 40
    metrics = [json.loads((run / "metrics.json").read_text("utf-8"))["splits"]
               for run in (run_one, run_two)]  # fmt: skip
    assert metrics[0] == metrics[1]
    assert not (tmp_path / "two" / ".shards").exists()
