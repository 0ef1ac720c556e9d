"""Every writer of the run-directory contract survives a write cut after some bytes.

The faults come from the kernel (tests.faults: RLIMIT_FSIZE), so they land in the middle of the
bytes a writer produces, in Python, C++ (torch.save) or Rust (safetensors) alike. Each test
writes a previous complete version first and asserts it is still there, byte for byte, with no
temp file beside it; each fails if its writer is swapped for a plain `open(path, "w")`.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from summarist import rundir
from tests.faults import assert_cut_write_keeps_old, snapshot, writes_fail_after

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "summarist"


def test_the_fault_lands_mid_write_and_tears_a_plain_write(tmp_path: Path) -> None:
    """The injection itself: n bytes reach the disk, then the write fails."""
    path = tmp_path / "plain.txt"
    path.write_text("the previous complete file\n")
    with pytest.raises(OSError, match="File too large"), writes_fail_after(100):
        path.write_text("x" * 10_000)  # what a non-atomic writer does
    assert path.read_text() == "x" * 100  # torn: the old text is gone, the new one cut
    path.write_text("y" * 10_000)  # the limit is lifted after the block
    assert path.stat().st_size == 10_000


BIG = {"pad": "é" * 20_000}  # 40 kB of UTF-8: far past the 1 kB cut


@pytest.mark.parametrize(
    ("name", "write"),
    [
        (
            "notes.txt",
            lambda p, obj: rundir.write_text_atomic(p, json.dumps(obj, ensure_ascii=False)),
        ),
        ("metrics.json", rundir.write_json),
        ("config.yaml", rundir.write_yaml),
        ("predictions.jsonl", lambda p, obj: rundir.write_jsonl(p, [obj, obj])),
    ],
)
def test_rundir_writers_keep_the_previous_file(name: str, write: Any, tmp_path: Path) -> None:
    write(tmp_path / name, {"version": 1})
    assert_cut_write_keeps_old(tmp_path, lambda: write(tmp_path / name, BIG), nbytes=1000)
    write(tmp_path / name, BIG)  # and a write that is not cut goes through
    assert "é" * 100 in (tmp_path / name).read_text("utf-8")


def _run_files(pad: str) -> tuple[dict[str, Any], dict[str, Any], list[dict]]:
    """(config, metrics_by_split, prediction rows) with 40 kB of padding in the `pad` one."""
    big = "é" * 20_000
    config = {"data": {"data": ["d/"]}, "note": big if pad == rundir.CONFIG else "v2"}
    metrics = {"test": {"n": 1, "note": big if pad == rundir.METRICS else "v2"}}
    rows = [{"split": "test", "index": 0, "source": big if pad == rundir.PREDICTIONS else "v2"}]
    return config, metrics, rows


@pytest.mark.parametrize("target", [rundir.PREDICTIONS, rundir.METRICS, rundir.CONFIG])
def test_write_run_keeps_each_previous_file(target: str, tmp_path: Path) -> None:
    """evaluate/baseline/train all write config.yaml, metrics.json, predictions.jsonl here."""
    from summarist.evaluation import write_run

    def write(folder: Path, pad: str) -> Path:
        config, metrics, rows = _run_files(pad)
        return write_run(folder, kind="evaluate", name="r", config=config,
                         metrics_by_split=metrics, prediction_rows=rows)  # fmt: skip

    old, new = tmp_path / "old", tmp_path / "new"
    write(old, "none")
    before = snapshot(old)
    write(new, target)  # what a write that is not cut produces
    with pytest.raises(OSError, match="File too large"), writes_fail_after(4000):
        write(old, target)
    after = snapshot(old)
    assert after[target] == before[target]  # the one that was cut: the previous file
    assert set(after) == set(before)  # no temp files
    for name in set(after) - {target}:  # written before it complete, or not yet at all
        assert after[name] in (before[name], snapshot(new)[name]), name


def _tiny_save_state(tmp_path: Path) -> SimpleNamespace:
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    from summarist.config.generation import GenerationSettings
    from tests.tiny_models import tiny_model

    path = tiny_model("t5")
    loaded = SimpleNamespace(
        model=AutoModelForSeq2SeqLM.from_pretrained(path),
        tokenizer=AutoTokenizer.from_pretrained(path),
        adapter=None,  # full fine-tuning: no LoRA adapter to save first
    )
    from summarist.training.runtime import Runtime

    return SimpleNamespace(loaded=loaded, run_dir=tmp_path / "run", prefix="summarize: ", prompt=None,
                           cfg=SimpleNamespace(max_source_length=64),
                           settings=GenerationSettings(max_new_tokens=16),
                           runtime=Runtime("cpu", "fp32", 1), trained=None)  # fmt: skip


@pytest.mark.parametrize("cut", ["weights", "config"])
@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "rename-aside"])
def test_saved_model_folder_is_replaced_whole(
    exchange: bool, cut: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """model/ is several files (weights, config, tokenizer): the old set stays until the new
    one is complete, then replaces it in one rename, leaving nothing of the old behind.

    safetensors >= 0.6 already renames its own file into place, so a cut in the weights alone
    would not show a torn file; what a plain save_pretrained would leave is a new config.json
    beside the old weights, which the snapshot catches. The `config` cut tears config.json.
    """
    import torch
    from safetensors.torch import load_file

    from summarist.training.save import save_model

    if not exchange:
        monkeypatch.setattr(rundir, "_exchange", lambda a, b: False)
    s = _tiny_save_state(tmp_path)
    model_dir = save_model(s)
    (model_dir / "stale.txt").write_text("from an older save")
    weights = model_dir / "model.safetensors"
    old = load_file(weights)
    with torch.no_grad():
        for p in s.loaded.model.parameters():
            p.add_(1.0)
    s.prefix = "a new prefix, saved in config.json: "
    nbytes = weights.stat().st_size // 2 if cut == "weights" else 200
    assert_cut_write_keeps_old(s.run_dir, lambda: save_model(s), nbytes)
    assert all(torch.equal(t, load_file(weights)[k]) for k, t in old.items())
    save_model(s)
    assert not (model_dir / "stale.txt").exists()
    assert "a new prefix" in (model_dir / "config.json").read_text()
    assert not any(torch.equal(t, load_file(weights)[k]) for k, t in old.items() if t.numel() > 1)
    assert [p.name for p in s.run_dir.iterdir()] == [rundir.MODEL_DIR]  # no temp or old folder
    assert ".model." not in (model_dir / "tokenizer_config.json").read_text()  # no temp name


def test_checkpoint_keeps_the_previous_one(tmp_path: Path) -> None:
    import torch

    from summarist.training.checkpoint import Progress, load_checkpoint, save_checkpoint
    from summarist.training.loop import build_scheduler

    model = torch.nn.Linear(100, 100)  # 40 kB of weights, cut at 10 kB
    opt = torch.optim.AdamW(model.parameters())
    sched = build_scheduler(opt, 10, 0.0)
    save_checkpoint(tmp_path, model, opt, sched, Progress(step=3), {})
    assert_cut_write_keeps_old(
        tmp_path, lambda: save_checkpoint(tmp_path, model, opt, sched, Progress(step=6), {}), 10_000
    )
    state = load_checkpoint(tmp_path)
    assert state is not None and state["progress"]["step"] == 3


def test_model_card_keeps_the_previous_one(tmp_path: Path) -> None:
    from summarist.config.data import DataConfig
    from summarist.config.generation import GenerationSettings
    from summarist.config.train import TrainConfig
    from summarist.training.final import write_card

    def state(data: list[str]) -> SimpleNamespace:
        return SimpleNamespace(
            cfg=TrainConfig(data=DataConfig(data)), settings=GenerationSettings(),
            run_dir=tmp_path, loaded=SimpleNamespace(family=SimpleNamespace(name="t5")),
            examples=[1, 2], total_steps=4, prefix="", added_tokens=[],
            runtime=SimpleNamespace(precision="fp32", device="cpu", threads=1), lora=None, prompt=None,
        )  # fmt: skip

    write_card(state(["old/"]), {})
    new = state([f"corpus-{i}/" for i in range(2000)])
    assert_cut_write_keeps_old(tmp_path, lambda: write_card(new, {}), nbytes=4000)
    assert "old/" in (tmp_path / "README.md").read_text("utf-8")


def test_report_keeps_the_previous_one(tmp_path: Path) -> None:
    from summarist.reports import write_report
    from tests.unit._report_runs import write_run

    run = write_run(tmp_path / "runs" / "ft", name="ft", kind="train", n=12)
    out = tmp_path / "page" / "report.html"
    write_report([run], out, title="old")
    assert_cut_write_keeps_old(
        out.parent, lambda: write_report([run], out, title="new"), out.stat().st_size // 2
    )
    assert "old" in out.read_text("utf-8")


def test_train_log_rewrite_on_resume_keeps_the_previous_log(tmp_path: Path) -> None:
    from summarist.training.callbacks import TrainLog

    log = TrainLog(tmp_path)
    for step in range(1, 201):
        log.write({"step": step, "loss": 1.0 / step, "note": "é" * 40})
    assert_cut_write_keeps_old(tmp_path, lambda: log.truncate_after(150), nbytes=4000)
    assert len(rundir.read_jsonl(log.path)) == 200


def test_length_plot_keeps_the_previous_one(tmp_path: Path) -> None:
    from summarist.data.stats import plot_lengths

    split = SimpleNamespace(texts=["a b c"] * 5 + ["a " * 50], summaries=["a b"] * 6)
    corpus = SimpleNamespace(splits={"train": split})
    out = plot_lengths(corpus, tmp_path / "lengths.png")  # type: ignore[arg-type]
    assert_cut_write_keeps_old(tmp_path, lambda: plot_lengths(corpus, out), 2000)  # type: ignore[arg-type]


KILLED_MID_WRITE = """
import resource, signal, sys
from pathlib import Path
from summarist import rundir

