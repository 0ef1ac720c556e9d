"""summarist: fine-tune, evaluate and run summarization models with one reliable command.

The public API (`__all__`, pinned by a test) is imported lazily: `import summarist` stays fast
and loads torch and transformers only when a name that needs them is first used.

>>> from summarist import Summarizer  # doctest: +SKIP
>>> Summarizer.from_pretrained("runs/dialogsum").summarize(["#Person1#: Hi ..."])  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import Any

from summarist.errors import SummaristError

__version__ = "0.1.0"

# Public name -> (module, attribute).
_LAZY: dict[str, tuple[str, str]] = {
    "Summarizer": ("summarist.inference.summarizer", "Summarizer"),
    "SummaryBatch": ("summarist.inference.summarizer", "SummaryBatch"),
    "GenerationSettings": ("summarist.config.generation", "GenerationSettings"),
    "DataConfig": ("summarist.config.data", "DataConfig"),
    "TrainConfig": ("summarist.config.train", "TrainConfig"),
    "load_train_config": ("summarist.config.train", "load_train_config"),
    "train": ("summarist.training.loop", "train"),
    "resume": ("summarist.training.loop", "resume_run"),
    "EvaluateConfig": ("summarist.evaluation.workflows", "EvaluateConfig"),
    "ScoringConfig": ("summarist.evaluation.scoring", "ScoringConfig"),
    "evaluate": ("summarist.evaluation.workflows", "run_evaluate"),
    "CompareModelsConfig": ("summarist.model_comparison", "CompareModelsConfig"),
    "compare_models": ("summarist.model_comparison", "compare_models"),
    "CompareRunsConfig": ("summarist.evaluation.run_comparison", "CompareRunsConfig"),
    "compare_runs": ("summarist.evaluation.run_comparison", "compare_runs"),
}

__all__ = ["SummaristError", "__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'summarist' has no attribute '{name}'")
    module, attr = _LAZY[name]
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value  # once: later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
