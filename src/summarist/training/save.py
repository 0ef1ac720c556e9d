"""Saving a finished run's model: the LoRA adapter (adapter/), then model/ (merged weights).

model/ is a plain transformers checkpoint (safetensors, tokenizer, generation_config.json) with
the input prefix and length limits in `config.task_specific_params["summarization"]`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from summarist.models.lora import base_name, merge, save_adapter
from summarist.quiet import quiet_transformers
from summarist.rundir import ADAPTER_DIR, MODEL_DIR, atomic_dir
from summarist.training.state import TrainingRun


def save_model(s: TrainingRun) -> Path:
    """Weights (safetensors) + tokenizer + generation_config.json, loadable by plain transformers.

    A LoRA run first saves its adapter to adapter/ and merges it (`save_adapter_and_merge`).

    The input prefix and length limits go to `config.task_specific_params["summarization"]`
    (where T5 keeps its prefix), so `Summarizer.from_pretrained` applies them with no summarist
    config at hand.
    """
    save_adapter_and_merge(s)  # LoRA: adapter/ first, then model/ holds the merged weights
    model, tok = s.loaded.model, s.loaded.tokenizer
    out = s.run_dir / MODEL_DIR
    model.config.task_specific_params = {"summarization": task_params(s)}
    model.generation_config = s.settings.to_hf(model.generation_config)
    if s.prompt is not None:  # plain transformers `generate` stops where summarist does
        model.generation_config.eos_token_id = list(s.prompt.stop_ids)
        model.generation_config.pad_token_id = tok.pad_token_id
    # FSDP and ZeRO-3 hold a slice of the weights per rank: gathering them is a collective.
    sharded = s.runtime.sharded and s.trained is not None
    state = {"state_dict": s.runtime.model_state(s.trained)} if sharded else {}
    if not s.runtime.is_main:
        return out
    # Into a temp folder swapped in whole: a resumed run saves again over its first model.
    with atomic_dir(out) as tmp, quiet_transformers():
        model.save_pretrained(tmp, **state)
        tok.save_pretrained(tmp)
    return out


def save_adapter_and_merge(s: TrainingRun) -> Path | None:
    """LoRA runs: write adapter/ (swapped in whole), then fold it into `s.loaded.model` so that
    model/ is a plain transformers checkpoint. Others: nothing (None)."""
    if s.loaded.adapter is None:
        return None
    meta = {
        "base": base_name(s.cfg.model),
        "lang": s.cfg.lang,
        "added_tokens": s.added_tokens,
        "task_params": task_params(s),
    }
    out = Path(s.run_dir) / ADAPTER_DIR
    if s.runtime.is_main:  # one writer; every rank merges (each evaluates its shard after)
        with atomic_dir(out) as tmp, quiet_transformers():
            save_adapter(s.loaded, tmp, meta)
    merge(s.loaded)
    s.loaded.model.config.use_cache = True
    return out


def task_params(s: TrainingRun) -> dict[str, Any]:
    """What a saved model says about its use (`config.task_specific_params["summarization"]`):
    prefix, source limit, generation settings and, decoder-only, the prompt it was trained on."""
    from summarist.models.prompt import PROMPT_KEY

    out: dict[str, Any] = {"prefix": s.prefix, "max_source_length": s.cfg.max_source_length,
                           **s.settings.to_dict()}  # fmt: skip
    if s.prompt is not None:
        out[PROMPT_KEY] = s.prompt.to_dict()
    return out


def adapter_size(run_dir: Path) -> int:
    """Bytes of the adapter weights in a run's adapter/ (0 when there is none)."""
    folder = Path(run_dir) / ADAPTER_DIR
    return sum(f.stat().st_size for f in folder.glob("adapter_model.*")) if folder.is_dir() else 0
