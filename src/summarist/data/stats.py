"""`summarist data stats`: what is in a corpus before anyone spends hours training on it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from summarist.data.corpus import Corpus
from summarist.data.prepare import count_words
from summarist.errors import ConfigError

PERCENTILES = (50, 90, 95, 99)
COUNTS = (
    "rows", "empty", "duplicate_sources", "duplicate_pairs", "removed_duplicates",
    "short_summary", "long_source", "leaked", "kept",
)  # fmt: skip


def describe_lengths(lengths: list[int] | np.ndarray) -> dict[str, float]:
    """p50/p90/p95/p99/max/mean of a list of lengths."""
    arr = np.asarray(lengths, dtype=np.int64)
    if arr.size == 0:
        return {**{f"p{p}": 0.0 for p in PERCENTILES}, "max": 0.0, "mean": 0.0}
    out = {f"p{p}": round(float(np.percentile(arr, p)), 2) for p in PERCENTILES}
    out["max"] = float(arr.max())
    out["mean"] = round(float(arr.mean()), 2)
    return out


def word_lengths(texts: list[str]) -> np.ndarray:
    """Words per text (CJK characters count as words)."""
    return np.fromiter((count_words(t) for t in texts), dtype=np.int64, count=len(texts))


class _TokenCounter:
    """Token counts with special tokens of one column's chunk (picklable, for workers)."""

    def __init__(self, tokenizer: Any, column: str) -> None:
        self.tokenizer, self.column = tokenizer, column

    def __call__(self, table: Any) -> np.ndarray:
        return _count_tokens(self.tokenizer, table.column(self.column).to_pylist())


def _count_tokens(tokenizer: Any, texts: list[str]) -> np.ndarray:
    enc = tokenizer(texts, add_special_tokens=True, truncation=False, verbose=False)
    return np.fromiter((len(ids) for ids in enc["input_ids"]), dtype=np.int64, count=len(texts))


def token_lengths(
    tokenizer: Any, texts: Any, batch_size: int = 1000, *, workers: int | None = 1
) -> np.ndarray:
    """Token counts with special tokens, using the (fast) tokenizer in batches.

    `texts` is a list, or a split column (`Split.texts`, `Split.summaries`), which is read a
    chunk at a time, on `workers` processes (None: every core).
    """
    from summarist.data.corpus import Column

    if isinstance(texts, Column):
        from summarist.data.parallel import map_split

        parts = list(map_split(texts._split, [texts.name], _TokenCounter(tokenizer, texts.name),
                               workers=workers, chunk=batch_size))  # fmt: skip
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
    out = [_count_tokens(tokenizer, list(texts[i : i + batch_size]))
           for i in range(0, len(texts), batch_size)]  # fmt: skip
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


def split_lengths(
    split: Any, tokenizer: Any = None, workers: int | None = None
) -> dict[str, np.ndarray]:
    """Source and summary lengths of a split: words from its keys, tokens when asked."""
    if not hasattr(split, "keys"):  # any object with texts and summaries
        return {"source_words": word_lengths(list(split.texts)),
                "summary_words": word_lengths(list(split.summaries))}  # fmt: skip
    k = split.keys()
    out = {"source_words": np.asarray(k.source_words, dtype=np.int64),
           "summary_words": np.asarray(k.summary_words, dtype=np.int64)}  # fmt: skip
    if tokenizer is not None:
        out["source_tokens"] = token_lengths(tokenizer, split.texts, workers=workers)
        out["summary_tokens"] = token_lengths(tokenizer, split.summaries, workers=workers)
    return out


