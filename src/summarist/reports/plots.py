"""Report figures: small matplotlib PNGs returned as `data:` URIs so the page has no assets.

Figures are drawn on `matplotlib.figure.Figure` with the Agg canvas directly, never through
pyplot: no global backend switch, no figure registry to leak, safe to call from any thread.
"""

from __future__ import annotations

import base64
import io
import warnings
from typing import Any

import numpy as np

from summarist.reports.analysis import (
    LABELS,
    ROUGE_KEYS,
    Bucket,
    first_reference,
    word_count,
)

DPI = 90
COLORS = {"source": "#7f7f7f", "reference": "#2b7bba", "prediction": "#e4572e"}
METRIC_COLORS = {
    "rouge1": "#2b7bba",
    "rouge2": "#e4572e",
    "rougeL": "#3a9d5d",
    "rougeLsum": "#8e6bbf",
}


def matplotlib_available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _figure(width: float, height: float, ncols: int = 1) -> tuple[Any, Any]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, ncols, squeeze=False)[0]
    for ax in axes:
        ax.spines[["top", "right"]].set_visible(False)
        ax.grid(alpha=0.25, linewidth=0.6)
        ax.tick_params(labelsize=8)
    return fig, axes


def _data_uri(fig: Any) -> str:
    with warnings.catch_warnings():
        # a layout that cannot fit (long tick labels) is cosmetic; never fail a report on it
        warnings.filterwarnings("ignore", "Tight layout", UserWarning)
        fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def training_curves(log: list[dict[str, Any]]) -> str | None:
    """Loss, learning rate and eval ROUGE against the optimizer step; None when nothing to draw."""
    loss = [(r["step"], r["loss"]) for r in log if isinstance(r.get("loss"), int | float)]
    lr = [
        (r["step"], r["learning_rate"])
        for r in log
        if isinstance(r.get("learning_rate"), int | float)
    ]
    evals = [
        (r["step"], r["eval"])
        for r in log
        if isinstance(r.get("eval"), dict)
        and any(isinstance(r["eval"].get(k), int | float) for k in ROUGE_KEYS)
    ]
    panels = [p for p, rows in (("loss", loss), ("lr", lr), ("eval", evals)) if rows]
    if not panels:
        return None
    fig, axes = _figure(3.2 * len(panels), 2.6, ncols=len(panels))
    for ax, panel in zip(axes, panels, strict=True):
        if panel == "loss":
            steps, values = zip(*loss, strict=True)
            ax.plot(steps, values, color="#2b7bba", linewidth=1.2)
            ax.set_title("training loss", fontsize=10)
        elif panel == "lr":
            steps, values = zip(*lr, strict=True)
            ax.plot(steps, values, color="#7f7f7f", linewidth=1.2)
            ax.set_title("learning rate", fontsize=10)
            ax.ticklabel_format(axis="y", style="sci", scilimits=(-2, 2))
        else:
            for key in ROUGE_KEYS:
                pts = [(s, e[key]) for s, e in evals if isinstance(e.get(key), int | float)]
                if pts:
                    steps, values = zip(*pts, strict=True)
                    ax.plot(steps, values, marker="o", markersize=3, linewidth=1.2,
                            color=METRIC_COLORS[key], label=LABELS[key])  # fmt: skip
            ax.set_title("eval ROUGE (F1 × 100)", fontsize=10)
            ax.legend(fontsize=7, frameon=False, loc="best")
        ax.set_xlabel("step", fontsize=8)
    return _data_uri(fig)


