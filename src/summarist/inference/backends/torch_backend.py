"""The torch backend: `model.generate` on padded batches, optionally int8-quantized on CPU."""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
import warnings
from dataclasses import replace
from typing import Any

from summarist.config.generation import GenerationSettings
from summarist.inference.backends.base import DEFAULT_BATCH_SIZE

log = logging.getLogger(__name__)

# Greedy bf16 decoding on CPU is fast enough per step that a batch of 16 leaves transformers'
# per-step overhead a large share; 32 texts per batch ran 16% faster for the MiniLM warm start,
# ~10% for a bart-base shape and the same for t5-small (2 threads, AMX CPU; docs/benchmarks.md).
# With 4 beams 16 inputs are already 64 rows and 32 was up to 12% slower, so beams keep 16.
BF16_CPU_GREEDY_BATCH = 32

# torch's CPU generator is one per process: two threads sampling at once (a server's workers)
# would draw from each other's stream, so a seeded request would not get the same summary twice.
SAMPLING = threading.Lock()


class TorchBackend:
    """Runs `model.generate` for any seq2seq model (AutoModelForSeq2SeqLM, EncoderDecoderModel)
    and any decoder-only one (AutoModelForCausalLM: left-padded prompts, new tokens returned)."""

    name = "torch"

    def __init__(
        self, model: Any, tokenizer: Any, device: Any = None, *, synced_gpus: bool = False
    ) -> None:
        import torch

        self.model = model.eval()
        # DeepSpeed ZeRO-3: every rank keeps stepping until all are done (weights are gathered
        # layer by layer from all ranks at each forward).
        self.synced_gpus = synced_gpus
        self.device = torch.device(device) if device is not None else _model_device(model)
        if device is not None:
            self.model.to(self.device)
        self.pad_id = int(tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0)
        self.causal = not getattr(model.config, "is_encoder_decoder", False) and (
            getattr(model.config, "model_type", "") != "encoder-decoder"
        )
        self.tokenizer = tokenizer  # stop strings are matched through its vocabulary
        self.token_ids = (
            causal_token_ids(model, tokenizer)
            if self.causal
            else special_token_ids(model, tokenizer)
        )
        self._config_cache: dict[GenerationSettings, Any] = {}
        self.bf16_on_cpu = self.device.type == "cpu" and _model_dtype(model) == torch.bfloat16
        from summarist.inference.backends.logits import use_in_place_processors

        use_in_place_processors(self.model)  # same scores, without a copy per processor per step

    def preferred_batch_size(self, settings: GenerationSettings) -> int:
        """Texts per batch when the caller did not choose (see `BF16_CPU_GREEDY_BATCH`)."""
        if self.bf16_on_cpu and settings.num_beams == 1:
            return BF16_CPU_GREEDY_BATCH
        return DEFAULT_BATCH_SIZE

    def generate_ids(self, batch: list[list[int]], settings: GenerationSettings) -> list[list[int]]:
        import torch

        width = max(len(ids) for ids in batch)
        input_ids = torch.full((len(batch), width), self.pad_id, dtype=torch.long)
        attention_mask = torch.zeros((len(batch), width), dtype=torch.long)
        for row, ids in enumerate(batch):
            # seq2seq: right padding (the encoder side); decoder-only: left padding, so every
            # row's first new token follows its prompt directly
            cols = slice(width - len(ids), width) if self.causal else slice(0, len(ids))
            input_ids[row, cols] = torch.tensor(ids, dtype=torch.long)
            attention_mask[row, cols] = 1
        extra: dict[str, Any] = {"synced_gpus": True} if self.synced_gpus else {}
        if settings.num_beams > 1 and self.model.config.is_encoder_decoder:
            extra["past_key_values"] = beam_cache()
        if settings.stop:
            extra["tokenizer"] = self.tokenizer
        kwargs = {"input_ids": input_ids.to(self.device),
                  "attention_mask": attention_mask.to(self.device), **extra}  # fmt: skip
        with torch.inference_mode(), seeded(settings):
            try:
                out = self.model.generate(
                    generation_config=self.generation_config(settings), **kwargs
                )
            except ValueError as err:
                if not settings.stop or "stop string" not in str(err).lower():
                    raise
                # No token of the vocabulary can spell these stop strings, so no output can
                # contain them: generating without them is the same generation.
                kwargs.pop("tokenizer", None)
                plain = self.generation_config(replace(settings, stop=()))
                out = self.model.generate(generation_config=plain, **kwargs)
        eos = self.token_ids.get("eos_token_id")
        eos_ids = set(eos) if isinstance(eos, list) else {eos}
        # drop the decoder start token (decoder-only: the prompt), and whatever follows the
        # first EOS: beam search fills a finished beam's row up to the batch's longest output
        # with EOS, not padding, which counted as generated tokens (and as hitting the cap)
        start = width if self.causal else 1
        rows = [cut_after_eos(row, eos_ids) for row in out[:, start:].cpu().tolist()]
        if settings.stop:
            first_eos = next(iter(sorted(e for e in eos_ids if e is not None)), self.pad_id)
            rows = [end_at_stop(r, eos_ids, self.pad_id, first_eos, settings) for r in rows]
        return rows

    def generation_config(self, settings: GenerationSettings) -> Any:
        """The model's own GenerationConfig (token ids, forced BOS...) with `settings` applied."""
        if settings not in self._config_cache:
            cfg = settings.to_hf(self.model.generation_config)
            cfg.update(**self.token_ids)
            self._config_cache[settings] = cfg
        return self._config_cache[settings]


