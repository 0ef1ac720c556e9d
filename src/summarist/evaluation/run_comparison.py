"""Paired comparison of two runs on the same examples (`summarist evaluate --compare A B`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from summarist import rundir
from summarist.errors import DataError
from summarist.evaluation.run_io import default_split, read_run_rows, split_for_rows
from summarist.evaluation.scoring import ScoringConfig, compare_scores, scoring_kwargs
from summarist.metrics import compute_rouge

__all__ = ["CompareRunsConfig", "compare_runs", "compare_scores"]


@dataclass
class CompareRunsConfig:
    """`summarist evaluate --compare RUN_A RUN_B`."""

    run_a: Path
    run_b: Path
    split: str | None = None
    scoring: ScoringConfig = field(default_factory=ScoringConfig)
    output_dir: Path | None = None


def _pick_common_split(a: dict[str, Any], b: dict[str, Any], wanted: str | None) -> str:
    common = [s for s in a if s in b]
    if wanted is not None:
        if wanted not in common:
            raise DataError(
                f"split '{wanted}' is not in both runs",
                f"common splits: {', '.join(common) or 'none'}",
            )
        return wanted
    if not common:
        raise DataError("the two runs share no split", "compare runs scored on the same data")
    return default_split(common) if len(common) > 1 else common[0]


def compare_runs(cfg: CompareRunsConfig) -> dict[str, Any]:
    """Paired bootstrap between two runs on the same examples (re-scored with the same settings).

    The p-value is two-sided: twice the share of resamples in which the difference has the
    opposite sign of (or equals zero unlike) the observed one, capped at 1.

    >>> from summarist import CompareRunsConfig, compare_runs
    >>> compare_runs(CompareRunsConfig(Path("runs/a"), Path("runs/b")))["split"]  # doctest: +SKIP
    'test'
    """
    rows_a, rows_b = read_run_rows(cfg.run_a), read_run_rows(cfg.run_b)
    name = _pick_common_split(rows_a, rows_b, cfg.split)
    a, b = rows_a[name], rows_b[name]
    idx_a = [r.get("index") for r in a]
    if idx_a != [r.get("index") for r in b]:
        raise DataError(
            f"runs have different examples in split '{name}' ({len(a)} vs {len(b)} rows)",
            "compare runs evaluated on the same split with the same data settings",
        )
    split_a, split_b = split_for_rows(cfg.run_a, name, a), split_for_rows(cfg.run_b, name, b)
    if split_a.references != split_b.references:
        raise DataError(
            f"runs have different references in split '{name}'",
            "compare runs evaluated on the same data",
        )
    kw = scoring_kwargs(cfg.scoring)
    kw["bootstrap"] = 0
    refs = [list(r) for r in split_a.references]
    res_a = compute_rouge([str(r.get("prediction") or "") for r in a], refs, **kw)
    res_b = compute_rouge([str(r.get("prediction") or "") for r in b], refs, **kw)
    result = {
        "a": str(cfg.run_a),
        "b": str(cfg.run_b),
        "split": name,
        "n": len(a),
        "rouge_settings": {**res_a.settings(), "bootstrap": cfg.scoring.bootstrap},
        "p_value": "two-sided paired bootstrap: 2 x share of resamples where a-b flips sign",
        "rouge": compare_scores(
            res_a.fmeasure(),
            res_b.fmeasure(),
            bootstrap=cfg.scoring.bootstrap,
            confidence=cfg.scoring.confidence,
            seed=cfg.scoring.seed,
        ),
    }
    if cfg.scoring.faithfulness:
        result.update(compare_faithfulness(split_a, a, b, cfg.scoring))
    if cfg.output_dir is not None:
        rundir.write_json(Path(cfg.output_dir) / "comparison.json", result)
    return result


def compare_faithfulness(
    split: Any, a: list[dict[str, Any]], b: list[dict[str, Any]], scoring: ScoringConfig
) -> dict[str, Any]:
    """Both runs' faithfulness re-scored together (one pass over the sources, same method),
    then a paired bootstrap per figure on the examples where both define it."""
    from summarist.evaluation.faithfulness import compare_figures, score_systems

    if not any(str(t).strip() for t in split.texts):
        return {}  # predictions files without sources: nothing to check against
    method, records = score_systems(
        split,
        {"a": [str(r.get("prediction") or "") for r in a],
         "b": [str(r.get("prediction") or "") for r in b]},
        scoring, detailed=(),
    )  # fmt: skip
    figures = compare_figures(records["a"], records["b"], bootstrap=scoring.bootstrap,
                              confidence=scoring.confidence, seed=scoring.seed)  # fmt: skip
    return {"faithfulness": figures, "faithfulness_method": method.label()}
