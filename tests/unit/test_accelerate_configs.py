"""Every launcher config in configs/accelerate/ loads with Accelerate's own loader and opens
with the exact command that uses it."""

from __future__ import annotations

from pathlib import Path

import pytest

CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "accelerate"
FILES = sorted(CONFIGS.glob("*.yaml"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_config_loads_with_accelerates_loader_and_shows_its_command(path: Path) -> None:
    from accelerate.commands.config.config_args import ClusterConfig, load_config_from_file

    first = path.read_text("utf-8").splitlines()[0]
    assert first.startswith(f"# accelerate launch --config_file configs/accelerate/{path.name} ")
    assert "-m summarist train" in first
    config = load_config_from_file(str(path))
    assert isinstance(config, ClusterConfig)
    assert config.mixed_precision == "bf16"  # T5 overflows in fp16; bf16 is every file's choice
    assert config.num_processes >= 1 and config.num_machines >= 1


def test_the_set_covers_each_way_to_scale() -> None:
    from accelerate.commands.config.config_args import load_config_from_file

    loaded = {p.stem: load_config_from_file(str(p)) for p in FILES}
    kinds = {name: c.distributed_type.value for name, c in loaded.items()}
    assert kinds == {
        "single-gpu-bf16": "NO", "multi-gpu-ddp": "MULTI_GPU", "fsdp-t5": "FSDP",
        "deepspeed-zero2": "DEEPSPEED", "deepspeed-zero3": "DEEPSPEED", "multi-node": "MULTI_GPU",
    }  # fmt: skip
    fsdp = loaded["fsdp-t5"].fsdp_config
    assert fsdp["fsdp_transformer_layer_cls_to_wrap"] == "T5Block"
    assert fsdp["fsdp_auto_wrap_policy"] == "TRANSFORMER_BASED_WRAP"
    assert [loaded[f"deepspeed-zero{n}"].deepspeed_config["zero_stage"] for n in (2, 3)] == [2, 3]
    assert loaded["multi-node"].num_machines > 1
    assert loaded["multi-node"].num_processes % loaded["multi-node"].num_machines == 0


def test_fsdp_wraps_the_block_class_t5_really_has() -> None:
    import transformers.models.t5.modeling_t5 as t5

    assert hasattr(t5, "T5Block")


def test_zero3_makes_evaluation_generate_in_step(monkeypatch: pytest.MonkeyPatch) -> None:
    """Under ZeRO-3 every rank gets an equal shard and generate(synced_gpus=True)."""
    from types import SimpleNamespace

    from summarist.training import final

    calls: list[tuple[list[str], bool]] = []

    def fake_generate_batched(model, tok, texts, settings, **kw):
        calls.append((list(texts), kw["synced_gpus"]))
        return [t.upper() for t in texts], [1] * len(texts)

    monkeypatch.setattr("summarist.inference.batching.generate_batched", fake_generate_batched)
    texts = ["a", "b", "c", "d", "e"]
    for rank in (0, 1):
        runtime = SimpleNamespace(rank=rank, world=2, synced_generate=True, device="cpu",
                                  gather=lambda items: items)  # fmt: skip
        s = SimpleNamespace(runtime=runtime, loaded=SimpleNamespace(model=None, tokenizer=None),
                            cfg=SimpleNamespace(eval_batch_size=2, max_source_length=None),
                            prefix="", prompt=None)  # fmt: skip
        preds, _ = final.generate(s, texts, settings=None)
        assert preds == [t.upper() for t in (["a", "b", "c"], ["d", "e"])[rank]]
    assert calls == [(["a", "b", "c"], True), (["d", "e", "e"], True)]  # rank 1 topped up
