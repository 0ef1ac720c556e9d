"""`summarist train --lora` on tiny T5, BART, PEGASUS and BERT2BERT models: train, save the
adapter and the merged model, resume, reload from the adapter, convert to CTranslate2."""

from __future__ import annotations

from pathlib import Path

import pytest

from summarist.rundir import read_jsonl, read_yaml
from summarist.training.loop import train
from tests.integration.test_train import config, model_name

ADAPTER_MARKERS = ("lora_", "modules_to_save", "trainable_tokens")
LORA = {"lora": True, "precision": "fp32", "num_beams": 1, "eval_splits": ["validation"]}


def _tokens(kind: str) -> dict[str, bool]:
    """BERT2BERT under --lora refuses added speaker tokens (test_bert2bert_lora_...)."""
    return {"speaker_tokens": False} if kind == "bert2bert" else {}


def _texts(data: Path) -> list[str]:
    return [r["dialogue"] for r in read_jsonl(data / "validation.jsonl")]


def _greedy_and_logits(model: object, tokenizer: object, texts: list[str]) -> tuple:
    import torch

    enc = tokenizer(texts, return_tensors="pt", padding=True)
    with torch.no_grad():
        out = model.generate(**enc, max_new_tokens=12, num_beams=1, do_sample=False)
        start = torch.full((len(texts), 1), model.config.decoder_start_token_id)
        logits = model(**enc, decoder_input_ids=start).logits
    return out.tolist(), logits


class Runs(dict):
    """Finished LoRA runs by family, trained on first use (4 steps, checkpoint kept)."""

    def __init__(self, root: Path) -> None:
        super().__init__(data=root / "data")
        self.root = root

    def __missing__(self, kind: str) -> Path:
        self[kind] = train(config(self.root / "data", self.root / kind, kind, **LORA,
                                  **_tokens(kind), keep_checkpoint=True, save_every=2,
                                  eval_every=0, learning_rate=1e-2))  # fmt: skip
        return self[kind]


@pytest.fixture(scope="module")
def lora_runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    from tests.conftest import write_jsonl

    root = tmp_path_factory.mktemp("lora")
    things = ["the report", "lunch", "the train tickets", "a birthday gift", "the keys", "dinner"]
    rows = [{"id": f"d{i}",
             "dialogue": f"#Person1#: Did you get {things[i % 6]}? It is case {i}.\n"
                         f"#Person2#: Yes, I got {things[i % 6]} today.",
             "summary": f"#Person2# got {things[i % 6]} for case {i}."} for i in range(40)]  # fmt: skip
    write_jsonl(root / "data" / "train.jsonl", rows[:32])
    write_jsonl(root / "data" / "validation.jsonl", rows[32:])
    return Runs(root)


# BART (the fastest tiny model) in the quick set; the other families in the slow set.
ALL = ["bart", *(pytest.param(k, marks=pytest.mark.slow) for k in ("t5", "pegasus", "bert2bert"))]
CONVERTIBLE = ["bart", *(pytest.param(k, marks=pytest.mark.slow) for k in ("t5", "pegasus"))]


