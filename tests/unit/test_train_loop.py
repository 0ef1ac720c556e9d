"""Pieces of the training loop: optimizer groups, schedule, budgets, checkpoint atomicity."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from summarist.config.data import DataConfig
from summarist.config.train import TrainConfig
from summarist.training.checkpoint import Progress, load_checkpoint, save_checkpoint
from summarist.training.loop import _out_of_budget, build_optimizer, build_scheduler
from tests.tiny_models import tiny_model


def _cfg(**kw: object) -> TrainConfig:
    return TrainConfig(data=DataConfig(["x/"]), **kw)  # type: ignore[arg-type]


def test_warm_start_fresh_layers_get_the_higher_rate() -> None:
    from summarist.models.loading import load_for_training

    model = load_for_training(f"bert2bert:{tiny_model('bert')}").model
    opt = build_optimizer(model, _cfg(learning_rate=1e-4, new_params_lr_scale=5.0))
    rates = {round(g["lr"], 8) for g in opt.param_groups}
    assert rates == {1e-4, 5e-4}
    no_decay = [g for g in opt.param_groups if g["weight_decay"] == 0.0]
    assert no_decay and all(p.ndim < 2 for g in no_decay for p in g["params"])
    n_params = sum(p.numel() for g in opt.param_groups for p in g["params"])
    assert n_params == sum(p.numel() for p in model.parameters())


def test_schedule_warms_up_then_decays_to_zero() -> None:
    import torch

    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=1.0)
    sched = build_scheduler(opt, total_steps=10, warmup_ratio=0.2)
    rates = []
    for _ in range(10):
        rates.append(sched.get_last_lr()[0])
        opt.step()
        sched.step()
    # warm-up int(10 * 0.2) = 2 steps at (step + 1) / 3, then linear: (10 - step) / 8
    assert rates == pytest.approx(
        [1 / 3, 2 / 3, 1.0, 7 / 8, 6 / 8, 5 / 8, 4 / 8, 3 / 8, 2 / 8, 1 / 8]
    )
    assert sched.get_last_lr()[0] == 0.0


def test_time_budgets() -> None:
    p = Progress(step=5, train_seconds=120, cpu_seconds=200)
    assert _out_of_budget(_cfg(), p) is None
    assert _out_of_budget(_cfg(max_minutes=3), p) is None
    assert "--max-minutes 2" in (_out_of_budget(_cfg(max_minutes=2), p) or "")
    assert "--max-cpu-minutes 3" in (_out_of_budget(_cfg(max_cpu_minutes=3), p) or "")


def test_checkpoint_write_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    model = torch.nn.Linear(2, 2)
    opt = torch.optim.AdamW(model.parameters())
    sched = build_scheduler(opt, 10, 0.0)
    save_checkpoint(tmp_path, model, opt, sched, Progress(step=3), {})

    real_save = torch.save

    def ctrl_c_mid_write(obj: object, fh: Any, *args: object, **kwargs: object) -> None:
        buf = io.BytesIO()
        real_save(obj, buf)
        fh.write(buf.getvalue()[: len(buf.getvalue()) // 2])  # half the bytes reach the file
        raise KeyboardInterrupt  # Ctrl-C in the middle of writing

    monkeypatch.setattr(torch, "save", ctrl_c_mid_write)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(tmp_path, model, opt, sched, Progress(step=6), {})
    state = load_checkpoint(tmp_path)
    assert state is not None and state["progress"]["step"] == 3
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]  # no temp file left


def test_default_threads_are_every_core_of_the_cpu_set(monkeypatch: pytest.MonkeyPatch) -> None:
    """All cores of the affinity set whatever the load average says (the old rule subtracted
    the 1-minute load, so a run right after a pip install trained on 1 of 2 idle cores)."""
    import os

    from summarist.errors import ConfigError
    from summarist.training import runtime

    monkeypatch.delenv(runtime.THREADS_ENV, raising=False)
    monkeypatch.delenv("LOCAL_WORLD_SIZE", raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    for load in (0.2, 2.6, 9.0):
        monkeypatch.setattr(os, "getloadavg", lambda load=load: (load, load, load))
        assert runtime.default_threads() == 4
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {5}, raising=False)  # taskset -c 5
    assert runtime.default_threads() == 1
    monkeypatch.setenv(runtime.THREADS_ENV, " 3 ")
    assert runtime.default_threads() == 3
    for bad in ("0", "-2", "two", "1.5"):
        monkeypatch.setenv(runtime.THREADS_ENV, bad)
        with pytest.raises(ConfigError, match=f"SUMMARIST_THREADS='{bad}'.*whole number") as err:
            runtime.default_threads()
        assert "\n" not in str(err.value)
    monkeypatch.setenv(runtime.THREADS_ENV, "")  # set but empty: as unset
    assert runtime.default_threads() == 1


def test_auto_precision_uses_bf16_only_where_the_cpu_has_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from summarist import hardware
    from summarist.training import runtime

    monkeypatch.setattr(hardware, "cpu_has_native_bf16", lambda: True)
    assert runtime.auto_precision(cuda=False) == "bf16"
    monkeypatch.setattr(hardware, "cpu_has_native_bf16", lambda: False)
    assert runtime.auto_precision(cuda=False) == "fp32"


def test_labels_lose_a_leading_start_token_in_every_family() -> None:
    """A BART given a BERT vocabulary starts decoding at [CLS], which BERT labels also begin
    with: kept, the model learns to emit [CLS] twice (it did, as `minilm-bart`)."""
    from types import SimpleNamespace

    from summarist.training.collate import tokenize_pairs
    from summarist.training.loop import _start_id
    from tests import tiny_models as tiny

    bart = tiny.tiny_seq2seq("bart")
    tok = tiny.minilm_tokenizer()
    bart.config.decoder_start_token_id = tok.cls_token_id
    loaded = SimpleNamespace(model=bart, family=SimpleNamespace(warm_start=False))
    start = _start_id(loaded)  # type: ignore[arg-type]
    assert start == tok.cls_token_id
    (example,) = tokenize_pairs(tok, ["a dialogue"], ["a summary"], decoder_start_token_id=start)
    assert example.labels[0] != tok.cls_token_id and example.labels[-1] == tok.sep_token_id


def test_a_checkpoint_of_another_model_is_refused_in_one_line(tmp_path: Path) -> None:
    import torch

    from summarist.training.checkpoint import CheckpointError, restore

    model = torch.nn.Linear(4, 4)
    opt = torch.optim.AdamW(model.parameters())
    save_checkpoint(tmp_path, model, opt, build_scheduler(opt, 10, 0.0), Progress(step=2), {})
    state = load_checkpoint(tmp_path)
    assert state is not None
    other = torch.nn.Linear(4, 8)
    other_opt = torch.optim.AdamW(other.parameters())
    with pytest.raises(CheckpointError, match=r"does not fit this model \(.*size mismatch"):
        restore(state, other, other_opt, build_scheduler(other_opt, 10, 0.0))