def compute_stats(
    corpus: Corpus,
    *,
    tokenizer: Any = None,
    model: str | None = None,
    max_source_length: int | None = None,
    max_target_length: int | None = None,
    lengths: dict[str, dict[str, np.ndarray]] | None = None,
    workers: int | None = None,
) -> dict[str, Any]:
    """Per-split counts, length percentiles, compression ratio and truncation shares.

    Everything comes from per-row arrays (`data.keys` word counts, token counts when a
    tokenizer is given), never from the texts held in Python. `lengths` (from `split_lengths`)
    saves counting again what a caller already counted.
    """
    if (max_source_length or max_target_length) and tokenizer is None:
        raise ConfigError(
            "--max-source-length/--max-target-length are token counts",
            "add --model NAME so the stats can use that model's tokenizer",
        )
    result: dict[str, Any] = {"source": corpus.source, "model": model, "splits": {}}
    for name, split in corpus.splits.items():
        lens = (lengths or {}).get(name) or split_lengths(split, tokenizer, workers)
        src_words, sum_words = lens["source_words"], lens["summary_words"]
        entry: dict[str, Any] = {k: corpus.report.get(name, {}).get(k, 0) for k in COUNTS}
        entry["kept"] = len(split)
        n_refs = np.asarray(split.keys().n_refs)
        entry["references_per_example"] = int(n_refs.max()) if len(n_refs) else 0
        entry["source_words"] = describe_lengths(src_words)
        entry["summary_words"] = describe_lengths(sum_words)
        ratio = src_words / np.maximum(sum_words, 1)
        entry["compression_ratio"] = {
            "median": round(float(np.median(ratio)), 2) if len(ratio) else 0.0,
            "mean": round(float(ratio.mean()), 2) if len(ratio) else 0.0,
        }
        if tokenizer is not None:
            src_tok, sum_tok = lens["source_tokens"], lens["summary_tokens"]
            entry["source_tokens"] = describe_lengths(src_tok)
            entry["summary_tokens"] = describe_lengths(sum_tok)
            if max_source_length:
                entry["truncated_source_share"] = round(
                    float((src_tok > max_source_length).mean()), 4
                )
            if max_target_length:
                entry["truncated_summary_share"] = round(
                    float((sum_tok > max_target_length).mean()), 4
                )
        result["splits"][name] = entry
    return result


def render_stats(stats: dict[str, Any]) -> Any:
    """A rich Table with one column per split."""
    from rich.table import Table

    splits = stats["splits"]
    title = f"summarist data stats: {stats['source']}"
    if stats.get("model"):
        title += f" (tokens: {stats['model']})"
    table = Table(title=title, title_justify="left")
    table.add_column("")
    for name in splits:
        table.add_column(name, justify="right")

    def row(label: str, values: list[str]) -> None:
        table.add_row(label, *values)

    for key in COUNTS:
        row(key.replace("_", " "), [f"{splits[s][key]:,}" for s in splits])
    row("references / example (max)", [str(splits[s]["references_per_example"]) for s in splits])
    for field in ("source_words", "summary_words", "source_tokens", "summary_tokens"):
        if not all(field in splits[s] for s in splits):
            continue
        table.add_section()
        for stat in ("p50", "p90", "p95", "p99", "max"):
            row(
                f"{field.replace('_', ' ')} {stat}",
                [f"{splits[s][field][stat]:,.0f}" for s in splits],
            )
    table.add_section()
    row(
        "compression ratio (median)",
        [f"{splits[s]['compression_ratio']['median']:.1f}" for s in splits],
    )
    for field in ("truncated_source_share", "truncated_summary_share"):
        if all(field in splits[s] for s in splits):
            row(field.replace("_", " "), [f"{splits[s][field]:.1%}" for s in splits])
    return table


def length_bins(lengths: list[np.ndarray], target: int = 30) -> np.ndarray:
    """Shared bin edges for every split: round widths (1, 2, 5 x 10^k), up to the 99.5th percentile.

    >>> length_bins([np.array([3, 40, 97])]).tolist()[:4]
    [0.0, 5.0, 10.0, 15.0]
    """
    values = np.concatenate([np.asarray(v, dtype=float) for v in lengths if len(v)] or [[0.0]])
    top = max(1.0, float(np.percentile(values, 99.5)))
    raw = top / target
    step = min(m * 10**e for e in range(0, 7) for m in (1, 2, 5) if m * 10**e >= raw)
    return np.arange(0, top + step, step, dtype=float)


