"""Plan training memory before any weight is loaded: estimate the peak, refuse what won't fit.

The estimate adds up what a training step holds at its peak (Rajbhandari et al. 2020 for the
model states; Korthikanti et al. 2022 for the activations of a transformer layer):

- weights (every parameter, in its stored dtype) and, under bf16/fp16 autocast, the cast copies
  of the trainable ones that autocast keeps for the step;
- gradients and AdamW's two moments for the trainable parameters (fp32);
- activations kept for the backward pass of the largest forward piece (the longest batch,
  after `--max-batch-tokens` splits it), per layer; with `--gradient-checkpointing` only each
  layer's input plus one layer being recomputed;
- the logits and their log-softmax and gradient (rows x target x vocabulary, fp32);
- what the process holds already (CPU: its resident memory once torch is imported and the
  corpus read, plus a measured allowance for the allocator; GPU: the CUDA context).

The counts are textbook; two scale factors and the CPU allowance were fitted to measured peak
RSS (the constants below say which), so the estimate is calibrated on CPU runs of one model
family and is a plan, not a guarantee, elsewhere.

Shapes come from `models.loading.load_skeleton` (the model on the meta device), lengths from
tokenizing the longest training pairs. `bench/bench_memory.py` checks the estimate against
the measured peak RSS of CPU runs.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, replace
from typing import Any

from summarist.errors import ConfigError

log = logging.getLogger(__name__)

GB = 1024**3
CUDA_CONTEXT = 0.5 * GB  # the CUDA context and cuBLAS workspaces, before any tensor
# Floats kept per token and layer for the backward pass, in units of the hidden size (inputs
# of the norms, projections, residual adds, dropout masks) and of the feed-forward width
# (its input to the activation and the activated output); attention keeps 2 score maps.
PER_TOKEN_HIDDEN = {"encoder": 10, "decoder": 16}
PER_TOKEN_FFN = 2
SCORE_MAPS = 2
LOGIT_COPIES = 3  # logits, log-softmax (fp32) and the gradient of the logits
# Fitted to the measured peak RSS of minilm-bart runs (bench/bench_memory.py, docs/lora.md):
# what the counts above miss (temporaries of the backward pass, allocator slack) scales the
# activations and logits by 1.28, and the allocator and autograd add 0.45 GB on CPU.
MEASURED_SCALE = 1.28
CPU_OVERHEAD = 0.45 * GB
# Measured too: LoRA keeps more, not less (peft's dropout copy of each adapted layer's input
# and the low-rank intermediates come on top of what the frozen layers still keep), and CPU
# bf16 autocast keeps the fp32 inputs of norms and softmax besides the bf16 copies.
LORA_ACTIVATIONS = 1.22
HALF_ACTIVATIONS = 0.91


@dataclass
class MemoryPlan:
    """Estimated peak of one training step, in bytes, by part."""

    weights: float
    gradients: float
    optimizer: float
    activations: float
    logits: float
    baseline: float
    """What the process holds before the load (CPU: its RSS; GPU: tensors allocated)."""
    overhead: float
    """The measured allowance for the allocator (CPU) or the CUDA context (GPU)."""
    available: float | None
    """What the device has for this run (None: unknown, the check is skipped)."""
    device: str
    batch: tuple[int, int, int]
    """(rows, source tokens, target tokens) of the largest forward piece."""

    @property
    def total(self) -> float:
        return (self.weights + self.gradients + self.optimizer + self.activations
                + self.logits + self.baseline + self.overhead)  # fmt: skip

    @property
    def fits(self) -> bool:
        return self.available is None or self.total <= self.available

    def to_dict(self) -> dict[str, Any]:
        out = {
            k: (round(v / GB, 3) if isinstance(v, float) else v) for k, v in asdict(self).items()
        }
        out["batch"] = list(self.batch)
        out["total"] = round(self.total / GB, 3)
        return {f"{k}_gb" if isinstance(out[k], float) else k: v for k, v in out.items()}


@dataclass(frozen=True)
class Shape:
    """What the estimate needs to know about the model."""

    params: int
    trainable: int
    weight_bytes: float
    hidden: int
    ffn: int
    heads: int
    encoder_layers: int
    decoder_layers: int
    vocab: int


def check_memory(cfg: Any, train_split: Any, tags: list[str] | None = None) -> MemoryPlan | None:
    """The plan for `cfg` (a TrainConfig) on this device; a ConfigError when it won't fit.

    `tags`: the split's speaker tags when known (else found here). `--memory-budget-gb 0`
    skips it (None).
    """
    if cfg.memory_budget_gb == 0:
        return None
    from summarist.models.loading import load_skeleton

    skeleton = load_skeleton(cfg.model)
    try:
        shape = model_shape(skeleton, cfg)
    except (StopIteration, AttributeError, TypeError) as err:  # a config of unknown layout
        log.warning("no memory estimate for this model (%s: %s)", type(err).__name__, err)
        return None
    batch = largest_piece(skeleton, cfg, train_split, tags)
    precision, device, available, baseline = device_budget(cfg, skeleton.family)
    plan = estimate(shape, batch, cfg, precision, baseline, available, device)
    # debug: a fitting plan is recorded in config.yaml (resolved.memory_estimate); an info line
    # here would precede the one-line error of a config refused later in setup.
    log.debug("peak memory estimate %.1f GB of %s", plan.total / GB,
             f"{available / GB:.1f} GB" if available else "?")  # fmt: skip
    log.debug("memory plan: %s", plan.to_dict())
    if not plan.fits:
        raise ConfigError(too_big(plan, skeleton, batch, cfg, precision))
    return plan


def model_shape(skeleton: Any, cfg: Any) -> Shape:
    """Parameter counts and layer sizes of a (meta-device) model, with LoRA's trainable count."""
    from summarist.models.lora import count_lora_params, fresh_module_names, resolve_targets

    model = skeleton.model
    params = list(model.parameters())
    total = sum(p.numel() for p in params)
    trainable = total
    if cfg.lora:
        targets = resolve_targets(model, skeleton.family, cfg.lora_targets)
        fresh = [f for f in skeleton.family.fresh_modules if fresh_module_names(model, [f])]
        trainable = count_lora_params(model, targets, fresh, cfg.lora_r)
    c = model.config
    enc = getattr(c, "encoder", c)
    dec = getattr(c, "decoder", c)
    causal = skeleton.family.causal  # one stack over prompt + summary: the "encoder" here

    def get(conf: Any, *names: str) -> int:
        return next(int(getattr(conf, n)) for n in names if getattr(conf, n, None) is not None)

    return Shape(
        params=total, trainable=trainable,
        weight_bytes=float(sum(p.numel() * p.element_size() for p in params)),
        hidden=get(enc, "d_model", "hidden_size"),
        ffn=get(enc, "d_ff", "encoder_ffn_dim", "intermediate_size"),
        heads=get(enc, "num_heads", "encoder_attention_heads", "num_attention_heads"),
        encoder_layers=get(enc, "num_layers", "encoder_layers", "num_hidden_layers"),
        decoder_layers=0 if causal else get(dec, "num_decoder_layers", "decoder_layers",
                                            "num_hidden_layers"),
        vocab=get(dec, "vocab_size"),
    )  # fmt: skip


