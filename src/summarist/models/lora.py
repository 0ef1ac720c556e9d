"""LoRA adapters through peft: which layers to adapt, wrapping a model, saving, reloading.

`apply_lora(loaded, cfg, added)` wraps a loaded model in place: low-rank updates on the
family's target layers (T5 `q`,`v`; BART, PEGASUS, mBART `q_proj`,`v_proj`; BERT2BERT
`query`,`value`; `--lora-targets` or `all-linear` instead), the warm start's freshly
initialised modules trained in full (`modules_to_save`: a low-rank update of random weights
cannot train them) and the rows of added speaker tokens trained as they are (peft
`trainable_token_indices`; refused for BERT2BERT, whose decoder head is tied to a second
embedding that peft does not follow), every other weight frozen. A run saves the adapter
(`adapter/`, with the tokenizer, the generation config and `summarist_adapter.json` naming the
base) and the merged model (`model/`, a plain transformers checkpoint);
`models.loading.load_adapter(path)` rebuilds the base named there, adds the same tokens and
applies the adapter (`attach_adapter`).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from summarist.errors import ConfigError, ModelError, did_you_mean
from summarist.models.registry import Family

log = logging.getLogger(__name__)

ALL_LINEAR = "all-linear"
ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_META = "summarist_adapter.json"
"""Beside peft's files: the summarist name of the base, the tokens added to it, the prefix."""
LORA_LEARNING_RATE = 1e-3
"""Default peak rate under --lora for seq2seq families (the FLAN-T5 LoRA recipes' 1e-3;
adapters start at zero); each family row holds its own (`Family.lora_learning_rate`)."""


@dataclass
class LoraSummary:
    """What `apply_lora` did, for config.yaml and the model card."""

    targets: list[str]
    modules_to_save: list[str]
    trainable_tokens: int
    trainable_params: int
    total_params: int

    def to_dict(self) -> dict[str, Any]:
        share = self.trainable_params / max(1, self.total_params)
        return {
            "targets": self.targets, "modules_to_save": self.modules_to_save,
            "trainable_tokens": self.trainable_tokens, "trainable_params": self.trainable_params,
            "total_params": self.total_params, "trainable_share": round(share, 6),
        }  # fmt: skip


def require_peft() -> Any:
    try:
        import peft
    except ImportError:
        raise ConfigError(
            "--lora needs the peft package", "pip install 'summarist[lora]'"
        ) from None
    return peft


def linear_layers(model: Any) -> dict[str, list[str]]:
    """{leaf name: full module names} of the linear layers LoRA can adapt (not the LM head);
    GPT-2's transformers `Conv1D` layers count (linear layers with a transposed weight)."""
    import torch
    from transformers.pytorch_utils import Conv1D

    head = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    out: dict[str, list[str]] = {}
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Linear | Conv1D) and module is not head:
            out.setdefault(name.rsplit(".", 1)[-1], []).append(name)
    return out


def layer_features(layer: Any) -> tuple[int, int]:
    """(in, out) features of an nn.Linear or a Conv1D (weight stored as in x out)."""
    if hasattr(layer, "in_features"):
        return int(layer.in_features), int(layer.out_features)
    rows, cols = layer.weight.shape
    return int(rows), int(cols)


def resolve_targets(model: Any, family: Family, requested: list[str]) -> list[str]:
    """The leaf names to adapt: `requested`, else the family's; all-linear expands to all.

    Raises:
        ConfigError: a name matches no linear layer of this model (with a did-you-mean), or
            the family has no default and none was given.
    """
    layers = linear_layers(model)
    names = sorted(layers)
    if requested == [ALL_LINEAR]:
        return names
    if ALL_LINEAR in requested:
        raise ConfigError(
            f"--lora-targets {ALL_LINEAR} cannot be combined with other names",
            f"pass either --lora-targets {ALL_LINEAR} or a list of layer names",
        )
    targets = list(requested or family.lora_targets)
    if not targets:
        raise ConfigError(
            f"no default LoRA target layers for '{model.config.model_type}' models",
            f"pass --lora-targets (linear layers here: {', '.join(names[:12])}) or "
            f"--lora-targets {ALL_LINEAR}",
        )
    for target in targets:
        if target not in layers:
            raise ConfigError(
                f"--lora-targets: no linear layer named '{target}' in this {family.name} "
                f"model{did_you_mean(target, names)}",
                f"choose from {', '.join(names[:12])}, or {ALL_LINEAR}",
            )
    return targets


def count_lora_params(model: Any, targets: list[str], fresh: list[str], r: int) -> int:
    """Trainable parameters LoRA will add on `model` (works on a meta-device skeleton)."""
    fresh_names = fresh_module_names(model, fresh)
    total = 0
    for leaf in targets:
        for name in linear_layers(model)[leaf]:
            if any(name == f or name.startswith(f + ".") for f in fresh_names):
                continue  # trained in full instead
            total += r * sum(layer_features(model.get_submodule(name)))
    for name in fresh_names:
        total += sum(p.numel() for p in model.get_submodule(name).parameters())
    return total


def fresh_module_names(model: Any, fresh: list[str] | tuple[str, ...]) -> list[str]:
    """Full names of the modules whose name ends with one of `fresh`."""
    return [
        name
        for name, _ in model.named_modules()
        if any(name == f or name.endswith("." + f) for f in fresh)
    ]


