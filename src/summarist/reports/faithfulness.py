"""The report's faithfulness parts: figures per system, marked summaries, paired tests.

Everything is read from metrics.json (`faithfulness` of a split) and predictions.jsonl (each
row's `faithfulness`: figures, entities and numbers with `in_source` and `source_span`), so the
report needs neither spaCy nor the scoring code.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from summarist.metrics.faithfulness import FIGURES
from summarist.reports.html import data_attrs, esc, fmt, fmt_ci, note, table
from summarist.reports.load import Run, split_order

SNIPPET = 60  # characters of source context either side of a supporting span, in tooltips


def _row_systems(block: dict[str, Any], label: str) -> dict[str, dict[str, Any]]:
    systems = {
        label: block,
        **{f"baseline: {k}": v for k, v in (block.get("baselines") or {}).items()},
    }
    if block.get("references"):
        systems["references (as summaries)"] = block["references"]
    return systems


def tables(runs: list[Run]) -> str:
    """Per run and split: each figure (mean, 95% CI, examples defined) for the run and beside it
    its baselines and the references; the method and the definitions under it."""
    parts = []
    for run in runs:
        for split, entry in sorted(((run.metrics or {}).get("splits") or {}).items(),
                                   key=lambda kv: split_order(kv[0])):  # fmt: skip
            block = entry.get("faithfulness") if isinstance(entry, dict) else None
            if not block:
                continue
            systems = _row_systems(block, "model")
            head = f"{run.name}, split {split}" if len(runs) > 1 else f"split {split}"
            rows = []
            for name, (label, what, better) in FIGURES.items():
                cells = []
                for system, sblock in systems.items():
                    f = (sblock.get("figures") or {}).get(name) or {}
                    attrs = data_attrs(run=run.name, split=split, system=system, figure=name,
                                       mid=f.get("mid"), n=f.get("n"))  # fmt: skip
                    text = (
                        "—"
                        if f.get("mid") is None
                        else f'{fmt_ci(f)}<br><span class="ci">n={fmt(f.get("n"))}</span>'
                    )
                    cells.append(f'<td class="num"{attrs}>{text}</td>')
                arrow = {"higher": " ↑", "lower": " ↓"}.get(better, "")
                rows.append(f'<tr><td><code>{esc(name)}</code> {esc(label)}{arrow}'
                            f'<div class="ci">{esc(what)}</div></td>{"".join(cells)}</tr>')  # fmt: skip
            method = block.get("method") or {}
            counts = block.get("counts") or {}
            parts.append(f"<h3>Faithfulness ({esc(head)})</h3>")
            parts.append(table(["figure (0-100)", *systems], rows))
            parts.append(
                f'<p class="muted">Entities: {esc(method.get("label", "?"))}'
                f"{'; types ' + esc(', '.join(method['entity_types'])) if method.get('entity_types') else ''}. "
                f"{fmt(counts.get('summary_entities'))} entities and {fmt(counts.get('numbers'))} "
                f"numbers in the model's summaries; {fmt(counts.get('summaries_without_entities'))} "
                f"summaries name no entity (no prec_s). {esc(block.get('definitions', ''))}</p>"
            )
            parts.extend(note(n) for n in block.get("notes") or [])
    return "".join(parts)


def unsupported_count(row: dict[str, Any]) -> int:
    f = row.get("faithfulness") or {}
    return sum(not e.get("in_source") for e in f.get("entities") or []) + sum(
        not m.get("in_source") for m in f.get("numbers") or []
    )


def pick_unsupported(rows: list[dict[str, Any]], k: int = 3) -> list[dict[str, Any]]:
    """The k examples with the most entities/numbers their sources do not support."""
    flagged = [r for r in rows if unsupported_count(r)]
    return sorted(flagged, key=lambda r: (-unsupported_count(r), str(r.get("index"))))[:k]


def _snippet(source: str, span: list[int]) -> str:
    a, b = span
    left, right = source[max(0, a - SNIPPET) : a], source[b : b + SNIPPET]
    return " ".join(f"…{left}[{source[a:b]}]{right}…".split())


def marked(text: str, items: list[tuple[int, int, str, str]]) -> str:
    """`text` escaped, with `<mark class=CLS title=TITLE>` around each (start, end, cls, title);
    overlapping items after the first are dropped."""
    out, pos = [], 0
    for start, end, cls, title in sorted(items):
        if start < pos or end > len(text) or start >= end:
            continue
        out.append(esc(text[pos:start]))
        out.append(f'<mark class="{cls}" title="{esc(title)}">{esc(text[start:end])}</mark>')
        pos = end
    out.append(esc(text[pos:]))
    return "".join(out)


def example_block(row: dict[str, Any]) -> str:
    """The prediction against its source: unsupported entities and numbers marked red, the
    supported ones green with the source span in their tooltip; a list of both under it."""
    f = row.get("faithfulness")
    if not f:
        return ""
    prediction, source = str(row.get("prediction") or ""), str(row.get("source") or "")
    items, lines = [], []
    for kind, found in (("entity", f.get("entities") or []), ("number", f.get("numbers") or [])):
        for e in found:
            what = e.get("label") if kind == "entity" else f"{e.get('kind')} {e.get('value')}"
            if e.get("in_source") and e.get("source_span"):
                title = f"{kind} {what}; in the source: {_snippet(source, e['source_span'])}"
                items.append((e["start"], e["end"], "sup", title))
            else:
                items.append((e["start"], e["end"], "unsup", f"{kind} {what}: not in the source"))
                lines.append(f'<li><mark class="unsup">{esc(e["text"])}</mark> ({esc(kind)}, '
                             f"{esc(what)}): not found in the source</li>")  # fmt: skip
    if not items:
        return ""
    figures = " · ".join(
        f"{k} {fmt(f.get(k))}" for k in ("prec_s", "num_prec_s") if f.get(k) is not None
    )
    listing = f'<ul class="unsup-list">{"".join(lines)}</ul>' if lines else ""
    return (
        f'<div class="label">Against the source{" (" + esc(figures) + ")" if figures else ""}</div>'
        f'<div class="text faith"{data_attrs(unsupported=unsupported_count(row))}>'
        f"{marked(prediction, items)}</div>{listing}"
    )


def source_marks(row: dict[str, Any], cut: int) -> list[tuple[int, int, str, str]]:
    """The source spans that support the prediction's entities and numbers (within `cut`)."""
    f = row.get("faithfulness") or {}
    out = []
    for e in [*(f.get("entities") or []), *(f.get("numbers") or [])]:
        span = e.get("source_span")
        if span and span[1] <= cut:
            out.append((span[0], span[1], "sup", f"supports “{e['text']}” in the prediction"))
    return out


