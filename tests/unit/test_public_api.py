"""The public API: `summarist.__all__` pinned, every entry point documented with an example,
and `import summarist` light (no torch until a name that needs it is used)."""

from __future__ import annotations

import inspect
import subprocess
import sys

import summarist

PUBLIC = [
    "SummaristError", "__version__",
    "Summarizer", "SummaryBatch", "GenerationSettings", "DataConfig", "TrainConfig",
    "load_train_config", "train", "resume", "EvaluateConfig", "ScoringConfig", "evaluate",
    "CompareModelsConfig", "compare_models", "CompareRunsConfig", "compare_runs",
]  # fmt: skip
ENTRY_POINTS = ["Summarizer", "load_train_config", "train", "resume", "evaluate",
                "compare_models", "compare_runs"]  # fmt: skip


def test_all_is_pinned_and_every_name_resolves() -> None:
    assert summarist.__all__ == PUBLIC
    for name in PUBLIC:
        assert getattr(summarist, name) is not None, name
    exec("from summarist import *", {})


def test_entry_points_have_docstrings_with_an_example() -> None:
    for name in ENTRY_POINTS:
        doc = inspect.getdoc(getattr(summarist, name)) or ""
        assert ">>>" in doc, f"summarist.{name} has no >>> example"


def test_import_summarist_loads_no_torch() -> None:
    code = "import sys, summarist; print('torch' in sys.modules, 'transformers' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