def plot_lengths(
    stats_corpus: Corpus,
    path: Path,
    tokenizer: Any = None,
    *,
    max_source_length: int | None = None,
    max_target_length: int | None = None,
    lengths: dict[str, dict[str, np.ndarray]] | None = None,
) -> Path:
    """Source and summary length histograms: counts per split on shared round bins, cuts marked.

    Lengths past the last bin are counted in it (the title says how many); the length limits
    given are drawn as dashed lines with the share of each split they cut.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    counted = lengths  # (the loop below reuses the name `lengths`)
    unit = "tokens" if tokenizer is not None else "words"
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    limits = {"source": max_source_length, "summary": max_target_length}
    for ax, kind in zip(axes, ("source", "summary"), strict=True):
        field = f"{kind}_{'tokens' if tokenizer is not None else 'words'}"
        by_split = {}
        for name, split in stats_corpus.splits.items():
            lens = (counted or {}).get(name) or split_lengths(split, tokenizer)
            by_split[name] = lens[field]
        limit = limits[kind] if tokenizer is not None else None
        bins = length_bins(list(by_split.values()))
        if limit and limit <= 2 * bins[-1]:  # a far-off limit would squash the histogram
            bins = length_bins([*by_split.values(), np.array([limit])])
        over = 0
        for name, lengths in by_split.items():
            if len(lengths):
                over += int((lengths > bins[-1]).sum())
                ax.hist(np.minimum(lengths, bins[-1]), bins=bins, histtype="step", linewidth=1.6,
                        label=f"{name} (n={len(lengths):,})")  # fmt: skip
        if limit:
            cut = {n: float(np.mean(v > limit)) for n, v in by_split.items() if len(v)}
            label = (f" --max-{kind.replace('summary', 'target')}-length {limit}"
                     + ("" if limit <= bins[-1] else " (off the axis)")
                     + "\n cuts " + ", ".join(f"{n} {v:.0%}" for n, v in cut.items()))  # fmt: skip
            x = min(limit, bins[-1])
            if limit <= bins[-1]:
                ax.axvline(x, color="crimson", linestyle="--", linewidth=1.4)
            ax.text(x, ax.get_ylim()[1] * 0.97, label, color="crimson", va="top", fontsize=9,
                    ha="left" if x < 0.6 * bins[-1] else "right")  # fmt: skip
        ax.set_title(f"{kind} length ({unit})" + (f"; {over} longer ones in the last bin"
                                                   if over else ""))  # fmt: skip
        ax.set_xlabel(unit)
        ax.set_ylabel("examples")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize=9)
    fig.tight_layout()
    from summarist.rundir import atomic_writer

    try:
        with atomic_writer(path, "wb") as fh:
            fig.savefig(fh, dpi=110, format="png")
    finally:
        plt.close(fig)
    return path


def run_data_stats(
    cfg: Any,
    *,
    tokenizer: Any = None,
    model: str | None = None,
    max_source_length: int | None = None,
    max_target_length: int | None = None,
    plot: Path | None = None,
) -> dict[str, Any]:
    """Load `cfg`'s corpus and compute its stats (and the optional histogram PNG).

    `tokenizer` (with `model`, its name for the report) counts tokens; the caller loads it, so
    the data layer needs no model code.
    """
    from summarist.data.loading import load_corpus
    from summarist.errors import ConfigError
    from summarist.rundir import check_output_file

    for flag, value in (("--max-source-length", max_source_length),
                        ("--max-target-length", max_target_length)):  # fmt: skip
        if value is not None and value < 1:
            raise ConfigError(f"{flag} must be >= 1, got {value}", f"drop {flag} or pass e.g. 512")
    if plot:
        check_output_file(plot, "--plot", (".png",))
    corpus = load_corpus(cfg)
    if (max_source_length or max_target_length) and tokenizer is None:
        compute_stats(corpus, max_source_length=max_source_length)  # its one-line error
    lengths = {n: split_lengths(s, tokenizer, cfg.data_workers) for n, s in corpus.splits.items()}
    stats = compute_stats(
        corpus,
        tokenizer=tokenizer,
        model=model,
        max_source_length=max_source_length,
        max_target_length=max_target_length,
        lengths=lengths,
    )
    if plot:
        stats["plot"] = str(
            plot_lengths(
                corpus,
                plot,
                tokenizer,
                max_source_length=max_source_length,
                max_target_length=max_target_length,
                lengths=lengths,
            )
        )
    return stats
