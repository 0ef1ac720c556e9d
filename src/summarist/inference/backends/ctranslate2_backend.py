"""CTranslate2: export a seq2seq model (optionally int8) and generate with it.

CTranslate2 converts T5, mT5, BART, mBART, PEGASUS, Marian and M2M100; BERT2BERT
(`EncoderDecoderModel`) and other families are refused with a one-line error, and
`Summarizer` falls back to the torch backend for them.

Pitfalls handled here (each seen with ctranslate2 4.8.5): BART configs built from
scratch lack `normalize_before`/`normalize_embedding`, which the converter reads; a tokenizer
without a BOS token leaves `"bos_token": null` in the converted config, which then fails to
load; an mBART with an `MBartTokenizer` gets `"decoder_start_token": null`, so CTranslate2
started decoding at the language code instead of </s> as transformers does; and the converter
pads T5's vocabulary by repeating names, so output tokens are mapped to ids through the
converted model's own vocabulary file.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from summarist.config.generation import GenerationSettings
from summarist.errors import ModelError, check_choice
from summarist.rundir import atomic_dir, check_output_dir, write_json

log = logging.getLogger(__name__)

CT2_MODEL_TYPES = ("t5", "mt5", "umt5", "bart", "mbart", "pegasus", "marian", "m2m_100")
CT2_CAUSAL_TYPES = ("llama", "mistral", "qwen2", "qwen3", "gemma", "gemma2", "gemma3_text",
                    "phi3", "gpt2", "gpt_neox")  # fmt: skip
"""Decoder-only types the converter reads; they run as a `ctranslate2.Generator`
(`ctranslate2_generator`)."""
EXPORT_META = "summarist_export.json"
EXPORT_FILES = (EXPORT_META, "model.bin")
"""Any one of these marks a folder as an earlier export that a new export may replace."""
# int8 on CPU decodes faster in small batches: with one single-threaded replica per core, 8 texts
# per batch beat 16 by 15-45% (t5-small and bart-base shapes, greedy and 4 beams), while fp32
# is fastest at 16 (ctranslate2 4.8.5 on this 2-core AMX CPU; docs/benchmarks.md).
CPU_INT8_MAX_BATCH = 8
# The converter reads these; configs built from scratch lack them (values as in hub configs).
NORM_DEFAULTS: dict[str, dict[str, bool]] = {
    "bart": {"normalize_before": False, "normalize_embedding": True},
    "mbart": {"normalize_before": True, "normalize_embedding": True},
    "pegasus": {"normalize_before": True, "normalize_embedding": False},
}
QUANTIZATIONS = ("int8", "int8_float32", "int16", "float16", "bfloat16")


def supports(model_type: str) -> bool:
    return model_type in CT2_MODEL_TYPES or model_type in CT2_CAUSAL_TYPES


def is_export_dir(path: str | Path) -> bool:
    return (Path(path) / EXPORT_META).exists() and (Path(path) / "model.bin").exists()


def unsupported_error(model_type: str) -> ModelError:
    return ModelError(
        f"CTranslate2 cannot convert '{model_type}' models "
        f"(it supports {', '.join(CT2_MODEL_TYPES + CT2_CAUSAL_TYPES)})",
        "use the torch backend; on CPU add --quantize int8 for the same kind of speed-up",
    )


def export_ctranslate2(
    model: Any,
    tokenizer: Any,
    out_dir: Path,
    *,
    prefix: str,
    settings: GenerationSettings,
    source_limit: int,
    quantize: str | None = None,
    source: str = "",
    prompt: Any = None,
) -> Path:
    """Convert an in-memory model to a CTranslate2 directory that `Summarizer` can load.

    A decoder-only model comes with its `PromptBuilder` (`prompt`), recorded in the export.
    """
    from ctranslate2.converters import TransformersConverter

    model_type = model.config.model_type
    if not supports(model_type):
        raise unsupported_error(model_type)
    if quantize is not None:
        check_choice("--quantize", quantize, QUANTIZATIONS)
    out_dir = check_output_dir(Path(out_dir), "--output", owns=EXPORT_FILES)
    # Converted into a temp folder beside out_dir and swapped in whole (rundir.atomic_dir), so
    # an interrupted export (Ctrl-C, kill -9, a full disk) leaves the previous export intact.
    with tempfile.TemporaryDirectory(prefix="summarist-ct2-") as tmp, atomic_dir(out_dir) as new:
        for attr, value in NORM_DEFAULTS.get(model_type, {}).items():
            if not hasattr(model.config, attr):
                setattr(model.config, attr, value)
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        TransformersConverter(tmp).convert(str(new), quantization=quantize, force=True)
        _fix_null_bos(new, tokenizer, model)
        tokenizer.save_pretrained(new)
        _write_meta(
            new, model, tokenizer, model_type, prefix, settings, source_limit, quantize, source,
            prompt,
        )  # fmt: skip
    log.info(
        "exported %s to %s (CTranslate2, %s)", source or model_type, out_dir, quantize or "fp32"
    )
    return out_dir


def _write_meta(
    out_dir: Path, model: Any, tokenizer: Any, model_type: str, prefix: str,
    settings: GenerationSettings, source_limit: int, quantize: str | None, source: str,
    prompt: Any = None,
) -> None:  # fmt: skip
    causal = {}
    if prompt is not None:  # decoder-only: the Generator, with the prompt it was trained on
        causal = {"causal": True, "family": prompt.family.name, "prompt": prompt.to_dict(),
                  "stop_ids": list(prompt.stop_ids)}  # fmt: skip
    write_json(
        out_dir / EXPORT_META,
        {
            **causal,
            "source": source,
            "model_type": model_type,
            "quantization": quantize or "none",
            "prefix": prefix,
            # transformers forces EOS as the last token at the length cap; CTranslate2 does not.
            "forced_eos_token_id": getattr(model.generation_config, "forced_eos_token_id", None),
            # mBART's target language code: transformers forces it as the first new token,
            # CTranslate2 takes it as a target prefix.
            "forced_bos_token": _forced_bos_token(model, tokenizer),
            "source_limit": source_limit,
            "generation": settings.to_dict(),
        },
    )


def _forced_bos_token(model: Any, tokenizer: Any) -> str | None:
    forced = getattr(model.generation_config, "forced_bos_token_id", None)
    return None if forced is None else tokenizer.convert_ids_to_tokens(int(forced))


def _fix_null_bos(out_dir: Path, tokenizer: Any, model: Any) -> None:
    """Fill the start tokens the converter leaves null with the one transformers starts at.

    A null `bos_token` fails to load. A null `decoder_start_token` (the converter's choice for
    every mBART whose tokenizer is `MBartTokenizer`, after mBART-25's convention) makes the
    target prefix, the language code, the first decoder input, where transformers feeds
    `decoder_start_token_id` (</s>) and then the forced code: a different decoder input at
    every step, so summaries differed from torch's (5 of 35 on a tiny trained mBART).
    """
    config_file = out_dir / "config.json"
    config = json.loads(config_file.read_text(encoding="utf-8"))
    start = getattr(model.config, "decoder_start_token_id", None)
    if start is None:  # decoder-only: BOS (or EOS) is what a null bos_token would need
        start = (
            tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id
        )
    changed = False
    if config.get("bos_token") is None:
        config["bos_token"] = tokenizer.convert_ids_to_tokens(int(start))
        changed = True
    if (
        "decoder_start_token" in config
        and config["decoder_start_token"] is None
        and start is not None
    ):
        config["decoder_start_token"] = tokenizer.convert_ids_to_tokens(int(start))
        changed = True
    if changed:
        from summarist.rundir import write_json

        write_json(config_file, config)


def read_export_meta(path: str | Path) -> dict[str, Any]:
    return json.loads((Path(path) / EXPORT_META).read_text(encoding="utf-8"))


def open_model(
    kind: Any, model_dir: str | Path, *, device: str, compute_type: str, threads: int | None
) -> tuple[Any, int, int]:
    """A `ctranslate2.Translator` or `Generator` (`kind`) placed the measured way; returns it,
    how many batches it decodes at once, and its cap on texts per batch (0: none).

    On CPU: one single-threaded replica per core, each decoding its own batch: small
    decoder-step matmuls scale poorly across threads, whole batches do. Measured here (2 cores,
    int8, greedy): +20% summaries/s for t5-small, +36% for bart-base over one two-threaded
    replica. Replicas share the weights. An int8 model (one exported as int8 computes in int8
    under "default") decodes faster in batches of at most `CPU_INT8_MAX_BATCH` on CPU.
    """
    import torch

    threads = threads or torch.get_num_threads()
    parallel = threads if device == "cpu" else 1
    model = kind(
        str(model_dir),
        device=device,
        compute_type=compute_type,
        inter_threads=parallel,
        intra_threads=1 if device == "cpu" else threads,
    )
    # Creating one sets OpenMP's process-wide thread count to its intra_threads, which torch
    # reads as its own: without this, every later torch op (and the next backend's default)
    # silently ran on 1 thread.
    torch.set_num_threads(threads)
    int8 = "int8" in model.compute_type
    return model, parallel, CPU_INT8_MAX_BATCH if device == "cpu" and int8 else 0


class CTranslate2Backend:
    """Generates with a `ctranslate2.Translator` over an exported directory.

    Greedy decoding, and beam search without bans, equal torch's token for token. With bans
    (no_repeat_ngram_size, min_new_tokens) beam search differs: CTranslate2 masks the logits
    before its log-softmax (the other tokens renormalize), transformers masks the
    log-probabilities after it. CTranslate2 also always stops at `num_beams` finished
    hypotheses (transformers' early_stopping=True) and leaves the decoder start token out of
    its n-gram history. Measured and tested in tests/unit/test_backends.py; README, "Backends".
    """

    name = "ctranslate2"

    def __init__(
        self,
        model_dir: str | Path,
        tokenizer: Any,
        *,
        device: str = "cpu",
        compute_type: str = "default",
        threads: int | None = None,
    ) -> None:
        import ctranslate2

        self.translator, self.parallel_batches, self.max_batch = open_model(
            ctranslate2.Translator, model_dir, device=device, compute_type=compute_type,
            threads=threads,
        )  # fmt: skip
        self.tokenizer = tokenizer
        self.token_to_id = vocabulary(Path(model_dir))
        meta = read_export_meta(model_dir)
        self.forced_eos = meta.get("forced_eos_token_id")
        self.forced_bos = meta.get("forced_bos_token")
        self.workdir: Any = None
        """A temporary directory holding a conversion made on load (kept alive with us)."""

    def generate_ids(self, batch: list[list[int]], settings: GenerationSettings) -> list[list[int]]:
        return list(self.stream_ids(batch, settings, batch_size=len(batch)))

    def stream_ids(
        self, batch: list[list[int]], settings: GenerationSettings, *, batch_size: int
    ) -> Iterator[list[int]]:
        """Ids per source in input order, as they complete.

        The translator sorts the sources by length, cuts them into batches of at most
        `batch_size_for(...)` and runs `parallel_batches` of them at once.
        """
        sources = [self.tokenizer.convert_ids_to_tokens(ids) for ids in batch]
        sampling: dict[str, Any] = {}
        if settings.do_sample:  # stop strings are not matched here: the server cuts the text
            sampling = {
                "sampling_temperature": settings.temperature,
                "sampling_topp": settings.top_p,
            }
            if settings.sample_seed is not None:
                import ctranslate2

                ctranslate2.set_random_seed(settings.sample_seed)
        futures = self.translator.translate_batch(
            sources,
            max_batch_size=self.batch_size_for(len(sources), batch_size),
            asynchronous=True,
            beam_size=settings.num_beams,
            max_decoding_length=settings.max_new_tokens,
            min_decoding_length=settings.min_new_tokens,
            no_repeat_ngram_size=settings.no_repeat_ngram_size,
            length_penalty=settings.length_penalty,
            repetition_penalty=settings.repetition_penalty,
            sampling_topk=0 if settings.do_sample else 1,
            max_input_length=0,
            return_end_token=True,  # as transformers does, so counts agree
            target_prefix=[[self.forced_bos]] * len(sources) if self.forced_bos else None,
            **sampling,
        )
        cap = settings.max_new_tokens
        for future in futures:
            ids = [self.token_to_id[t] for t in future.result().hypotheses[0]]
            if self.forced_eos is not None and len(ids) >= cap:
                ids = ids[: cap - 1] + [self.forced_eos]
            yield ids

    def batch_size_for(self, n: int, batch_size: int) -> int:
        """Texts per batch for `n` sources: at most `batch_size` (and `max_batch`), and split
        evenly over the replicas when there are too few to fill them."""
        even = -(-n // self.parallel_batches)
        size = min(even, batch_size)
        return min(size, self.max_batch) if self.max_batch else size


def vocabulary(model_dir: Path) -> dict[str, int]:
    """Token → id from the converted model's vocabulary (first occurrence wins)."""
    for name in ("shared_vocabulary.json", "target_vocabulary.json", "vocabulary.json"):
        file = model_dir / name
        if file.exists():
            tokens = json.loads(file.read_text(encoding="utf-8"))
            break
    else:
        file = next(model_dir.glob("*vocabulary.txt"))
        tokens = file.read_text(encoding="utf-8").split("\n")
    mapping: dict[str, int] = {}
    for i, token in enumerate(tokens):
        mapping.setdefault(token, i)
    return mapping


def export_model(
    name: str, out_dir: Path, quantize: str | None = None, lang: str | None = None
) -> Path:
    """`summarist export --format ctranslate2`: load `name`, convert it, return the directory."""
    from summarist.models.loading import inference_defaults, load_for_inference

    if quantize not in (None, "none"):
        check_choice("--quantize", quantize, QUANTIZATIONS)
    check_output_dir(Path(out_dir), "--output", owns=EXPORT_FILES)  # before the slow load
    model, tokenizer = load_for_inference(name, lang=lang)
    if not supports(model.config.model_type):
        raise unsupported_error(model.config.model_type)
    saved = inference_defaults(model, tokenizer, name)
    return export_ctranslate2(
        model,
        tokenizer,
        out_dir,
        prefix=saved.prefix,
        settings=saved.settings,
        source_limit=saved.source_limit,
        quantize=None if quantize in (None, "none") else quantize,
        source=name,
        prompt=saved.prompt,
    )
