"""Terminal tables for metrics.json and comparisons (rich, imported lazily)."""

from __future__ import annotations

from typing import Any


def render_metrics(metrics: dict[str, Any]) -> Any:
    """A rich Table of a metrics.json: per split, F1 [95% CI], precision and recall."""
    from rich.table import Table

    table = Table(title=f"{metrics.get('kind', '')} {metrics.get('name', '')}".strip())
    for col in ("split", "system", "metric", "F1", "95% CI", "P", "R"):
        table.add_column(col, justify="right" if col in ("F1", "P", "R") else "left")
    for split, m in (metrics.get("splits") or {}).items():
        systems = {"this run": m.get("rouge") or {}, **(m.get("baselines") or {})}
        for system, rouge in systems.items():
            for rt, stats in rouge.items():
                f = stats["fmeasure"]
                table.add_row(
                    split,
                    system,
                    rt,
                    f"{f['mid']:.2f}",
                    f"[{f['low']:.2f}, {f['high']:.2f}]",
                    f"{stats['precision']['mid']:.2f}",
                    f"{stats['recall']['mid']:.2f}",
                )
        settings = m.get("rouge_settings") or {}
        table.caption = ", ".join(f"{k}={v}" for k, v in settings.items())
    return table


def render_comparison(result: dict[str, Any]) -> Any:
    """A rich Table of `compare_runs` output."""
    from rich.table import Table

    table = Table(
        title=f"A = {result['a']}  vs  B = {result['b']}  ({result['split']}, n={result['n']})"
    )
    for col in ("metric", "A", "B", "A-B", "95% CI", "p"):
        table.add_column(col, justify="left" if col == "metric" else "right")
    for rt, r in result["rouge"].items():
        table.add_row(
            rt,
            f"{r['a']:.2f}",
            f"{r['b']:.2f}",
            f"{r['diff']:+.2f}",
            f"[{r['low']:+.2f}, {r['high']:+.2f}]",
            f"{r['p_value']:.3f}",
        )
    table.caption = result["p_value"]
    return table