def paired(rows_a: list[dict[str, Any]], rows_b: list[dict[str, Any]], name: str) -> str:
    """B - A per figure on the examples both runs scored and both define, paired bootstrap."""
    from summarist.metrics import paired_bootstrap
    from summarist.reports.analysis import aligned_pairs

    pairs, _ = aligned_pairs(rows_a, rows_b)
    pairs = [(a, b) for a, b in pairs if a.get("faithfulness") and b.get("faithfulness")]
    body = []
    for figure in FIGURES:
        both = [(a["faithfulness"].get(figure), b["faithfulness"].get(figure)) for a, b in pairs]
        kept = np.array([(x, y) for x, y in both if x is not None and y is not None], dtype=float)
        if len(kept) < 2:
            continue
        res = paired_bootstrap(kept[:, 1], kept[:, 0], n_resamples=1000, seed=0)
        d, lo, hi, p = (float(res[k][0]) for k in ("diff", "low", "high", "p_value"))
        cls = "up" if lo > 0 else "down" if hi < 0 else ""
        body.append(
            f"<tr{data_attrs(compare=name, figure=figure, diff=round(d, 4), p=round(p, 4))}>"
            f'<td><code>{esc(figure)}</code></td><td class="num">{len(kept):,}</td>'
            f'<td class="num">{kept[:, 0].mean():.1f}</td><td class="num">{kept[:, 1].mean():.1f}</td>'
            f'<td class="num {cls}">{d:+.2f}</td><td class="num">{lo:+.2f} – {hi:+.2f}</td>'
            f'<td class="num">{"< 0.001" if p < 0.001 else f"{p:.3f}"}</td></tr>'
        )
    if not body:
        return ""
    return (
        '<p class="muted">Faithfulness figures (0-100), paired the same way on the examples where '
        "both runs define the figure (n). Whether higher is better depends on the figure "
        "(see the Metrics section).</p>"
        + table(["figure", "n", "A", "B", "B − A", "95% CI", "p"], body, numeric_from=1)
    )


def note_without(runs: list[Run]) -> str:
    """A note when no run has faithfulness figures (older runs, --no-faithfulness)."""
    has = any(isinstance(e, dict) and e.get("faithfulness")
              for r in runs for e in ((r.metrics or {}).get("splits") or {}).values())  # fmt: skip
    return "" if has else note("No faithfulness figures in these runs (scored with "
                               "--no-faithfulness or before they existed); `summarist evaluate "
                               "RUN_DIR` re-scores a run with them.")  # fmt: skip
