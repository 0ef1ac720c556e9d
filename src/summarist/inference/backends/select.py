"""Pick and open a backend for `Summarizer.from_pretrained` (torch fp32/bf16/int8, CTranslate2)."""

from __future__ import annotations

import logging
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from summarist.config.generation import GenerationSettings
from summarist.errors import ConfigError, check_choice, did_you_mean
from summarist.inference.backends.base import Backend

log = logging.getLogger(__name__)

BACKENDS = ("torch", "ctranslate2")
QUANTIZE = ("none", "int8", "bf16")


@dataclass
class OpenedBackend:
    backend: Backend
    tokenizer: Any
    settings: GenerationSettings
    prefix: str
    source_limit: int


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
) -> OpenedBackend:
    """Load `name` (model directory, hub id, short name or CTranslate2 export) for `backend`.

    `lang` is the language of mBART-family models (ignored by others).
    """
    from summarist.inference.backends import ctranslate2_backend as ct2
    from summarist.models.resolve import resolve_run_dir

    name = resolve_run_dir(name)  # a run directory stands for its model/
    check_backend_options(backend, quantize, device)
    bf16 = quantize == "bf16"
    on_cpu = device in (None, "cpu")
    if bf16 and on_cpu and ct2.is_export_dir(name):
        _refuse_ct2_bf16_on_cpu()
    if ct2.is_export_dir(name):
        return _open_export(name, device, quantize)

    from summarist.models.loading import inference_defaults, load_for_inference

    model, tokenizer = load_for_inference(name, lang=lang)
    saved = inference_defaults(model, tokenizer, name)
    prefix, settings, limit = saved.prefix, saved.settings, saved.source_limit
    model_type = model.config.model_type
    if backend == "ctranslate2" and not ct2.supports(model_type):
        log.warning(
            "CTranslate2 cannot convert '%s' models; falling back to the torch backend%s",
            model_type,
            {"int8": " with int8 dynamic quantization", "bf16": " in bf16"}.get(quantize or "", ""),
        )
        backend = "torch"
    if backend == "ctranslate2" and bf16 and on_cpu:
        _refuse_ct2_bf16_on_cpu()  # before converting: the family is known to be convertible
    if backend == "ctranslate2":
        # Converted once per Summarizer into a directory that lives as long as the backend.
        tmp = tempfile.TemporaryDirectory(prefix="summarist-ct2-")
        ct2.export_ctranslate2(
            model, tokenizer, Path(tmp.name), prefix=prefix, settings=settings,
            source_limit=limit, source=name,
        )  # fmt: skip
        fast = ct2.CTranslate2Backend(
            tmp.name, tokenizer, device=device or "cpu", compute_type=_compute_type(quantize)
        )
        fast.workdir = tmp  # removed when the backend is garbage-collected
        return OpenedBackend(fast, tokenizer, settings, prefix, limit)

    from summarist.inference.backends.torch_backend import TorchBackend, prepare_for_inference

    # The fp32 model is ours: converted in place, no second copy in memory.
    model = prepare_for_inference(model, quantize, on_cpu=on_cpu)
    return OpenedBackend(TorchBackend(model, tokenizer, device), tokenizer, settings, prefix, limit)


def _refuse_ct2_bf16_on_cpu() -> None:
    raise ConfigError(
        "CTranslate2 computes bf16 on GPUs only",
        "on CPU use --backend ctranslate2 --quantize int8, or --backend torch --quantize bf16",
    )


def _compute_type(quantize: str | None) -> str:
    """CTranslate2 compute type; an int8 export stays int8 under "default"."""
    return {"int8": "int8", "bf16": "bfloat16"}.get(quantize or "none", "default")


def _open_export(path: str, device: str | None, quantize: str | None) -> OpenedBackend:
    from summarist.inference.backends import ctranslate2_backend as ct2
    from summarist.models.pretrained import load_tokenizer

    meta = ct2.read_export_meta(path)
    tokenizer = load_tokenizer(path)
    backend = ct2.CTranslate2Backend(
        path, tokenizer, device=device or "cpu", compute_type=_compute_type(quantize)
    )
    settings = GenerationSettings.from_dict(meta["generation"])
    return OpenedBackend(backend, tokenizer, settings, meta["prefix"], int(meta["source_limit"]))
