"""Checkpoint/resume: everything that shapes the next step comes back, and the log is not
doubled. (The kill -9 end-to-end run is in tests/integration/test_train.py.)"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from summarist.config.train import TrainConfig
from summarist.rundir import read_jsonl, write_jsonl
from summarist.training.callbacks import TrainLog
from tests.conftest import write_jsonl as write_rows

torch = pytest.importorskip("torch")


def _draws() -> tuple[float, float, float]:
    return random.random(), float(np.random.rand()), float(torch.rand(1))


def test_restore_brings_back_weights_optimizer_schedule_and_rng(tmp_path: Path) -> None:
    from summarist.training.checkpoint import Progress, load_checkpoint, restore, save_checkpoint
    from summarist.training.loop import build_scheduler

    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    sched = build_scheduler(opt, 10, 0.2)
    for _ in range(3):
        model(torch.randn(4, 3)).sum().backward()
        opt.step()
        sched.step()
    save_checkpoint(tmp_path, model, opt, sched, Progress(step=3, epoch=1, batch_in_epoch=2), {})
    after_save = _draws()
    moments = opt.state_dict()["state"][0]["exp_avg"].clone()
    lr = sched.get_last_lr()

    fresh = torch.nn.Linear(3, 2)
    fresh_opt = torch.optim.AdamW(fresh.parameters(), lr=1e-2)
    fresh_sched = build_scheduler(fresh_opt, 10, 0.2)
    _draws()  # move every generator on: restore must rewind them
    progress = restore(load_checkpoint(tmp_path), fresh, fresh_opt, fresh_sched)

    assert (progress.step, progress.epoch, progress.batch_in_epoch) == (3, 1, 2)
    assert _draws() == after_save
    assert torch.equal(fresh.weight, model.weight)
    assert torch.equal(fresh_opt.state_dict()["state"][0]["exp_avg"], moments)
    assert fresh_sched.get_last_lr() == lr and fresh_sched.last_epoch == 3


def test_truncate_after_keeps_the_checkpoint_step_and_drops_later_lines(tmp_path: Path) -> None:
    path = tmp_path / "train_log.jsonl"
    rows = [{"step": s, "loss": s / 10} for s in range(1, 6)] + [{"step": 2, "eval": {}}]
    write_jsonl(path, rows)
    TrainLog(tmp_path).truncate_after(3)
    assert read_jsonl(path) == [r for r in rows if r["step"] <= 3]


@pytest.fixture
def data(tmp_path: Path) -> Path:
    things = ["the report", "lunch", "the keys", "dinner"]
    rows = [{"dialogue": f"A: Did you get {things[i % 4]}? It is case {i}.\nB: Yes, today.",
             "summary": f"B got {things[i % 4]} for case {i}."} for i in range(12)]  # fmt: skip
    write_rows(tmp_path / "data" / "train.jsonl", rows[:8])
    write_rows(tmp_path / "data" / "validation.jsonl", rows[8:])
    return tmp_path / "data"


def _config(data: Path, out: Path, **kw: object) -> TrainConfig:
    from tests.tiny_models import tiny_model

    base: dict = {"max_steps": 4, "batch_size": 4, "threads": 1, "eval_every": 0, "log_every": 1,
                  "learning_rate": 1e-3, "report": False, "num_beams": 1, "max_new_tokens": 4,
                  "eval_splits": ["validation"]}  # fmt: skip
    base.update(kw)
    return TrainConfig.from_dict({"data": [str(data)], "model": str(tiny_model("t5")),
                                  "output_dir": str(out), **base})  # fmt: skip


def test_each_epoch_gets_its_own_batch_order(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from summarist.training import collate as preprocessing
    from summarist.training.loop import fit, setup

    epochs: list[int] = []
    original = preprocessing.length_grouped_batches

    def spy(*args: object, **kwargs: object) -> list[list[int]]:
        epochs.append(int(kwargs["epoch"]))  # type: ignore[call-overload]
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(preprocessing, "length_grouped_batches", spy)
    cfg = _config(data, tmp_path / "run", max_steps=6)
    progress = fit(setup(cfg, tmp_path / "run"))
    assert epochs == [0, 1, 2]  # 8 examples in batches of 4: two steps per epoch
    assert (progress.step, progress.epoch) == (6, 3)


def test_resume_after_ctrl_c_logs_each_step_once(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from summarist.training import loop

    full = loop.train(_config(data, tmp_path / "full", save_every=2))

    def interrupt(step: int) -> None:
        if step == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(loop, "_debug_kill", interrupt)
    with pytest.raises(KeyboardInterrupt):
        loop.train(_config(data, tmp_path / "cut", save_every=2))
    monkeypatch.undo()
    cut = loop.resume_run(tmp_path / "cut")

    def losses(run: Path) -> list[tuple[int, float]]:
        return [(r["step"], r["loss"]) for r in read_jsonl(run / "train_log.jsonl") if "loss" in r]

    assert [s for s, _ in losses(cut)] == [1, 2, 3, 4]
    assert losses(cut) == losses(full)
