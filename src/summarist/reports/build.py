"""`write_report`: run directories in, one self-contained HTML page out."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from pathlib import Path

from summarist import __version__, rundir
from summarist.reports import sections
from summarist.reports.html import esc, note, page
from summarist.reports.load import Run, load_runs

logger = logging.getLogger(__name__)


def write_report(run_dirs: list[Path], out: Path, *, title: str | None = None) -> Path:
    """Write one HTML report (figures embedded, no external assets) for one or more runs.

    Reads run directories only (config.yaml, metrics.json, predictions.jsonl,
    train_log.jsonl); a missing file replaces its section with a note. With several runs the
    page adds a comparison of each run against the first, by paired bootstrap.

    Args:
        run_dirs: run directories written by `summarist train`, `evaluate` or `baseline`.
        out: the HTML file to write (atomically).
        title: page title; defaults to the run name(s).

    Returns:
        The path written.

    >>> write_report([Path("runs/t5-dialogsum")], Path("runs/t5-dialogsum/report.html"))
    PosixPath('runs/t5-dialogsum/report.html')
    """
    start = time.perf_counter()
    runs = load_runs([Path(p) for p in run_dirs])
    rundir.check_output_file(Path(out), "--out", (".html", ".htm"))
    text = render_report(runs, title=title)
    path = rundir.write_text_atomic(Path(out), text)
    logger.info("report: %s (%.0f KB, %.1fs)", path, len(text) / 1024, time.perf_counter() - start)
    return path


def render_report(runs: list[Run], *, title: str | None = None) -> str:
    """The whole page as a string (write_report without the file)."""
    title = title or ("summarist report: " + ", ".join(run.name for run in runs))
    # What matters first: any degenerate-output warning, the scores next to the baselines, and
    # examples; the analysis follows and the full configuration comes last, collapsed.
    blocks: list[tuple[str, str, str]] = []  # (anchor, heading, html)
    if warnings := sections.warnings(runs):
        blocks.append(("warnings", "Warning: degenerate output", warnings))
    if failed := sections.failures(runs):
        blocks.append(("failures", "Failed examples", failed))
    blocks.append(("metrics", "Metrics", sections.metrics(runs)))
    blocks.append(("examples", "Examples", _examples(runs)))
    if len(runs) > 1:
        blocks.append(("comparison", "Comparison", sections.comparison(runs)))
    for i, run in enumerate(runs, start=1):
        heading = run.name if len(runs) > 1 else "Training and predictions"
        blocks.append((f"run-{i}", heading, _run_analysis(run)))
    blocks.append(("configuration", "Run configuration", sections.configuration(runs)))
    body = "".join(
        f'<section id="{anchor}"><h2>{esc(heading)}</h2>{html}</section>'
        for anchor, heading, html in blocks
    )
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    listing = "; ".join(
        f"<b>{esc(r.name)}</b> ({esc(r.kind or 'run')}, <code>{esc(r.path)}</code>)" for r in runs
    )
    subtitle = f"{listing}<br>generated {stamp} by summarist {esc(__version__)}"
    return page(title, subtitle, [(a, h) for a, h, _ in blocks], body)


def _run_analysis(run: Run) -> str:
    """Training curves, then lengths, buckets and examples for the main prediction split."""
    parts = ["<h3>Training curves</h3>", sections.training(run)]
    splits = run.splits_with_predictions()
    if not splits:
        parts += [
            "<h3>Predictions</h3>",
            note(f"No prediction analysis: {run.note(rundir.PREDICTIONS)}."),
        ]
        return "".join(parts)
    split, others = splits[0], splits[1:]
    rows = run.prediction_rows(split)
    shown = f"Split <b>{esc(split)}</b>, {len(rows):,} examples"
    if others:
        shown += f" (also in predictions.jsonl: {esc(', '.join(others))})"
    parts += [
        f'<p class="muted">{shown}.</p>',
        "<h3>Lengths</h3>", sections.lengths(rows, run.name),
        "<h3>ROUGE by source length</h3>", sections.buckets(rows, run.name, split),
    ]  # fmt: skip
    return "".join(parts)


def _examples(runs: list[Run]) -> str:
    """Best, worst and random examples of each run's main prediction split."""
    parts = []
    for run in runs:
        splits = run.splits_with_predictions()
        if len(runs) > 1:
            parts.append(f"<h3>{esc(run.name)}</h3>")
        if not splits:
            parts.append(note(f"No examples: {run.note(rundir.PREDICTIONS)}."))
            continue
        parts.append(f'<p class="muted">Split <b>{esc(splits[0])}</b>.</p>')
        parts.append(sections.examples(run.prediction_rows(splits[0])))
    return "".join(parts)
