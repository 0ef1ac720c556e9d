"""One function per report section; each returns HTML and replaces missing data with a note."""

from __future__ import annotations

from typing import Any

import numpy as np

from summarist import rundir
from summarist.reports import analysis, plots
from summarist.reports import faithfulness as faith
from summarist.reports.analysis import LABELS, ROUGE_KEYS, first_reference, word_count
from summarist.reports.html import (
    data_attrs,
    esc,
    fmt,
    fmt_ci,
    highlight_overlap,
    image,
    note,
    table,
)
from summarist.reports.load import Run, split_order

SOURCE_CHARS = 4000  # longer sources are cut in the example cards (the page stays small)
SYSTEM_LABELS = {"train": "fine-tuned model", "evaluate": "model", "baseline": "baseline run"}
NO_PLOTS = "matplotlib is not installed, so figures are left out (pip install 'summarist[report]')"


def _flatten(obj: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(obj, dict):
        out: dict[str, Any] = {}
        for key, value in obj.items():
            out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: obj}


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "[]"
    return "—" if value is None else str(value)


# ---- configuration ---------------------------------------------------------------------


def configuration(runs: list[Run]) -> str:
    """One key/value table per run; with several runs, first the settings that differ."""
    flat = {run.name: _flatten(run.config) for run in runs if run.config is not None}
    parts = [note(run.note(rundir.CONFIG)) for run in runs if run.config is None]
    if len(flat) > 1:
        keys = sorted({k for cfg in flat.values() for k in cfg})
        differ = [k for k in keys if len({_show(cfg.get(k)) for cfg in flat.values()}) > 1]
        rows = [
            f"<tr><td><code>{esc(k)}</code></td>"
            + "".join(f"<td>{esc(_show(cfg.get(k)))}</td>" for cfg in flat.values())
            + "</tr>"
            for k in differ
        ]
        parts.append("<h3>Settings that differ</h3>")
        parts.append(table(["setting", *flat], rows, numeric_from=99) if rows else
                     '<p class="muted">The runs share every setting.</p>')  # fmt: skip
    for name, cfg in flat.items():
        rows = [
            f"<tr><td><code>{esc(k)}</code></td><td>{esc(_show(v))}</td></tr>"
            for k, v in cfg.items()
        ]
        body = table(["setting", "value"], rows, numeric_from=99)
        parts.append(
            f"<details><summary>Full configuration of {esc(name)} ({len(rows)} settings)"
            f"</summary>{body}</details>"
        )
    return "".join(parts)


# ---- warnings ---------------------------------------------------------------------------


def warnings(runs: list[Run]) -> str:
    """A prominent box per split whose predictions were flagged as degenerate, with numbers."""
    boxes = []
    for run in runs:
        for split, entry in ((run.metrics or {}).get("splits") or {}).items():
            verdict = (entry or {}).get("degenerate") if isinstance(entry, dict) else None
            if not verdict or not verdict.get("flagged"):
                continue
            who = f"{esc(run.name)}, split {esc(split)}"
            reasons = "".join(f"<li>{esc(r)}</li>" for r in verdict.get("reasons") or [])
            boxes.append(
                f'<div class="alert" data-degenerate="{esc(run.name)}:{esc(split)}">'
                f"<b>Degenerate output ({who}):</b> the model may be ignoring its input."
                f"<ul>{reasons}</ul></div>"
            )
    return "".join(boxes)


def failures(runs: list[Run]) -> str:
    """The texts an external system failed (metrics.json `system.failures`), each with its error:
    they are left out of every score on the page."""
    rows = []
    for run in runs:
        for split, entry in ((run.metrics or {}).get("splits") or {}).items():
            system = (entry or {}).get("system") if isinstance(entry, dict) else None
            for f in (system or {}).get("failures") or []:
                rows.append(
                    f'<tr data-failed="{esc(run.name)}:{esc(f.get("id"))}"><td>{esc(run.name)}</td>'
                    f"<td>{esc(split)}</td><td>{esc(f.get('id'))}</td><td>{esc(f.get('error'))}</td></tr>"
                )
    if not rows:
        return ""
    intro = note(
        f"{len(rows)} texts got no answer after the retries and are left out of the scores "
        "(never scored as empty summaries); running the same command again asks only these."
    )
    return intro + table(["run", "split", "example", "error"], rows, numeric_from=4)


# ---- metrics ----------------------------------------------------------------------------


def _fmeasure(entry: Any) -> dict[str, Any] | None:
    """ROUGE F1 as {low, mid, high} from a metrics.json entry (full or baseline shape)."""
    if isinstance(entry, int | float):
        return {"mid": float(entry)}
    if isinstance(entry, dict):
        inner = entry.get("fmeasure", entry)
        if isinstance(inner, dict) and isinstance(inner.get("mid"), int | float):
            return inner
    return None