def largest_piece(
    skeleton: Any, cfg: Any, train_split: Any, tags: list[str] | None = None
) -> tuple[int, int, int]:
    """(rows, source, target) of the largest forward pass: the longest sources, batched and
    split by `--max-batch-tokens` exactly as the loop will."""
    import numpy as np

    from summarist.models.loading import speaker_tags
    from summarist.models.registry import check_source_length
    from summarist.training.collate import split_by_tokens, tokenize_pairs

    tok = skeleton.tokenizer
    if cfg.speaker_tokens:  # the tags become single tokens before training tokenizes
        tags = speaker_tags(train_split.texts) if tags is None else tags
        tok.add_tokens([t for t in tags if len(tok.tokenize(t)) > 1])
    # The longest sources in characters, ties in corpus order (a stable sort, as sorted()).
    lengths = np.asarray(train_split.keys().char_length)
    top = np.argsort(-lengths, kind="stable")[: 4 * cfg.batch_size]
    picked = train_split.take(top, ["text", "summary"])
    texts, summaries = picked.column("text").to_pylist(), picked.column("summary").to_pylist()
    family = skeleton.family
    if family.causal:
        from summarist.models.causal import prepare_tokenizer
        from summarist.models.prompt import PromptBuilder
        from summarist.models.registry import check_context
        from summarist.training.causal import tokenize_causal_pairs

        prepare_tokenizer(tok, family, cfg.model)
        length = check_context(cfg.max_source_length, cfg.max_target_length,
                               skeleton.model.config, family)  # fmt: skip
        examples = tokenize_causal_pairs(
            texts, summaries, tok, PromptBuilder(tok, cfg.prompt, family),
            max_source_length=length, max_target_length=cfg.max_target_length,
        )  # fmt: skip
    else:
        prefix = cfg.prefix if cfg.prefix is not None else family.prefix
        source_length = check_source_length(cfg.max_source_length, skeleton.model.config, family)
        examples = tokenize_pairs(
            tok, texts, summaries, prefix=prefix, max_source_length=source_length,
            max_target_length=cfg.max_target_length,
            decoder_start_token_id=skeleton.model.config.decoder_start_token_id,
        )  # fmt: skip
    longest = sorted(range(len(examples)), key=lambda i: -len(examples[i].input_ids))
    batch = longest[: cfg.batch_size]
    pieces = split_by_tokens(batch, examples, cfg.max_batch_tokens, count_labels=not family.causal)

    def size(piece: list[int]) -> tuple[int, int, int]:
        src = max(len(examples[i].input_ids) for i in piece)
        return len(piece), src, max(len(examples[i].labels) for i in piece)

    return max((size(p) for p in pieces), key=lambda s: s[0] * (s[1] + s[2]))


