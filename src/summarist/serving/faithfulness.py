"""Faithfulness figures on request (`"faithfulness": true` in /v1/summarize and /v1/compare).

The same figures as `summarist evaluate` (`summarist.metrics.faithfulness`, default scoring
settings: spaCy NER when installed, else the capitalised-span rule), computed in a worker
thread; one lock, because a spaCy pipeline is not meant to be shared by threads at once.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

_LOCK = threading.Lock()


def check(
    sources: Sequence[str],
    systems: Mapping[str, Sequence[str]],
    references: Sequence[Sequence[str]] | None = None,
) -> tuple[str, dict[str, list[dict[str, Any]]]]:
    """(method label, per system the per-example figures with their entities and numbers)."""
    from summarist.evaluation.faithfulness import method_for
    from summarist.evaluation.scoring import ScoringConfig
    from summarist.metrics.faithfulness import per_example_figures, score_faithfulness

    refs = references if references is not None else [[] for _ in sources]
    with _LOCK:
        method = method_for(ScoringConfig(bootstrap=0), list(sources))
        records = score_faithfulness(sources, refs, systems, method, no_reference=())
    out = {name: [per_example_figures(r) for r in recs] for name, recs in records.items()}
    return method.label(), out