@pytest.mark.parametrize("kind", ALL)
def test_lora_run_holds_a_small_adapter_and_a_plain_merged_model(
    kind: str, lora_runs: Runs
) -> None:
    import torch
    from safetensors.torch import load_file
    from transformers import AutoModelForSeq2SeqLM

    from summarist.models.registry import FAMILIES

    run = lora_runs[kind]
    cfg = read_yaml(run / "config.yaml")
    assert cfg["lora"] is True and cfg["lora_r"] == 16
    lora = cfg["resolved"]["lora"]
    family = next(f for f in FAMILIES if f.name == cfg["resolved"]["family"])
    assert lora["targets"] == list(family.lora_targets)
    assert lora["modules_to_save"] == list(family.fresh_modules)  # BERT2BERT's fresh parts
    assert lora["trainable_tokens"] == (0 if kind == "bert2bert" else 2)  # #Person1#, #Person2#
    assert 0 < lora["trainable_params"] < lora["total_params"]

    adapter = run / "adapter"
    for name in ("adapter_config.json", "adapter_model.safetensors", "summarist_adapter.json",
                 "tokenizer_config.json", "generation_config.json"):  # fmt: skip
        assert (adapter / name).is_file(), name
    assert not (adapter / "config.json").exists()  # not mistaken for a model folder
    weights = load_file(adapter / "adapter_model.safetensors")
    assert sum(t.numel() for t in weights.values()) <= lora["trainable_params"]
    model_file = run / "model" / "model.safetensors"
    assert (adapter / "adapter_model.safetensors").stat().st_size < model_file.stat().st_size / 2

    # model/ is a plain transformers checkpoint: no peft layers left in it.
    merged = load_file(model_file)
    assert not [k for k in merged if any(m in k for m in ADAPTER_MARKERS)]
    AutoModelForSeq2SeqLM.from_pretrained(run / "model")

    # The checkpoint holds the trainable state only (not the frozen base weights).
    state = torch.load(run / "checkpoint.pt", weights_only=False)["model"]
    assert any(any(m in k for m in ADAPTER_MARKERS) for k in state)
    assert sum(t.numel() for t in state.values()) < lora["total_params"] / 2


@pytest.mark.parametrize("kind", ALL)
def test_merged_and_unmerged_give_the_same_greedy_output(kind: str, lora_runs: Runs) -> None:
    import torch

    from summarist.inference.summarizer import Summarizer
    from summarist.models.loading import load_adapter, load_for_inference

    run, texts = lora_runs[kind], _texts(lora_runs["data"])
    unmerged, tok = load_adapter(str(run / "adapter"), "adapter", merged=False)
    assert type(unmerged).__name__.startswith("Peft")
    merged, merged_tok = load_for_inference(str(run / "model"))
    ids_a, logits_a = _greedy_and_logits(unmerged.eval(), tok, texts)
    ids_b, logits_b = _greedy_and_logits(merged, merged_tok, texts)
    assert ids_a == ids_b
    assert torch.allclose(logits_a, logits_b, atol=1e-4)
    # The adapter changed the model: the base without it scores differently.
    with unmerged.disable_adapter():
        _, base_logits = _greedy_and_logits(unmerged, tok, texts)
    assert not torch.allclose(base_logits, logits_b, atol=1e-4)

    # `summarize --model ADAPTER_DIR`: the base named in the adapter, the adapter on top.
    from_adapter = Summarizer.from_pretrained(str(run / "adapter")).summarize(texts)
    assert from_adapter == Summarizer.from_pretrained(str(run)).summarize(texts)


@pytest.mark.parametrize("kind", CONVERTIBLE)
def test_merged_model_converts_to_ctranslate2_with_the_same_greedy_output(
    kind: str, lora_runs: Runs, tmp_path: Path
) -> None:
    pytest.importorskip("ctranslate2")
    from summarist.inference.backends.ctranslate2_backend import export_model
    from summarist.inference.summarizer import Summarizer

    run, texts = lora_runs[kind], _texts(lora_runs["data"])
    export_model(str(run / "adapter"), tmp_path / "ct2")  # from the adapter: merged on load
    fast = Summarizer.from_pretrained(str(tmp_path / "ct2"))
    assert fast.backend.name == "ctranslate2"
    # At least 4 tokens each, so that the comparison covers more than a first EOS.
    forced = {"num_beams": 1, "min_new_tokens": 4, "max_new_tokens": 10}
    torch_out = Summarizer.from_pretrained(str(run / "model")).summarize(texts, **forced)
    assert fast.summarize(texts, **forced) == torch_out
    assert all(torch_out)