def _metric_cells(run: str, split: str, system: str, scores: dict[str, Any]) -> str:
    cells = []
    for key in ROUGE_KEYS:
        ci = _fmeasure(scores.get(key))
        if ci is None:
            cells.append('<td class="num">—</td>')
            continue
        attrs = data_attrs(run=run, split=split, system=system, metric=key,
                           low=ci.get("low"), mid=ci["mid"], high=ci.get("high"))  # fmt: skip
        cells.append(f'<td class="num"{attrs}>{fmt_ci(ci)}</td>')
    return "".join(cells)


def metrics(runs: list[Run]) -> str:
    """ROUGE F1 with 95% CIs per run and split, the split's baselines right under the model."""
    several = len(runs) > 1
    rows, parts, settings = [], [], {}
    for run in runs:
        if run.metrics is None:
            parts.append(note(run.note(rundir.METRICS)))
            continue
        splits = run.metrics["splits"]
        for split in sorted(splits, key=split_order):
            entry = splits[split] if isinstance(splits[split], dict) else {}
            lead = [f"<td>{esc(run.name)}</td>"] if several else []
            system = SYSTEM_LABELS.get(run.kind or "", "model")
            rows.append(
                f"<tr>{''.join(lead)}<td>{esc(split)}</td><td>{esc(system)}</td>"
                f'<td class="num"{data_attrs(run=run.name, split=split, field="n")}>'
                f"{fmt(entry.get('n'))}</td>{_metric_cells(run.name, split, 'model', entry.get('rouge') or {})}</tr>"
            )
            for base, scores in (entry.get("baselines") or {}).items():
                rows.append(
                    f'<tr class="baseline">{"<td></td>" if several else ""}<td>{esc(split)}</td>'
                    f"<td>baseline: {esc(base)}</td><td></td>"
                    f"{_metric_cells(run.name, split, str(base), scores or {})}</tr>"
                )
            if entry.get("rouge_settings"):
                settings[(run.name, split)] = entry["rouge_settings"]
    if rows:
        header = [*(["run"] if several else []), "split", "system", "n", *LABELS.values()]
        parts.insert(0, table(header, rows, numeric_from=len(header) - 5))
        parts.append(_settings_line(settings))
    parts.extend(_input_checks(run) for run in runs if run.metrics is not None)
    parts.append(faith.tables(runs) or faith.note_without(runs))
    parts.extend(_diagnostics(run) for run in runs if run.metrics is not None)
    return "".join(parts)


def _input_checks(run: Run) -> str:
    """Per split: distinct predictions, the swap probe, and what the constant baseline says."""
    items = []
    for split, e in sorted((run.metrics or {}).get("splits", {}).items(),
                           key=lambda kv: split_order(kv[0])):  # fmt: skip
        d = (e.get("diagnostics") or {}) if isinstance(e, dict) else {}
        if d.get("distinct_share") is None:
            continue
        n = e.get("n") or d.get("n") or 0
        text = (f"{split}: {round(d['distinct_share'] * n)} of {n} predictions distinct "
                f"({100 * d['distinct_share']:.0f}%)")  # fmt: skip
        probe = d.get("swap_probe") or {}
        if probe.get("unchanged_share") is not None:
            unchanged = round(probe["unchanged_share"] * probe["n"])
            text += f"; {unchanged} of {probe['n']} unchanged when the source was swapped"
        constant = e.get("constant_baseline") or {}
        if constant.get("summary"):
            text += (f"; constant baseline (best of {constant['sample']} {constant['source']} "
                     f"summaries): “{constant['summary']}”")  # fmt: skip
        for other, paired in (e.get("paired") or {}).items():
            r1 = paired.get("rouge1") or {}
            if r1:
                text += (f"; against the {other} baseline (paired bootstrap): ROUGE-1 "
                         f"{r1['diff']:+.2f} [{r1['low']:+.2f}, {r1['high']:+.2f}]")  # fmt: skip
        items.append(f"<li>{esc(text)}</li>")
    if not items:
        return ""
    return f'<p class="muted">Does the model read its input?</p><ul class="muted">{"".join(items)}</ul>'


def _settings_line(settings: dict[tuple[str, str], dict[str, Any]]) -> str:
    distinct = {tuple(sorted((k, _show(v)) for k, v in s.items())) for s in settings.values()}
    text = "ROUGE F1 × 100; in brackets the bootstrap 95% confidence interval."
    if len(distinct) == 1:
        (only,) = distinct
        text += " Settings: " + ", ".join(f"{k}={v}" for k, v in only) + "."
    elif distinct:
        text += " Runs or splits used different ROUGE settings; see their metrics.json."
    return f'<p class="muted">{esc(text)}</p>'