def length_histograms(rows: list[dict[str, Any]]) -> str:
    """Word-count histograms: sources on the left, references and predictions overlaid."""
    src = np.array([word_count(r.get("source")) for r in rows])
    ref = np.array([word_count(first_reference(r)) for r in rows])
    pred = np.array([word_count(r.get("prediction")) for r in rows])
    fig, (ax_src, ax_sum) = _figure(8.6, 2.6, ncols=2)
    src_bins = _bins(src)
    ax_src.hist(_clip(src, src_bins), bins=src_bins, color=COLORS["source"], alpha=0.8)
    ax_src.set_title("source length (words)", fontsize=10)
    bins = _bins(np.concatenate([ref, pred]))
    ax_sum.hist(_clip(ref, bins), bins=bins, color=COLORS["reference"], alpha=0.55,
                label="reference")  # fmt: skip
    ax_sum.hist(_clip(pred, bins), bins=bins, color=COLORS["prediction"], alpha=0.55,
                label="prediction")  # fmt: skip
    ax_sum.set_title("summary length (words)", fontsize=10)
    ax_sum.legend(fontsize=8, frameon=False)
    for ax in (ax_src, ax_sum):
        ax.set_ylabel("examples", fontsize=8)
    return _data_uri(fig)


def length_scatter(rows: list[dict[str, Any]]) -> str:
    """Prediction length against reference length, with the y = x line."""
    ref = np.array([word_count(first_reference(r)) for r in rows])
    pred = np.array([word_count(r.get("prediction")) for r in rows])
    fig, (ax,) = _figure(4.2, 3.4)
    # lengths are integers: a little seeded jitter shows how many points share a spot
    jitter = np.random.default_rng(0).uniform(-0.2, 0.2, size=(2, len(ref)))
    ax.scatter(ref + jitter[0], pred + jitter[1], s=9, alpha=0.45, color=COLORS["prediction"],
               linewidths=0)  # fmt: skip
    top = max(int(ref.max(initial=1)), int(pred.max(initial=1)), 1)
    ax.plot([0, top], [0, top], color="#444", linewidth=0.8, linestyle="--", label="same length")
    ax.set_xlabel("reference length (words)", fontsize=8)
    ax.set_ylabel("prediction length (words)", fontsize=8)
    ax.set_title("prediction vs reference length", fontsize=10)
    ax.legend(fontsize=7, frameon=False, loc="upper left")
    return _data_uri(fig)


def rouge_by_bucket(buckets: list[Bucket]) -> str | None:
    """Grouped bars: mean ROUGE per source-length bucket."""
    keys = [k for k in ROUGE_KEYS if any(k in b.means for b in buckets)]
    if not buckets or not keys:
        return None
    fig, (ax,) = _figure(6.2, 2.8)
    x = np.arange(len(buckets))
    width = 0.8 / len(keys)
    for i, key in enumerate(keys):
        values = [b.means.get(key, 0.0) for b in buckets]
        ax.bar(x + (i - (len(keys) - 1) / 2) * width, values, width,
               color=METRIC_COLORS[key], label=LABELS[key])  # fmt: skip
    ax.set_xticks(x, [f"{b.low}–{b.high}\n(n={b.n})" for b in buckets], fontsize=7)
    ax.set_xlabel("source length (words)", fontsize=8)
    ax.set_ylabel("mean F1 × 100", fontsize=8)
    top = max((v for b in buckets for v in b.means.values()), default=1.0)
    ax.set_ylim(0, max(top, 1.0) * 1.25)  # headroom for the legend
    ax.set_title("ROUGE by source length", fontsize=10)
    ax.legend(fontsize=7, frameon=False, ncols=len(keys))
    return _data_uri(fig)


def _bins(values: np.ndarray) -> np.ndarray:
    """Integer-aligned bins up to the 99.5th percentile so one huge outlier cannot flatten it."""
    top = max(int(np.ceil(np.percentile(values, 99.5))), 1) if values.size else 1
    step = max(1, int(np.ceil(top / 40)))
    return np.arange(0, top + step + 1, step) - 0.5


def _clip(values: np.ndarray, bins: np.ndarray) -> np.ndarray:
    """Longer-than-shown values go into the last bin instead of disappearing."""
    return np.minimum(values, bins[-1] - 0.5)