run = Path(sys.argv[1])
rundir.write_json(run / "metrics.json", {"version": 1})
with rundir.atomic_dir(run / "model") as tmp:
    (tmp / "weights.bin").write_bytes(b"old" * 1000)
signal.signal(signal.SIGXFSZ, signal.SIG_DFL)  # the kernel kills us at the cut
resource.setrlimit(resource.RLIMIT_FSIZE, (1000, resource.RLIM_INFINITY))
if sys.argv[2] == "file":
    rundir.write_json(run / "metrics.json", {"pad": "x" * 100_000})
else:
    with rundir.atomic_dir(run / "model") as tmp:
        (tmp / "weights.bin").write_bytes(b"new" * 100_000)
"""


@pytest.mark.parametrize("what", ["file", "folder"])
def test_kill_mid_write_leaves_the_old_file_and_debris_resume_removes(
    what: str, tmp_path: Path
) -> None:
    """SIGXFSZ kills the writer mid-write (no cleanup runs, like kill -9): the previous file is
    in place, readers never see the temp file, and a run's next start deletes it."""
    res = subprocess.run([sys.executable, "-c", KILLED_MID_WRITE, str(tmp_path), what],
                         capture_output=True, text=True)  # fmt: skip
    assert res.returncode == -signal.SIGXFSZ, res.stderr
    assert rundir.read_json(tmp_path / "metrics.json") == {"version": 1}
    assert (tmp_path / "model" / "weights.bin").read_bytes() == b"old" * 1000
    debris = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert len(debris) == 1
    torn = debris[0] if debris[0].is_file() else debris[0] / "weights.bin"
    assert torn.stat().st_size == 1000  # the cut came after 1000 bytes
    assert rundir.remove_temp_files(tmp_path) == debris
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json", "model"]


