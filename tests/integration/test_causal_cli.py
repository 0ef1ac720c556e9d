"""Decoder-only models through every command: train -> evaluate -> summarize -> export -> serve,
compare, report and the zero-shot baseline, on tiny Llama, Qwen2, Gemma and GPT-2 models (built
and briefly trained in the tests: `tests.tiny_models.tiny_causal_dir`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from summarist.cli import app, main
from summarist.rundir import read_json, read_jsonl, read_yaml
from tests.conftest import write_jsonl
from tests.tiny_models import assert_varied, tiny_causal_dir, training_pairs

FAMILIES = ["llama", "qwen2", "gemma", "gpt2"]
RUNNER = CliRunner()


def cli(*args: str) -> str:
    result = RUNNER.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def fails(*args: str) -> str:
    """The one `error:` line of `summarist ARGS` (the entry point: exit code 2, no traceback)."""
    import contextlib
    import io

    from summarist.cli.root import STATE

    err = io.StringIO()
    debug, STATE["debug"] = STATE["debug"], False  # another test's --debug must not leak here
    try:
        with pytest.raises(SystemExit) as code, contextlib.redirect_stderr(err):
            main(list(args))
    finally:
        STATE["debug"] = debug
    assert code.value.code == 2, err.getvalue()
    lines = [line for line in err.getvalue().splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in err.getvalue(), err.getvalue()
    return lines[0]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Distinct pairs in train/validation/test (the dialogues the tiny models were fit on)."""
    out = tmp_path_factory.mktemp("causal-data")
    rows = [{"id": f"d{i}", "dialogue": s, "summary": t}
            for i, (s, t) in enumerate(dict(training_pairs()).items())]  # fmt: skip
    write_jsonl(out / "train.jsonl", rows[:-24])
    write_jsonl(out / "validation.jsonl", rows[-24:-12])
    write_jsonl(out / "test.jsonl", rows[-12:])
    return out


def train_args(model: Path, data: Path, out: Path, *extra: str) -> list[str]:
    return ["train", "--model", str(model), "--data", str(data), "--output-dir", str(out),
            "--max-steps", "4", "--batch-size", "4", "--threads", "1", "--eval-every", "2",
            "--eval-samples", "4", "--learning-rate", "1e-3", "--num-beams", "2",
            "--log-every", "1", *extra]  # fmt: skip


