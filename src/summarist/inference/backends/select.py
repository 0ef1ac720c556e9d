"""Pick and open a backend for `Summarizer.from_pretrained` (torch fp32/bf16/int8, CTranslate2)."""

from __future__ import annotations

import logging
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from summarist.config.generation import GenerationSettings
from summarist.errors import ConfigError, check_choice, did_you_mean
from summarist.inference.backends.base import Backend

if TYPE_CHECKING:
    from summarist.models.loading import InferenceDefaults

log = logging.getLogger(__name__)

QUANTIZE = ("none", "int8", "bf16")


@dataclass
class OpenedBackend:
    backend: Backend
    tokenizer: Any
    settings: GenerationSettings
    prefix: str
    source_limit: int
    prompt: Any = None
    """A decoder-only model's `PromptBuilder` (None for seq2seq)."""


@dataclass(frozen=True)
class Options:
    """How the caller asked for the backend to run (already checked)."""

    device: str | None
    quantize: str | None

    @property
    def on_cpu(self) -> bool:
        return self.device in (None, "cpu")


@dataclass(frozen=True)
class BackendEntry:
    """One row of the backend table: what opens a loaded model, and what it refuses."""

    build: Callable[[Any, Any, InferenceDefaults, str, Options], Backend]
    """(model, tokenizer, saved defaults, model name, options) -> the backend."""
    check: Callable[[Options], None] = lambda options: None
    """Raise a ConfigError for options it cannot run (before any conversion)."""
    converts: Callable[[str], bool] = lambda model_type: True
    """Whether it can run a model of this `config.model_type` (else: the torch backend)."""


def _build_torch(
    model: Any, tokenizer: Any, saved: InferenceDefaults, name: str, options: Options
) -> Backend:
    from summarist.inference.backends.torch_backend import TorchBackend, prepare_for_inference

    # The fp32 model is ours: converted in place, no second copy in memory.
    model = prepare_for_inference(model, options.quantize, on_cpu=options.on_cpu)
    return TorchBackend(model, tokenizer, options.device)


def _build_ctranslate2(
    model: Any, tokenizer: Any, saved: InferenceDefaults, name: str, options: Options
) -> Backend:
    from summarist.inference.backends import ctranslate2_backend as ct2

    # Converted once per Summarizer into a directory that lives as long as the backend.
    tmp = tempfile.TemporaryDirectory(prefix="summarist-ct2-")
    ct2.export_ctranslate2(
        model, tokenizer, Path(tmp.name), prefix=saved.prefix, settings=saved.settings,
        source_limit=saved.source_limit, source=name, prompt=saved.prompt,
    )  # fmt: skip
    fast = _ct2_backend(tmp.name, tokenizer, options, saved.prompt)
    fast.workdir = tmp  # removed when the backend is garbage-collected
    return fast


def _ct2_backend(path: str, tokenizer: Any, options: Options, prompt: Any) -> Backend:
    """A Translator over a seq2seq export, a Generator over a decoder-only one."""
    from summarist.inference.backends import ctranslate2_backend as ct2

    kw = {"device": options.device or "cpu", "compute_type": _compute_type(options.quantize)}
    if prompt is None:
        return ct2.CTranslate2Backend(path, tokenizer, **kw)
    from summarist.inference.backends.ctranslate2_generator import CTranslate2GeneratorBackend

    return CTranslate2GeneratorBackend(path, tokenizer, prompt.stop_ids, **kw)


def _check_ctranslate2(options: Options) -> None:
    if options.quantize == "bf16" and options.on_cpu:
        raise ConfigError(
            "CTranslate2 computes bf16 on GPUs only",
            "on CPU use --backend ctranslate2 --quantize int8, or --backend torch --quantize bf16",
        )


def _ctranslate2_converts(model_type: str) -> bool:
    from summarist.inference.backends import ctranslate2_backend as ct2

    return ct2.supports(model_type)