def _diagnostics(run: Run) -> str:
    splits = {s: e for s, e in (run.metrics or {}).get("splits", {}).items() if isinstance(e, dict)}
    flat = {s: _flatten(e.get("diagnostics") or {}) for s, e in splits.items()}
    keys = sorted({k for f in flat.values() for k in f})
    if not keys:
        return ""
    names = sorted(flat, key=split_order)
    rows = [
        f"<tr><td><code>{esc(k)}</code></td>"
        + "".join(f'<td class="num">{esc(_show(flat[s].get(k)))}</td>' for s in names)
        + "</tr>"
        for k in keys
    ]
    return (
        f"<details><summary>Diagnostics of {esc(run.name)} (lengths, novelty, repetition)"
        f"</summary>{table(['diagnostic', *names], rows)}</details>"
    )


# ---- comparison -------------------------------------------------------------------------


def comparison(runs: list[Run]) -> str:
    """Paired bootstrap of each run against the first, on the examples both scored."""
    first = runs[0]
    if first.predictions is None:
        return note(f"No paired tests: {first.note(rundir.PREDICTIONS)}.")
    parts = [
        f'<p class="muted">Each run against <b>{esc(first.name)}</b> on the examples both scored, '
        "matched by (split, index): mean per-example F1 × 100, the difference B − A with its "
        "paired-bootstrap 95% interval (1,000 resamples, seed 0) and two-sided p-value. "
        "Green or red: the interval excludes zero.</p>"
    ]
    for other in runs[1:]:
        parts.append(f"<h3>{esc(other.name)} vs {esc(first.name)}</h3>")
        if other.predictions is None:
            parts.append(note(f"No paired tests: {other.note(rundir.PREDICTIONS)}."))
            continue
        results, mismatched = analysis.compare_predictions(first.predictions, other.predictions)
        if mismatched:
            parts.append(note(f"{mismatched} examples share a (split, index) but not the source "
                              "text; they were left out of the paired tests."))  # fmt: skip
        if not results:
            parts.append(
                note("The two runs share no scored examples, so there is nothing to pair.")
            )
            continue
        parts.append(table(["split", "metric", "n", f"A: {first.name}", f"B: {other.name}",
                            "B − A", "95% CI", "p"], (_paired_row(other.name, r) for r in results),
                           numeric_from=2))  # fmt: skip
        parts.append(faith.paired(first.predictions, other.predictions, other.name))
    return "".join(parts)


def _paired_row(name: str, r: analysis.PairedResult) -> str:
    cls = "up" if r.low > 0 else "down" if r.high < 0 else ""
    attrs = data_attrs(compare=name, split=r.split, metric=r.metric, diff=r.diff, p=r.p_value)
    return (
        f"<tr{attrs}><td>{esc(r.split)}</td><td>{esc(LABELS[r.metric])}</td>"
        f'<td class="num">{r.n:,}</td><td class="num">{r.mean_a:.1f}</td>'
        f'<td class="num">{r.mean_b:.1f}</td><td class="num {cls}">{r.diff:+.2f}</td>'
        f'<td class="num">{r.low:+.2f} – {r.high:+.2f}</td><td class="num">{_p(r.p_value)}</td></tr>'
    )


def _p(value: float) -> str:
    """A bootstrap p-value is a share of 1,000 resamples: below 0.001 it is only "< 0.001"."""
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


# ---- per-run analysis -------------------------------------------------------------------


def training(run: Run) -> str:
    if run.train_log is None:
        return note(f"No training curves: {run.note(rundir.TRAIN_LOG)}"
                    + (" (expected for a baseline or evaluate-only run)." if run.kind != "train" else "."))  # fmt: skip
    if not plots.matplotlib_available():
        return note(NO_PLOTS)
    uri = plots.training_curves(run.train_log)
    if uri is None:
        return note("train_log.jsonl has no loss, learning-rate or eval rows to plot.")
    last = run.train_log[-1]
    summary = f"{len(run.train_log)} log rows; last step {fmt(last.get('step'))}"
    if isinstance(last.get("epoch"), int | float):
        summary += f", epoch {last['epoch']:.2f}"
    return image(uri, f"training curves of {run.name}") + f'<p class="muted">{esc(summary)}.</p>'


