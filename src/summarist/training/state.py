"""`TrainingRun`: everything `setup()` resolved for one training run, passed through fit and finish.

Its own module so that the loop (`training.loop`), the end of the run (`training.final`) and the
model writer (`training.save`) share one typed object without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from summarist.baselines.constant import ConstantSummary
from summarist.config.generation import GenerationSettings
from summarist.config.train import TrainConfig
from summarist.data.corpus import Split
from summarist.data.tokens import TokenStore
from summarist.models.loading import LoadedModel
from summarist.models.lora import LoraSummary
from summarist.models.prompt import PromptBuilder
from summarist.training.memory import MemoryPlan
from summarist.training.runtime import Runtime
from summarist.training.streamed import StreamedTrainSet


@dataclass
class TrainingRun:
    """One run's settings as resolved, its data, model and runtime (built by `loop.setup`)."""

    cfg: TrainConfig
    run_dir: Path
    loaded: LoadedModel
    runtime: Runtime
    train_split: Split
    eval_split: Split | None
    """The validation split evaluation during training samples from (None: no evaluation)."""
    examples: TokenStore | StreamedTrainSet
    """The training split, tokenized (mapped from the data cache), or streamed (`--streaming`)."""
    settings: GenerationSettings
    """Generation as resolved (max_new_tokens from the references' p99 unless given)."""
    prefix: str
    total_steps: int
    eval_every: int
    save_every: int
    added_tokens: list[str] = field(default_factory=list)
    splits: dict[str, Split] = field(default_factory=dict)
    """The splits of the final evaluation, by name."""
    constant: ConstantSummary | None = None
    """The constant baseline, chosen once from the training split (`final.training_constant`)."""
    trained: Any = None
    """The model as the runtime wrapped it for training (a torch DDP/FSDP/DeepSpeed module),
    set by fit."""
    lora: LoraSummary | None = None
    """What `--lora` adapts, None for full fine-tuning."""
    memory: MemoryPlan | None = None
    """The pre-load estimate of peak training memory."""
    prompt: PromptBuilder | None = None
    """A decoder-only model's prompt builder (None for seq2seq, which uses `prefix`)."""