def device_budget(cfg: Any, family: Any) -> tuple[str, str, float | None, float]:
    """(precision, device name, bytes available to the run, bytes the process holds now)."""
    import torch

    from summarist.training.runtime import auto_precision

    cuda = torch.cuda.is_available()
    precision = auto_precision(cuda) if cfg.precision == "auto" else cfg.precision
    if cuda:
        free, _ = torch.cuda.mem_get_info()
        baseline, device = float(torch.cuda.memory_allocated()), torch.cuda.get_device_name()
        available = float(free)
    else:
        import psutil

        baseline = float(psutil.Process().memory_info().rss)
        available = float(psutil.virtual_memory().available) + baseline
        device = "CPU RAM"
    if cfg.memory_budget_gb:
        available = cfg.memory_budget_gb * GB
    return precision, device, available, baseline


def estimate(
    shape: Shape, batch: tuple[int, int, int], cfg: Any, precision: str,
    baseline: float, available: float | None = None, device: str = "CPU RAM",
) -> MemoryPlan:  # fmt: skip
    """The plan for `shape` training on `batch` with `cfg`'s LoRA/checkpointing/precision."""
    rows, src, tgt = batch
    half = precision in ("bf16", "fp16")
    weights = shape.weight_bytes + (2.0 * shape.trainable if half else 0.0)
    act_bytes = 4.0 * (HALF_ACTIVATIONS if half else 1.0) * MEASURED_SCALE
    h, f, heads = shape.hidden, shape.ffn, shape.heads
    enc_token = PER_TOKEN_HIDDEN["encoder"] * h + PER_TOKEN_FFN * f + SCORE_MAPS * heads * src
    dec_token = (PER_TOKEN_HIDDEN["decoder"] * h + PER_TOKEN_FFN * f
                 + SCORE_MAPS * heads * (src + tgt))  # fmt: skip
    enc_layer, dec_layer = rows * src * enc_token, rows * tgt * dec_token
    if cfg.gradient_checkpointing:  # each layer's input, and one layer recomputed at a time
        kept = rows * h * (src * shape.encoder_layers + tgt * shape.decoder_layers)
        floats = kept + max(enc_layer, dec_layer)
    else:
        floats = enc_layer * shape.encoder_layers + dec_layer * shape.decoder_layers
    if cfg.lora:
        floats *= LORA_ACTIVATIONS
    logits = float(rows * tgt * shape.vocab * 4 * LOGIT_COPIES) * MEASURED_SCALE
    overhead = CUDA_CONTEXT if device != "CPU RAM" else CPU_OVERHEAD
    return MemoryPlan(
        weights=weights, gradients=4.0 * shape.trainable, optimizer=8.0 * shape.trainable,
        activations=floats * act_bytes, logits=logits, baseline=baseline, overhead=overhead,
        available=available, device=device, batch=batch,
    )  # fmt: skip


def too_big(plan: MemoryPlan, skeleton: Any, batch: tuple[int, int, int], cfg: Any,
            precision: str) -> str:  # fmt: skip
    """The one-line error: how much is missing and which levers (each re-estimated) fit."""
    assert plan.available is not None
    short = (plan.total - plan.available) / GB
    levers = []
    rows, src, tgt = batch

    def lever(label: str, precision: str = precision, **changes: Any) -> None:
        new_cfg = replace(cfg, **changes)
        try:
            shape = model_shape(skeleton, new_cfg)
        except ConfigError:  # e.g. --lora on a family with no default targets
            return
        new_batch = (min(rows, new_cfg.batch_size), src, tgt)
        p = estimate(shape, new_batch, new_cfg, precision, plan.baseline, plan.available,
                     plan.device)  # fmt: skip
        levers.append(f"{label} ({p.total / GB:.1f} GB{'' if p.fits else ', still too much'})")

    if not cfg.lora:
        lever("--lora", lora=True)
    if cfg.batch_size > 1:
        small = max(1, cfg.batch_size // 4)
        accum = cfg.grad_accum * cfg.batch_size // small
        lever(f"--batch-size {small} --grad-accum {accum}", batch_size=small, grad_accum=accum)
    if not cfg.gradient_checkpointing:
        lever("--gradient-checkpointing", gradient_checkpointing=True)
    if precision == "fp32":
        lever("--precision bf16", precision="bf16")
    if len(levers) > 1:
        small = max(1, cfg.batch_size // 4)
        lever("all of these together", "bf16", lora=True, gradient_checkpointing=True,
              batch_size=small, grad_accum=cfg.grad_accum * cfg.batch_size // small)  # fmt: skip
    return (
        f"training needs about {plan.total / GB:.1f} GB at its peak but {plan.device} has "
        f"{plan.available / GB:.1f} GB: {short:.1f} GB short (weights {plan.weights / GB:.1f}, "
        f"gradients and optimizer {(plan.gradients + plan.optimizer) / GB:.1f}, activations "
        f"and logits {(plan.activations + plan.logits) / GB:.1f} GB)"
        f"; try {', '.join(levers) or 'a smaller model'}, or --memory-budget-gb to plan "
        "against another amount (0 skips the check)"
    )
