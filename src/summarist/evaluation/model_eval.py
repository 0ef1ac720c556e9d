"""Evaluating a model on a split: generate, the swap probe, score next to baselines, the verdict.

The one path for every place a model meets references: evaluation during training (greedy, no
bootstrap), a training run's final evaluation (beam search, per split), `compare --data` (each
model) and `evaluate --system` (an OpenAI-compatible endpoint). The model comes in as a
`generate` callable, so this module needs neither training nor a particular backend: a training
run passes its rank-sharded decoder, `compare` a `Summarizer`'s, an endpoint its client's.

An external system may fail a text (after its retries): its `generate` gives None for it. Such a
text is left out of the scores, never scored as an empty summary; `SplitEvaluation.failed`
names it, and the split scored is the answered examples.

>>> def echo(texts):  # a "model" that copies its input
...     return list(texts), [len(t.split()) for t in texts]
>>> from summarist.data.corpus import Split
>>> split = Split("test", ["a cat sat", "a dog ran"], [["a cat"], ["a dog"]])
>>> got = evaluate_split(echo, split, ScoringConfig(bootstrap=0), max_new_tokens=8)
>>> got.metrics["n"], got.rows[0]["prediction"], got.hit_cap_share
(2, 'a cat sat', 0.0)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from summarist.baselines.constant import ConstantSummary
from summarist.config.generation import hit_cap, warn_if_capped
from summarist.data.corpus import Split
from summarist.errors import SummaristError
from summarist.evaluation.scoring import ScoringConfig, score_with_baselines
from summarist.metrics.degenerate import swap_plan, swap_probe

Generate = Callable[[list[str]], tuple[list[str | None], list[int]]]
"""Texts -> (summaries, new-token counts), both in input order; None: the text got no answer."""


@dataclass
class SplitEvaluation:
    """What `evaluate_split` found: the split's `SplitMetrics` and its predictions.jsonl rows."""

    metrics: dict[str, Any]
    rows: list[dict[str, Any]]
    hit_cap_share: float
    """Share of outputs that used the whole `max_new_tokens` budget."""
    failed: list[int] = field(default_factory=list)
    """Positions in the split of the texts that got no answer (left out of the scores)."""


def evaluate_split(
    generate: Generate,
    split: Split,
    scoring: ScoringConfig,
    *,
    max_new_tokens: int,
    baselines: Sequence[str] = (),
    constant: ConstantSummary | None = None,
    swap_seed: int = 0,
    generated: tuple[list[str | None], list[int]] | None = None,
    warn_where: str | None = None,
    main_rank: bool = True,
    systems: dict[str, Generate] | None = None,
) -> SplitEvaluation | None:
    """Generate for `split`, run the swap probe, score next to `baselines` and `constant`.

    Args:
        generate: the model (see `Generate`); called for the split's texts, then for the swap
            probe's few texts (another example's source each, `metrics.degenerate.swap_plan`).
        max_new_tokens: the budget the model generated with (for the hit-the-cap flags).
        swap_seed: which examples the swap probe draws.
        generated: the model's outputs for the split's texts when already at hand (the first
            `generate` call is then skipped).
        warn_where: log a warning naming this place when more than 5% of outputs hit the cap.
        main_rank: False on the other ranks of a launch: they generate (every rank decodes its
            shard, a collective) and return None; the main rank scores.
        systems: other models to generate for the same texts, scored beside as baselines with
            a paired bootstrap of this model minus each (the zero-shot base of a fine-tune).
    """
    texts = list(split.texts)
    got, counts = generated if generated is not None else generate(texts)
    failed = [i for i, p in enumerate(got) if p is None]
    if failed:  # a system failed these texts: score the others
        answered = [i for i, p in enumerate(got) if p is not None]
        if not answered:
            raise SummaristError(
                f"none of the {len(texts)} texts of {split.name} was answered",
                "see the errors above; a rerun asks only what failed",
            )
        split, counts = split.select(answered), [counts[i] for i in answered]
        texts = list(split.texts)
    preds = [p for p in got if p is not None]
    plan = swap_plan(texts, seed=swap_seed)
    swapped, _ = generate([texts[donor] for _, donor in plan]) if plan else ([], [])
    others = {name: fn(texts)[0] for name, fn in (systems or {}).items()}
    if not main_rank:
        return None
    probe = [(pair, s) for pair, s in zip(plan, swapped, strict=True) if s is not None]
    capped = hit_cap(counts, max_new_tokens)
    if warn_where is not None:
        share = warn_if_capped(capped, max_new_tokens, where=warn_where)
    else:
        share = float(sum(capped)) / len(capped) if capped else 0.0
    metrics, rows = score_with_baselines(
        preds, split, scoring, baselines, hit_cap=capped, new_tokens=counts, constant=constant,
        swap_probe=swap_probe(preds, [p for p, _ in probe], [s for _, s in probe]),
        systems=others,
    )  # fmt: skip
    return SplitEvaluation(metrics, rows, share, failed)