@pytest.mark.parametrize("kind", ["bart", pytest.param("bert2bert", marks=pytest.mark.slow)])
def test_lora_resume_after_interrupt_ends_as_the_uninterrupted_run(
    kind: str, lora_runs: Runs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C after step 3 (checkpoint at 2), resume: same losses, same merged weights."""
    from summarist.training import loop
    from tests.integration.test_train import assert_same_weights

    def interrupt(step: int) -> None:
        if step == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(loop, "_debug_kill", interrupt)
    with pytest.raises(KeyboardInterrupt):
        train(config(lora_runs["data"], tmp_path / "cut", kind, **LORA, **_tokens(kind),
                     save_every=2, eval_every=0, learning_rate=1e-2))  # fmt: skip
    monkeypatch.undo()
    assert not (tmp_path / "cut" / "adapter").exists()
    loop.resume_run(tmp_path / "cut")

    def losses(run: Path) -> list[tuple[int, float]]:
        return [(r["step"], r["loss"]) for r in read_jsonl(run / "train_log.jsonl") if "loss" in r]

    assert losses(tmp_path / "cut") == losses(lora_runs[kind])
    assert_same_weights(tmp_path / "cut", lora_runs[kind])


def test_bert2bert_lora_refuses_added_speaker_tokens_saying_why(
    lora_runs: Runs, tmp_path: Path
) -> None:
    from summarist.errors import ConfigError

    with pytest.raises(ConfigError, match="--no-speaker-tokens") as err:
        train(config(lora_runs["data"], tmp_path / "run", "bert2bert", **LORA))
    assert "output head shares the decoder's embedding" in str(err.value)
    assert not (tmp_path / "run").exists()


def test_summarize_cli_takes_the_adapter_directory(lora_runs: Runs, tmp_path: Path) -> None:
    from tests.integration.test_bad_inputs import run_cli

    texts = _texts(lora_runs["data"])[:3]
    (tmp_path / "in.txt").write_text("\n".join(texts), encoding="utf-8")
    outs = {}
    for name, model in (("adapter", lora_runs["bart"] / "adapter"), ("run", lora_runs["bart"])):
        code, _, err = run_cli(["summarize", "--model", str(model), str(tmp_path / "in.txt"),
                                "-o", str(tmp_path / f"{name}.jsonl")])  # fmt: skip
        assert code == 0, err
        outs[name] = [r["summary"] for r in read_jsonl(tmp_path / f"{name}.jsonl")]
    assert outs["adapter"] == outs["run"] and len(outs["run"]) == 1


@pytest.mark.parametrize("lora", [False, True])
def test_gradient_checkpointing_changes_memory_not_the_losses(
    lora: bool, lora_runs: Runs, tmp_path: Path
) -> None:
    kw = {**LORA, "lora": lora, "max_steps": 3, "eval_every": 0, "eval_splits": []}
    losses = {}
    for checkpointing in (False, True):
        run = train(config(lora_runs["data"], tmp_path / str(checkpointing), "bart", **kw,
                           gradient_checkpointing=checkpointing))  # fmt: skip
        losses[checkpointing] = [r["loss"] for r in read_jsonl(run / "train_log.jsonl")
                                 if "loss" in r]  # fmt: skip
        assert read_yaml(run / "config.yaml")["gradient_checkpointing"] is checkpointing
    assert losses[True] == pytest.approx(losses[False], rel=1e-4)
    assert len(losses[True]) == 3


def test_prepare_model_turns_checkpointing_on_under_lora_too() -> None:
    from summarist.config.data import DataConfig
    from summarist.config.train import TrainConfig
    from summarist.models.loading import load_for_training
    from summarist.training.prepare import prepare_model

    loaded = load_for_training(model_name("bart"))
    cfg = TrainConfig(data=DataConfig(["unused"]), model=model_name("bart"), lora=True,
                      gradient_checkpointing=True)  # fmt: skip
    summary = prepare_model(loaded, cfg, [])
    assert loaded.model.is_gradient_checkpointing and not loaded.model.config.use_cache
    assert summary is not None and loaded.family.learning_rate == 1e-3  # LoRA's default rate
    frozen = [n for n, p in loaded.model.named_parameters() if not p.requires_grad]
    assert frozen and all("lora_" not in n for n in frozen)
