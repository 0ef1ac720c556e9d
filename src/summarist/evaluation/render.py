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
        distinct = (m.get("diagnostics") or {}).get("distinct_share")
        if distinct is not None:
            table.caption += f"; {split}: {100 * distinct:.0f}% of predictions distinct"
    from rich.console import Group

    parts: list[Any] = [table]
    parts += [t for split, m in (metrics.get("splits") or {}).items()
              if (t := render_faithfulness(split, m)) is not None]  # fmt: skip
    failed = render_failures(metrics)  # texts an external system failed: last, in red
    warnings = render_warnings(metrics)
    if warnings is not None:
        parts = [warnings, *parts, warnings]
    if failed is not None:
        parts.append(failed)
    return parts[0] if len(parts) == 1 else Group(*parts)


# The columns of the console's faithfulness table (all figures are in metrics.json).
SHOWN_FIGURES = ("prec_s", "prec_t", "recall_t", "num_prec_s", "unsupported_entity",
                 "unsupported_number", "novel_2", "repeated_2")  # fmt: skip


def render_faithfulness(split: str, m: dict[str, Any]) -> Any:
    """A rich Table of one split's faithfulness block (None when the split has none)."""
    block = m.get("faithfulness")
    if not block:
        return None
    from rich.table import Table

    from summarist.metrics.faithfulness import FIGURES

    table = Table(title=f"faithfulness on {split} (0-100: mean, 95% CI, examples defined)")
    table.add_column("figure", no_wrap=True)
    systems = {"this run": block, **(block.get("baselines") or {})}
    if block.get("references"):
        systems["references"] = block["references"]
    for system in systems:
        table.add_column(system, justify="right")
    for name in SHOWN_FIGURES:
        cells = [_figure_cell(entry["figures"].get(name) or {}) for entry in systems.values()]
        table.add_row(f"{name}\n{FIGURES[name][0]}", *cells)
    method = block.get("method") or {}
    counts = block.get("counts") or {}
    table.caption = (
        f"entities: {method.get('label', '?')}; {counts.get('summary_entities', 0)} entities "
        f"and {counts.get('numbers', 0)} numbers in this run's summaries, "
        f"{counts.get('summaries_without_entities', 0)} summaries without entities (no prec_s). "
        + "".join(f"NOTE: {n}. " for n in block.get("notes") or [])
        + str(block.get("definitions", ""))
    )
    return table


def _figure_cell(f: dict[str, Any]) -> str:
    if f.get("mid") is None:
        return "—"
    return f"{f['mid']:.1f} (n={f['n']})\n[{f['low']:.1f}, {f['high']:.1f}]"


def render_failures(metrics: dict[str, Any], shown: int = 50) -> Any:
    """A table of the texts an external system failed (metrics.json `system.failures`), or None."""
    rows = [(split, f) for split, m in (metrics.get("splits") or {}).items()
            for f in ((m or {}).get("system") or {}).get("failures") or []]  # fmt: skip
    if not rows:
        return None
    from rich.table import Table

    system = next(iter((metrics.get("splits") or {}).values()))["system"]
    table = Table(
        title=f"{len(rows)} failed examples, left out of the scores (scored: {system['answered']} "
        f"of {system['texts']}); a rerun asks only these",
        title_style="bold red",
    )
    for col in ("split", "example", "error"):
        table.add_column(col)
    for split, f in rows[:shown]:
        table.add_row(split, str(f["id"]), f["error"])
    if len(rows) > shown:
        table.caption = f"first {shown} of {len(rows)}; metrics.json lists all"
    return table


def degenerate_messages(metrics: dict[str, Any]) -> list[str]:
    """One line per split whose predictions were flagged as degenerate (metrics.json)."""
    out = []
    for split, m in (metrics.get("splits") or {}).items():
        verdict = m.get("degenerate") or {}
        if verdict.get("flagged"):
            out.append(f"{split}: {verdict['message']}")
    return out


def render_warnings(metrics: dict[str, Any]) -> Any:
    """A red panel with the degenerate-output warnings, or None when there are none."""
    messages = degenerate_messages(metrics)
    if not messages:
        return None
    from rich.panel import Panel

    return Panel("\n".join(messages), title="WARNING", border_style="bold red", style="red")


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
    for name, r in (result.get("faithfulness") or {}).items():
        if r.get("diff") is None:
            continue
        table.add_row(f"{name} (n={r['n']})", f"{r['a']:.2f}", f"{r['b']:.2f}",
                      f"{r['diff']:+.2f}", f"[{r['low']:+.2f}, {r['high']:+.2f}]",
                      f"{r['p_value']:.3f}")  # fmt: skip
    if result.get("faithfulness"):
        table.caption += f"; faithfulness figures 0-100, entities: {result['faithfulness_method']}"
    return table