def apply_lora(loaded: Any, cfg: Any, added_tokens: list[str]) -> LoraSummary:
    """Wrap `loaded.model` with LoRA as `cfg` (a TrainConfig) says; freeze everything else.

    `loaded.model` stays the transformers model (now holding LoRA layers), so training,
    generation and the generation config work as before; `loaded.adapter` is the PeftModel
    that saves the adapter and merges it. The family's default learning rate becomes
    `LORA_LEARNING_RATE`.
    """
    peft = require_peft()
    model, family = loaded.model, loaded.family
    targets = resolve_targets(model, family, cfg.lora_targets)
    fresh = list(family.fresh_modules) if fresh_module_names(model, family.fresh_modules) else []
    token_ids = [loaded.tokenizer.convert_tokens_to_ids(t) for t in added_tokens]
    if token_ids and family.warm_start:
        raise ConfigError(
            "--lora cannot train the speaker tokens added to a BERT2BERT warm start: its "
            "decoder's output head shares the decoder's embedding, whose new rows peft would "
            "train apart from the head (the merged model would differ from the trained one)",
            "add --no-speaker-tokens, or fine-tune in full without --lora",
        )
    config = peft.LoraConfig(
        r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
        target_modules=targets, modules_to_save=fresh or None,
        task_type="CAUSAL_LM" if family.causal else "SEQ_2_SEQ_LM",
        trainable_token_indices=token_ids or None,  # the shared input embedding (and tied head)
        fan_in_fan_out=model.config.model_type == "gpt2",  # Conv1D stores weights transposed
    )  # fmt: skip
    total = sum(p.numel() for p in model.parameters())
    loaded.adapter = peft.get_peft_model(model, config)
    # peft records the transformers name (none for a warm start); ours is what rebuilds it
    loaded.adapter.peft_config["default"].base_model_name_or_path = base_name(cfg.model)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    loaded.family = replace(family, learning_rate=family.lora_learning_rate)
    summary = LoraSummary(targets, fresh, len(token_ids), trainable, total)
    log.info(
        "LoRA r=%d on %s%s: %d trainable parameters of %d (%.2f%%)", cfg.lora_r,
        ", ".join(targets), f" (+ {', '.join(fresh)} in full)" if fresh else "",
        trainable, total, 100 * trainable / max(1, total),
    )  # fmt: skip
    return summary


def base_name(model: str) -> str:
    """The base as the adapter records it: local paths absolute, names as given."""
    for prefix in ("bert2bert:", "bert2bart:"):
        if model.startswith(prefix):
            return prefix + base_name(model[len(prefix) :])
    path = Path(model).expanduser()
    return str(path.resolve()) if path.exists() else model


def save_adapter(loaded: Any, out: Path, meta: dict[str, Any]) -> None:
    """peft's adapter files + tokenizer + generation config + `summarist_adapter.json` into
    `out` (a fresh folder; the caller swaps it in whole)."""
    # The added rows travel as trainable tokens; the resized base is rebuilt by add_tokens.
    loaded.adapter.save_pretrained(out, save_embedding_layers=False)
    loaded.tokenizer.save_pretrained(out)
    loaded.model.generation_config.save_pretrained(out)
    (out / ADAPTER_META).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")


def merge(loaded: Any) -> Any:
    """Fold the adapter into the weights (`merge_and_unload`): a plain transformers model."""
    merged = loaded.adapter.merge_and_unload()
    loaded.model, loaded.adapter = merged, None
    return merged


def is_adapter_dir(path: str | Path) -> bool:
    return (Path(path).expanduser() / ADAPTER_CONFIG).is_file()


def adapter_base(path: str | Path) -> str | None:
    """The base model an adapter names (summarist's record first, then peft's)."""
    folder = Path(path).expanduser()
    meta = folder / ADAPTER_META
    if meta.is_file():
        return json.loads(meta.read_text(encoding="utf-8")).get("base")
    config = json.loads((folder / ADAPTER_CONFIG).read_text(encoding="utf-8"))
    return config.get("base_model_name_or_path")


def read_adapter(path: str | Path, name: str) -> tuple[str, dict[str, Any]]:
    """(base model name, summarist_adapter.json contents) of an adapter directory.

    Raises:
        ModelError: the adapter names no base model.
    """
    folder = Path(path).expanduser()
    base = adapter_base(folder)
    if not base:
        raise ModelError(
            f"'{name}' is an adapter (adapter_config.json) that names no base model",
            "set base_model_name_or_path in its adapter_config.json",
        )
    meta_file = folder / ADAPTER_META
    meta = json.loads(meta_file.read_text(encoding="utf-8")) if meta_file.is_file() else {}
    return base, meta


def attach_adapter(base_model: Any, path: str | Path, meta: dict[str, Any], *,
                   merged: bool = True) -> Any:  # fmt: skip
    """`base_model` (with the adapter's added tokens already in) + the adapter at `path`, with
    the run's prefix and decoding; folded in (`merged`) or kept as a PeftModel."""
    peft = require_peft()
    folder = Path(path).expanduser()
    with _quiet():
        model = peft.PeftModel.from_pretrained(base_model, str(folder))
    base = model.get_base_model()
    if meta.get("task_params"):
        base.config.task_specific_params = {"summarization": meta["task_params"]}
    if (folder / "generation_config.json").is_file():  # the run's decoding, as model/ has it
        from transformers import GenerationConfig

        base.generation_config = GenerationConfig.from_pretrained(folder)
    return model.merge_and_unload() if merged else model


def _quiet() -> Any:
    from summarist.quiet import quiet_transformers

    return quiet_transformers()