def lengths(rows: list[dict[str, Any]], name: str) -> str:
    src = np.array([word_count(r.get("source")) for r in rows])
    ref = np.array([word_count(first_reference(r)) for r in rows])
    pred = np.array([word_count(r.get("prediction")) for r in rows])
    ratio = pred / np.maximum(ref, 1)
    stats = [
        ("mean source words", f"{src.mean():.1f}"),
        ("mean reference words", f"{ref.mean():.1f}"),
        ("mean prediction words", f"{pred.mean():.1f}"),
        ("median prediction / reference length", f"{np.median(ratio):.2f}"),
        ("empty predictions", f"{int((pred == 0).sum()):,}"),
    ]
    capped = [r["hit_cap"] for r in rows if isinstance(r.get("hit_cap"), bool)]
    if capped:
        stats.append(("predictions that hit the length cap", f"{np.mean(capped):.1%}"))
    rows_html = [f'<tr><td>{esc(k)}</td><td class="num">{esc(v)}</td></tr>' for k, v in stats]
    summary = table(["length", "value"], rows_html, css="compact")
    if not plots.matplotlib_available():
        return summary + note(NO_PLOTS)
    return (
        image(plots.length_histograms(rows), f"length histograms of {name}")
        + '<div class="plots">'
        + image(plots.length_scatter(rows), f"prediction vs reference length of {name}")
        + f"{summary}</div>"
    )


def buckets(rows: list[dict[str, Any]], name: str, split: str) -> str:
    found = analysis.rouge_by_source_length(rows)
    if not found:
        return note("predictions.jsonl has no per-example scores to bucket.")
    keys = [k for k in ROUGE_KEYS if any(k in b.means for b in found)]
    body = [
        f"<tr{data_attrs(run=name, split=split, bucket=f'{b.low}-{b.high}')}>"
        f'<td>{b.low}–{b.high}</td><td class="num">{b.n:,}</td>'
        + "".join(f'<td class="num">{fmt(b.means.get(k))}</td>' for k in keys)
        + "</tr>"
        for b in found
    ]
    parts = []
    if plots.matplotlib_available() and (uri := plots.rouge_by_bucket(found)):
        parts.append(image(uri, f"ROUGE by source length of {name}"))
    parts.append(table(["source words", "n", *(LABELS[k] for k in keys)], body))
    return "".join(parts)


def examples(rows: list[dict[str, Any]], seed: int = 0) -> str:
    picks = analysis.pick_examples(rows, seed=seed)
    key = analysis.primary_key(rows)
    parts = [
        '<p class="muted">Words of the prediction found in the reference are highlighted '
        '(<mark class="bi">shared bigram</mark>, <mark class="uni">shared word</mark>), and the '
        "same for the reference against the prediction.</p>"
    ]
    picks["unsupported"] = faith.pick_unsupported(rows)
    if picks["unsupported"]:
        parts.append(
            '<p class="muted">Against the source: <mark class="unsup">red</mark> entities and '
            'numbers are not found in the source; <mark class="sup">green</mark> ones are '
            "(hover for the source span, also marked in the source).</p>"
        )
    titles = {"best": "Best", "worst": "Worst", "random": "Random",
              "unsupported": "Most unsupported entities and numbers"}  # fmt: skip
    for group, chosen in picks.items():
        if not chosen:
            continue
        by = f" by {LABELS.get(key or '', key)}" if group in ("best", "worst") and key else ""
        parts.append(f"<h4>{titles[group]}{esc(by)}</h4>")
        parts.extend(_example(r) for r in chosen)
    if key is None:
        parts.append(note("predictions.jsonl has no per-example scores, so only random examples."))
    return "".join(parts)


def _example(row: dict[str, Any]) -> str:
    prediction = str(row.get("prediction") or "")
    refs = [str(r) for r in (row.get("references") or [])]
    source = str(row.get("source") or "")
    head = [f"#{row.get('index', '?')}"]
    if row.get("id") is not None:
        head.append(f"id {row['id']}")
    head.extend(f"{LABELS[k]} {v:.1f}" for k in ROUGE_KEYS
                if (v := analysis.row_score(row, k)) is not None)  # fmt: skip
    cut = source if len(source) <= SOURCE_CHARS else source[:SOURCE_CHARS]
    source_html = faith.marked(cut, faith.source_marks(row, len(cut)))
    source_html += " …" if len(source) > SOURCE_CHARS else ""
    ref_html = "".join(
        f'<div class="text">{highlight_overlap(ref, prediction)}</div>' for ref in refs
    )
    return (
        f'<div class="example"{data_attrs(index=row.get("index"))}>'
        f'<div class="ex-head">{esc(" · ".join(head))}</div><div class="pair">'
        f'<div><div class="label">Prediction</div>'
        f'<div class="text">{highlight_overlap(prediction, refs)}</div></div>'
        f'<div><div class="label">Reference{"s" if len(refs) > 1 else ""}</div>{ref_html}</div></div>'
        f"{faith.example_block(row)}"
        f'<div class="label">Source ({word_count(source):,} words)</div>'
        f'<div class="text source">{source_html}</div></div>'
    )