@pytest.mark.parametrize("family", FAMILIES)
def test_every_command_runs_a_decoder_only_model(family: str, corpus: Path, tmp_path: Path):
    run = tmp_path / "run"
    cli(*train_args(tiny_causal_dir(family), corpus, run))
    config = read_yaml(run / "config.yaml")
    resolved = config["resolved"]
    assert resolved["family"] == family and resolved["prefix"] == ""
    assert resolved["prompt"]["mode"] == ("plain" if family == "gpt2" else "chat")
    assert config["prompt"]["instruction"] == resolved["prompt"]["instruction"]
    metrics = read_json(run / "metrics.json")
    for split in ("validation", "test"):
        entry = metrics["splits"][split]
        assert {"lead-3", "constant", "zero-shot"} <= set(entry["baselines"])
        assert set(entry["paired"]["zero-shot"]["rouge1"]) >= {"diff", "low", "high", "p_value"}
    preds = [r for r in read_jsonl(run / "predictions.jsonl") if r["split"] == "test"]
    assert_varied([r["prediction"] for r in preds])
    assert all(r["new_tokens"] >= 1 and "assistant" not in r["prediction"] for r in preds)
    card = (run / "README.md").read_text(encoding="utf-8")
    assert "Against the zero-shot baseline on test" in card and "- prompt (" in card
    saved = json.loads((run / "model" / "config.json").read_text(encoding="utf-8"))
    assert (
        saved["task_specific_params"]["summarization"]["prompt"]["mode"]
        == (resolved["prompt"]["mode"])
    )

    cli("evaluate", str(run))  # re-score
    texts = tmp_path / "texts.jsonl"
    write_jsonl(texts, [{"id": r["id"], "dialogue": r["source"]} for r in preds])
    out = cli("summarize", "--model", str(run), str(texts), "--format", "jsonl")
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    # the saved prompt and decoding: the same summaries as the final evaluation's
    assert [r["summary"] for r in rows] == [r["prediction"] for r in preds]
    assert [r["new_tokens"] for r in rows] == [r["new_tokens"] for r in preds]

    export = tmp_path / "ct2"
    cli("export", "--model", str(run), "--output", str(export), "--check-data", str(corpus),
        "--check-samples", "12")  # fmt: skip
    check = read_json(export / "quality_check.json")
    assert check["n"] == 12
    fast = cli("summarize", "--model", str(export), str(texts), "--format", "jsonl")
    fast_rows = [json.loads(line) for line in fast.splitlines() if line.startswith("{")]
    assert len(fast_rows) == len(rows)

    cli("report", str(run))
    assert (run / "report.html").is_file()
    zero = tmp_path / "zero-shot"
    cli("baseline", "zero-shot", "--model", str(tiny_causal_dir(family)), "--data", str(corpus),
        "--output-dir", str(zero), "--no-report")  # fmt: skip
    assert read_json(zero / "metrics.json")["kind"] == "baseline"
    cli("compare", "--models", str(run), "--models", str(tiny_causal_dir(family)),
        "--data", str(corpus), "--output-dir", str(tmp_path / "cmp"))  # fmt: skip


def test_lora_on_a_decoder_only_model_saves_adapter_and_merged_model(corpus: Path, tmp_path):
    pytest.importorskip("peft")
    run = tmp_path / "lora"
    cli(*train_args(tiny_causal_dir("llama"), corpus, run, "--lora"))
    lora = read_yaml(run / "config.yaml")["resolved"]["lora"]
    assert lora["targets"] == ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj",
                               "down_proj"]  # fmt: skip
    assert (run / "adapter" / "adapter_config.json").is_file()
    out = cli("summarize", "--model", str(run / "adapter"), str(corpus / "test.jsonl"))
    assert out.strip()


def test_gpt2_lora_adapts_its_conv1d_layers(corpus: Path, tmp_path: Path) -> None:
    pytest.importorskip("peft")
    run = tmp_path / "gpt2-lora"
    cli(*train_args(tiny_causal_dir("gpt2"), corpus, run, "--lora", "--no-report"))
    assert read_yaml(run / "config.yaml")["resolved"]["lora"]["targets"] == ["c_attn", "c_proj",
                                                                              "c_fc"]  # fmt: skip