@contextlib.contextmanager
def seeded(settings: GenerationSettings) -> Any:
    """Sampling holds the process's generator (seeded when asked); search needs neither."""
    if not settings.do_sample:
        yield
        return
    import torch

    with SAMPLING:
        if settings.sample_seed is not None:
            torch.manual_seed(settings.sample_seed)
        yield


def end_at_stop(
    ids: list[int], eos_ids: set[Any], pad_id: int, eos_id: int, settings: GenerationSettings
) -> list[int]:
    """An output a stop string ended (shorter than the cap, no EOS) gets the EOS it stopped at,
    so that it counts as finished like any other (`count_new_tokens`)."""
    kept = [t for t in ids if t != pad_id]
    if len(kept) >= settings.max_new_tokens or any(t in eos_ids for t in kept):
        return ids
    return [*kept, eos_id]


def cut_after_eos(ids: list[int], eos_ids: set[Any]) -> list[int]:
    """`ids` up to and including its first end-of-sequence token."""
    for i, token in enumerate(ids):
        if token in eos_ids:
            return ids[: i + 1]
    return ids


def beam_cache() -> Any:
    """An encoder-decoder KV cache that does not reorder cross-attention keys and values.

    Beam search reorders the cache at every step, but the beams of one input share the same
    encoder output, so their cross-attention keys/values are identical copies and reordering
    them (transformers does, for every layer at every step) only copies memory. Skipping it
    keeps outputs bit-identical and made 4-beam batched generation ~2x faster on CPU here.
    """
    from transformers.cache_utils import DynamicCache, EncoderDecoderCache

    class SharedCrossAttentionCache(EncoderDecoderCache):
        def reorder_cache(self, beam_idx: Any) -> None:
            self.self_attention_cache.reorder_cache(beam_idx)

    return SharedCrossAttentionCache(DynamicCache(), DynamicCache())


def special_token_ids(model: Any, tokenizer: Any) -> dict[str, int]:
    """decoder_start / eos / pad ids the model's generation config lacks.

    A BERT2BERT `EncoderDecoderModel` has none of its own: it starts decoding at [CLS] and
    stops at [SEP] (the convention of the warm-starting paper, Rothe et al. 2020).
    """
    gen = model.generation_config
    cfg = model.config
    is_bert2bert = getattr(cfg, "model_type", "") == "encoder-decoder"
    wanted = {
        "decoder_start_token_id": tokenizer.cls_token_id if is_bert2bert else None,
        "eos_token_id": tokenizer.sep_token_id if is_bert2bert else tokenizer.eos_token_id,
        "pad_token_id": tokenizer.pad_token_id,
    }
    found = {}
    for key, fallback in wanted.items():
        value = getattr(gen, key, None)
        if value is None:
            value = getattr(cfg, key, None)
        if value is None:
            value = fallback
        if value is not None:
            found[key] = value
    if "decoder_start_token_id" not in found:
        raise_missing(model)
    return found


def causal_token_ids(model: Any, tokenizer: Any) -> dict[str, Any]:
    """eos (every stop token: the template's end of turn and EOS) and pad of a decoder-only
    model; the model's generation config may name further stop tokens, kept."""
    from summarist.models.prompt import stop_token_ids
    from summarist.models.registry import family_for

    mode = "chat" if getattr(tokenizer, "chat_template", None) else "plain"
    stops = stop_token_ids(tokenizer, family_for(model.config), mode)
    saved = getattr(model.generation_config, "eos_token_id", None)
    saved = saved if isinstance(saved, list) else [] if saved is None else [saved]
    eos = list(dict.fromkeys([*stops, *(int(t) for t in saved)]))
    return {"eos_token_id": eos, "pad_token_id": int(tokenizer.pad_token_id)}


def raise_missing(model: Any) -> None:
    from summarist.errors import ModelError

    raise ModelError(
        f"{type(model).__name__} has no decoder_start_token_id",
        "set model.config.decoder_start_token_id (and eos/pad) before generating",
    )


