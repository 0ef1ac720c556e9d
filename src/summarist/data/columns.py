"""Which column holds the source text and which the reference summary (or summaries).

`PRESETS` is the table of well-known corpora (transformers' `summarization_name_mapping` and
more); `resolve_columns` applies a preset, explicit flags, or unambiguous auto-detection.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from summarist.errors import ColumnError, did_you_mean


@dataclass(frozen=True)
class Preset:
    """Column layout of a well-known corpus."""

    text: str
    summary: str
    language: str = "en"
    # For header-less csv/tsv distributions (e.g. CSL), the column names in file order.
    names: tuple[str, ...] | None = None
    note: str = ""


PRESETS: dict[str, Preset] = {
    # transformers' examples/pytorch/summarization/run_summarization.py name table
    "amazon_reviews_multi": Preset("review_body", "review_title"),
    "big_patent": Preset("description", "abstract"),
    "cnn_dailymail": Preset("article", "highlights", note="use config 3.0.0"),
    "orange_sum": Preset("text", "summary", language="fr"),
    "pn_summary": Preset("article", "summary", language="fa"),
    "psc": Preset("extract_text", "summary_text", language="pt"),
    "samsum": Preset("dialogue", "summary"),
    "thaisum": Preset("body", "summary", language="th"),
    "xglue": Preset("news_body", "news_title"),
    "xsum": Preset("document", "summary"),
    "wiki_summary": Preset("article", "highlights", language="fa"),
    "multi_news": Preset("document", "summary"),
    # more corpora the tutorials use
    "dialogsum": Preset("dialogue", "summary", note="test has summary1..summary3"),
    "billsum": Preset("text", "summary"),
    "csl": Preset("abstract", "title", language="zh", names=("task", "abstract", "title")),
    "gigaword": Preset("document", "summary"),
    "reddit_tifu": Preset("documents", "tldr"),
    "aeslc": Preset("email_body", "subject_line"),
    "scientific_papers": Preset("article", "abstract"),
    "arxiv_summarization": Preset("article", "abstract"),
    "pubmed_summarization": Preset("article", "abstract"),
    "newsroom": Preset("text", "summary"),
    "wikihow": Preset("text", "headline"),
    "mlsum": Preset("text", "summary"),
    "xlsum": Preset("text", "summary"),
    "multi_lexsum": Preset("sources", "summary/long"),
    "aclsum": Preset("document", "summary"),
}

# Auto-detection candidates, most specific first.
TEXT_CANDIDATES = (
    "dialogue", "dialog", "document", "documents", "article", "text", "source", "src", "body",
    "content", "input", "review_body", "passage", "context",
)  # fmt: skip
SUMMARY_CANDIDATES = (
    "summary", "summaries", "highlights", "target", "tgt", "headline", "title", "abstract", "tldr",
    "reference", "references", "output", "label",
)  # fmt: skip
_GROUP = re.compile(r"^(?P<stem>[A-Za-z_]+?)_?(?P<num>\d+)$")


@dataclass(frozen=True)
class ColumnMap:
    """Resolved columns for one split: a text column and one or more reference columns."""

    text: str
    summaries: tuple[str, ...]


def find_preset(name: str) -> tuple[str, Preset] | None:
    """Guess a preset from a dataset id, directory or file name (`knkarthick/dialogsum` → dialogsum)."""
    key = name.rstrip("/").split("/")[-1].split(":")[0].lower().replace("-", "_")
    key = re.sub(r"\.(jsonl|json|csv|tsv|parquet)$", "", key)
    if key in PRESETS:
        return key, PRESETS[key]
    for preset_name in sorted(PRESETS, key=len, reverse=True):
        if key.startswith(preset_name + "_"):
            return preset_name, PRESETS[preset_name]
    return None


def get_preset(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        raise ColumnError(
            f"unknown preset '{name}'{did_you_mean(name, PRESETS)}",
            f"known presets: {', '.join(sorted(PRESETS))}",
        ) from None


def reference_group(columns: Sequence[str], stem: str) -> tuple[str, ...]:
    """Columns like summary1, summary2 (or summary_1) for `stem`, in numeric order."""
    found = []
    for col in columns:
        m = _GROUP.match(col)
        if m and m.group("stem").lower() == stem.lower():
            found.append((int(m.group("num")), col))
    return tuple(col for _, col in sorted(found))


def resolve_columns(
    columns: Sequence[str],
    *,
    text_column: str | None = None,
    summary_columns: Sequence[str] = (),
    preset: Preset | None = None,
    where: str = "the data",
    require_summary: bool = True,
) -> ColumnMap:
    """Pick the text and reference columns for a split with these `columns`.

    Explicit flags win over the preset, the preset over auto-detection. A summary column `X` that
    is absent but has numbered siblings (`X1, X2, ...`) resolves to that group: DialogSum's test
    split stores three references as summary1..summary3.
    """
    cols = list(columns)
    text = text_column or (preset.text if preset else None) or _detect(cols, TEXT_CANDIDATES)
    if text is None:
        raise ColumnError(
            f"cannot tell which column of {where} holds the source text (columns: {_fmt(cols)})",
            "pass --text-column NAME",
        )
    _check_exists(text, cols, where, "--text-column")

    wanted = list(summary_columns) or ([preset.summary] if preset else [])
    if not wanted:
        detected = _detect([c for c in cols if c != text], SUMMARY_CANDIDATES, groups=True)
        if detected is None:
            if not require_summary:
                return ColumnMap(text, ())
            raise ColumnError(
                f"cannot tell which column of {where} holds the reference summary "
                f"(columns: {_fmt(cols)})",
                "pass --summary-column NAME (repeat it for several references)",
            )
        wanted = [detected]
    summaries: list[str] = []
    for name in wanted:
        if name in cols:
            summaries.append(name)
        elif group := reference_group(cols, name):
            summaries.extend(group)
        elif not require_summary:
            continue
        else:
            _check_exists(name, cols, where, "--summary-column")
    return ColumnMap(text, tuple(summaries))


def _detect(cols: list[str], candidates: Sequence[str], groups: bool = False) -> str | None:
    lowered = {c.lower(): c for c in cols}
    present = [lowered[c] for c in candidates if c in lowered]
    if groups:
        present += [c for c in candidates if c not in lowered and reference_group(cols, c)]
    if len(present) == 1:
        return present[0]
    if len(present) > 1 and present[0].lower() in ("dialogue", "summary"):
        return present[0]  # the conventional names are unambiguous enough
    return None


def _check_exists(name: str, cols: list[str], where: str, flag: str) -> None:
    if name not in cols:
        raise ColumnError(
            f"unknown column '{name}' in {where}{did_you_mean(name, cols)}",
            f"available columns: {_fmt(cols)}; set {flag}",
        )


def _fmt(cols: Sequence[str]) -> str:
    return ", ".join(cols) if cols else "(none)"