def test_resume_of_a_decoder_only_run_is_bitwise(corpus: Path, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from safetensors.torch import load_file

    args = train_args(tiny_causal_dir("llama"), corpus, tmp_path / "full", "--save-every", "2",
                      "--precision", "fp32", "--no-report")  # fmt: skip
    cli(*args)
    cut = [a if a != str(tmp_path / "full") else str(tmp_path / "cut") for a in args]
    env = {**os.environ, "SUMMARIST_TEST_KILL_AT_STEP": "3"}
    subprocess.run([sys.executable, "-m", "summarist", *cut], env=env, capture_output=True)
    cli("train", "--resume", str(tmp_path / "cut"))
    a = load_file(tmp_path / "full" / "model" / "model.safetensors")
    b = load_file(tmp_path / "cut" / "model" / "model.safetensors")
    assert a.keys() == b.keys() and all(bool((a[k] == b[k]).all()) for k in a)


def test_token_budget_splits_decoder_only_batches_into_the_same_training(corpus, tmp_path):
    """--max-batch-tokens as for seq2seq: pieces of a batch give the same losses and weights
    (each sequence counted once: prompt + summary)."""
    from safetensors.torch import load_file

    weights, losses = [], []
    for budget in ("0", "1"):  # 1 token: every example of a batch of 4 runs alone
        run = tmp_path / f"b{budget}"
        cli(*train_args(tiny_causal_dir("llama"), corpus, run, "--max-batch-tokens", budget,
                        "--precision", "fp32", "--eval-every", "0", "--no-report",
                        "--no-zero-shot-baseline"))  # fmt: skip
        losses.append([r["loss"] for r in read_jsonl(run / "train_log.jsonl") if "loss" in r])
        weights.append(load_file(run / "model" / "model.safetensors"))
    assert len(losses[0]) == 4 and losses[0] == pytest.approx(losses[1], rel=1e-4)
    whole, split = weights
    assert all(torch_close(whole[k], split[k]) for k in whole)
    assert any(not bool((whole[k] == load_file(tiny_causal_dir("llama") / "model.safetensors")[k])
                        .all()) for k in whole)  # fmt: skip  # it trained


def torch_close(a, b) -> bool:
    import torch

    return torch.allclose(a, b, atol=1e-5)


def test_serving_a_decoder_only_model(corpus: Path) -> None:
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from summarist.config.serve import ServeConfig, ServedModel
    from summarist.serving import create_app
    from tests.unit._serving import wait_ready

    models = [ServedModel("llama", str(tiny_causal_dir("llama"))),
              ServedModel("gpt2", str(tiny_causal_dir("gpt2")))]  # fmt: skip
    texts = [s for s, _ in training_pairs()[:4]]
    with TestClient(create_app(ServeConfig(models=models, max_new_tokens=16))) as client:
        wait_ready(client)
        for name in ("llama", "gpt2"):
            got = client.post("/v1/summarize", json={"model": name, "texts": texts})
            assert got.status_code == 200, got.text
            body = got.json()
            assert_varied([r["summary"] for r in body["summaries"]])


@pytest.mark.parametrize(
    ("extra", "message"),
    [(["--max-source-length", "300"], "exceed this llama model's context of 256 tokens"),
     (["--max-target-length", "256"], "--max-target-length 256 fills")],
)  # fmt: skip
def test_bad_decoder_only_settings_are_one_line(extra, message, corpus: Path, tmp_path: Path):
    args = train_args(tiny_causal_dir("llama"), corpus, tmp_path / "bad", *extra)
    assert message in fails(*args)
    assert not (tmp_path / "bad" / "model").exists()


def test_bad_model_inputs_are_one_line(corpus: Path, tmp_path: Path) -> None:
    fake = tmp_path / "weights.gguf"
    fake.write_bytes(b"not gguf at all")
    assert "is not a GGUF model file" in fails(*train_args(fake, corpus, tmp_path / "a"))
    assert "is not a GGUF model file" in fails(
        "summarize", "--model", str(fake), str(corpus / "test.jsonl")
    )
    assert "zero-shot baseline needs a model" in fails(
        "baseline", "zero-shot", "--data", str(corpus), "--output-dir", str(tmp_path / "z")
    )


@pytest.mark.parametrize(
    ("family", "prompt", "message"),
    [("gpt2", {"prompt_template": "chat"}, "--prompt-template chat: this tokenizer has no chat"),
     ("llama", {"instruction": " ".join(["summarize"] * 60)},
      "the prompt's instruction and template take"),
     ("llama", {"prompt_template": "chatml"}, "did you mean 'chat'")],
)  # fmt: skip
def test_bad_prompts_are_one_line_and_write_no_model(family, prompt, message, corpus, tmp_path):
    from summarist.rundir import write_yaml

    preset = write_yaml(tmp_path / "preset.yaml", {"prompt": prompt})
    out = tmp_path / "bad"
    args = train_args(tiny_causal_dir(family), corpus, out, "--config", str(preset),
                      "--max-source-length", "48")  # fmt: skip
    assert message in fails(*args)
    assert not (out / "model").exists()