def quantize_dynamic_int8(model: Any) -> Any:
    """torch dynamic int8 quantization of the nn.Linear layers (CPU only; a new module).

    Weights get one scale per output channel (per-tensor scales let one large row coarsen all
    the others). Two kinds of layer stay fp32 (and are pre-packed on CPU like any fp32 layer):
    - the output projection (vocabulary logits): it decides every greedy token, and int8
      rounding there flips near-ties that change the rest of the summary;
    - the feed-forward output projections, the only down-projections in these models (T5's `wo`,
      BART/PEGASUS's `fc2`, BERT's `output.dense`): their input is the ReLU/GELU activation,
      whose rare large values set the one per-batch scale of dynamic quantization and leave
      every other activation a few int8 levels.
    On CPUs with VNNI, activations are quantized to the full 8 bits (`full_range_linear_class`).
    On the DialogSum-trained MiniLM warm start (500 dev inputs, greedy, ROUGE-1 change from fp32
    and summaries identical to fp32): every layer but the head int8, -0.37 and 113 of 500; with
    the feed-forward outputs fp32, -0.16 and 158; plus full-range activations, +0.16 and 246.
    """
    import torch

    if _model_device(model).type != "cpu":
        from summarist.errors import ConfigError

        raise ConfigError("int8 quantization of the torch backend runs on CPU only", "--device cpu")
    head = model.get_output_embeddings()
    # torch.ao.quantization announces its move to torchao (not installed here) on import and
    # use; eager dynamic quantization still works in torch 2.13, so keep users' logs clean.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.filterwarnings(
            "ignore", message=".*quantize_per_(tensor|channel)", category=UserWarning
        )
        from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

        spec = {
            name: per_channel_dynamic_qconfig
            for name, module in model.named_modules()
            if isinstance(module, torch.nn.Linear)
            and module is not head
            and not is_down_projection(module)
        }
        quantized = quantize_dynamic(model, spec, dtype=torch.qint8)
    from summarist.hardware import cpu_has_vnni

    if cpu_has_vnni():
        full_range = full_range_linear_class()
        for module in quantized.modules():
            if type(module) is full_range.__base__:
                module.__class__ = full_range
    return quantized


@functools.cache
def full_range_linear_class() -> type:
    """torch's dynamic int8 linear layer, quantizing activations to 8 bits instead of 7.

    torch quantizes activations with `reduce_range=True` because AVX2's 8-bit multiply-add can
    saturate its 16-bit intermediate; VNNI instructions accumulate in 32 bits, so on CPUs with
    VNNI the full range is exact and halves the activation rounding step. On the trained MiniLM
    (500 DialogSum dev inputs, greedy) it took int8 from 158 to 246 summaries identical to fp32.
    """
    import torch
    from torch.ao.nn.quantized.dynamic import Linear as DynamicLinear

    class FullRangeDynamicLinear(DynamicLinear):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            packed = self._packed_params._packed_params
            out = torch.ops.quantized.linear_dynamic(x, packed, reduce_range=False)
            return out.to(x.dtype)

    return FullRangeDynamicLinear


def is_down_projection(layer: Any) -> bool:
    """A linear layer that narrows its input: the feed-forward output of a transformer block."""
    return int(layer.in_features) > int(layer.out_features)


def to_bf16(model: Any, *, copy: bool = True) -> Any:
    """bfloat16 weights and activations: a new module, or `model` itself with `copy=False`.

    Fast where bf16 is native: about 2x the summaries per second of fp32 on an AMX CPU here,
    and the usual choice on Ampere+ GPUs. Elsewhere on CPU it is emulated, hence the warning.
    """
    import copy as copying

    import torch

    from summarist.hardware import cpu_has_native_bf16

    if _model_device(model).type == "cpu" and not cpu_has_native_bf16():
        log.warning("this CPU has no native bf16 (AVX512-BF16/AMX): bf16 will be slower than fp32")
    return (copying.deepcopy(model) if copy else model).to(torch.bfloat16)


def prepare_for_inference(
    model: Any, quantize: str | None, *, on_cpu: bool, copy: bool = False
) -> Any:
    """The model the torch backend runs: int8- or bf16-converted, linear layers packed on CPU.

    With `copy=False` the fp32 `model` may be converted in place (bf16, packing); int8
    quantization always returns a new module.
    """
    import copy as copying

    if quantize == "int8":
        model = quantize_dynamic_int8(model)
    elif quantize == "bf16":
        model = to_bf16(model, copy=copy)
    elif copy and on_cpu:  # packing below replaces layers: keep the caller's model intact
        model = copying.deepcopy(model)
    if on_cpu:
        from summarist.inference.backends.packing import pack_linear_layers

        packed = pack_linear_layers(model)  # int8: only the fp32 output head is left to pack
        log.debug("packed %d linear layers for CPU inference", packed)
    return model


def _model_device(model: Any) -> Any:
    import torch

    try:
        return next(model.parameters()).device
    except StopIteration:  # pragma: no cover
        return torch.device("cpu")


def _model_dtype(model: Any) -> Any:
    """The dtype of the model's first floating-point parameter (None when it has none)."""
    return next((p.dtype for p in model.parameters() if p.is_floating_point()), None)