# Every way src/ writes a file, and where each is allowed: inside the atomic helpers only.
RAW_WRITES = re.compile(
    r"\.write_(text|bytes)\(|\bopen\([^)]*[\"'][wax]b?\+?[\"']|os\.fdopen\(|torch\.save\("
    r"|\.save_pretrained\(|savefig\(|shutil\.(copy|move)|\.convert\("
)
ALLOWED = {
    ("rundir.py", "os.fdopen("),  # atomic_writer's temp file
    ("rundir.py", 'open(path, "a"'),  # append_jsonl: readers skip a torn last line
    ("training/checkpoint.py", "torch.save("),  # into atomic_writer
    ("training/save.py", ".save_pretrained("),  # into atomic_dir
    # save_adapter writes into the atomic_dir that training/save.save_adapter_and_merge opens.
    ("models/lora.py", ".save_pretrained("),
    ("models/lora.py", ".write_text("),
    ("data/stats.py", "savefig("),  # into atomic_writer
    # The data cache writes inside the temp folder of cache.build_once, renamed whole when
    # complete, or (cache.remember) into a temp file replaced in one rename.
    ("data/cache.py", ".write_text("),
    ("data/cache.py", "os.fdopen("),
    ("data/cache.py", 'open(path, "a+")'),  # the build lock file (empty; never read)
    ("data/tokens.py", 'open(folder / f"{name}.i32", "wb")'),
    ("data/shards.py", '(folder / f"{split}.shards.json").write_text('),  # build_once's folder
    ("reports/plots.py", "savefig("),  # into a BytesIO
}


def test_no_writer_bypasses_the_atomic_helpers() -> None:
    """New writers must go through summarist.rundir (inference/backends/ export is listed separately)."""
    found = set()
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC).as_posix()
        if rel.startswith("inference/backends/"):
            continue
        for line in path.read_text("utf-8").splitlines():
            if RAW_WRITES.search(line):
                allowed = [a for f, a in ALLOWED if f == rel and a in line]
                found.add((rel, allowed[0] if allowed else line.strip()))
    assert found <= ALLOWED, sorted(found - ALLOWED)


def test_a_log_line_torn_by_kill_is_dropped_when_the_run_resumes(tmp_path: Path) -> None:
    """train_log.jsonl is appended to, not renamed: a kill mid-append tears its last line."""
    from summarist.training.callbacks import TrainLog

    log = TrainLog(tmp_path)
    for step in (1, 2, 3):
        log.write({"step": step, "loss": 1.0})
    with log.path.open("a", encoding="utf-8") as fh:
        fh.write('{"step": 4, "lo')
    assert [r["step"] for r in rundir.read_jsonl(log.path)] == [1, 2, 3]
    log.truncate_after(2)  # resume from the checkpoint at step 2
    assert log.path.read_text("utf-8").splitlines() == ['{"step": 1, "loss": 1.0}',
                                                        '{"step": 2, "loss": 1.0}']  # fmt: skip