BACKENDS: dict[str, BackendEntry] = {
    "torch": BackendEntry(_build_torch),
    "ctranslate2": BackendEntry(
        _build_ctranslate2, check=_check_ctranslate2, converts=_ctranslate2_converts
    ),
}
"""The backends `--backend` names; a CTranslate2 export directory always opens with ctranslate2."""
FALLBACK = "torch"
"""The backend of a model the one asked for cannot convert."""


_DEVICE_RE = re.compile(r"^(cpu|mps|auto|(cuda|xpu|npu)(:\d+)?)$")


def check_backend_options(backend: str, quantize: str | None, device: str | None) -> None:
    """One-line errors, before any model loads, for the backend, --quantize and --device."""
    check_choice("--backend", backend, BACKENDS)
    if quantize is not None:
        check_choice("--quantize", quantize, QUANTIZE)
    if device is not None and not _DEVICE_RE.match(device):
        raise ConfigError(
            f"unknown --device '{device}'{did_you_mean(device, ('cpu', 'cuda', 'cuda:0', 'mps'))}",
            "use cpu, cuda, cuda:N or mps",
        )


def open_backend(
    name: str,
    *,
    backend: str = "torch",
    device: str | None = None,
    quantize: str | None = None,
    lang: str | None = None,
    prompt: Any = None,
) -> OpenedBackend:
    """Load `name` (model directory, hub id, short name, .gguf file or CTranslate2 export)
    for `backend`.

    `lang` is the language of mBART-family models, `prompt` the `PromptSettings` of a
    decoder-only one (default: saved with it; both ignored by other families).
    """
    from summarist.inference.backends import ctranslate2_backend as ct2
    from summarist.models.resolve import resolve_run_dir

    name = resolve_run_dir(name)  # a run directory stands for its model/
    check_backend_options(backend, quantize, device)
    options = Options(device, quantize)
    if ct2.is_export_dir(name):
        BACKENDS["ctranslate2"].check(options)
        return _open_export(name, options, prompt)

    from summarist.models.loading import inference_defaults, load_for_inference

    model, tokenizer = load_for_inference(name, lang=lang)
    saved = inference_defaults(model, tokenizer, name, prompt)
    entry = BACKENDS[backend]
    model_type = model.config.model_type
    if not entry.converts(model_type):
        log.warning(
            "CTranslate2 cannot convert '%s' models; falling back to the %s backend%s",
            model_type,
            FALLBACK,
            {"int8": " with int8 dynamic quantization", "bf16": " in bf16"}.get(quantize or "", ""),
        )
        entry = BACKENDS[FALLBACK]
    entry.check(options)  # before converting: the family is known to be convertible
    built = entry.build(model, tokenizer, saved, name, options)
    return OpenedBackend(
        built, tokenizer, saved.settings, saved.prefix, saved.source_limit, saved.prompt
    )


def _compute_type(quantize: str | None) -> str:
    """CTranslate2 compute type; an int8 export stays int8 under "default"."""
    return {"int8": "int8", "bf16": "bfloat16"}.get(quantize or "none", "default")


def _open_export(path: str, options: Options, prompt: Any = None) -> OpenedBackend:
    from summarist.inference.backends import ctranslate2_backend as ct2
    from summarist.models.pretrained import load_tokenizer

    meta = ct2.read_export_meta(path)
    tokenizer = load_tokenizer(path)
    builder = None
    if meta.get("causal"):  # the prompt the model was exported with, unless one is given
        from summarist.config.prompt import PromptSettings
        from summarist.models.causal import prepare_tokenizer
        from summarist.models.prompt import PromptBuilder
        from summarist.models.registry import family_named

        family = family_named(meta["family"])
        prepare_tokenizer(tokenizer, family, path)
        saved = {k: v for k, v in meta["prompt"].items() if k != "mode"}
        builder = PromptBuilder(tokenizer, prompt or PromptSettings.from_dict(saved), family)
    backend = _ct2_backend(path, tokenizer, options, builder)
    settings = GenerationSettings.from_dict(meta["generation"])
    return OpenedBackend(
        backend, tokenizer, settings, meta["prefix"], int(meta["source_limit"]), builder
    )
