"""Summaries out: one row per input (id, summary, token counts), as jsonl or plain text."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from summarist.data.texts import InputTexts
from summarist.errors import DataError

OUTPUT_FORMATS = ("jsonl", "text")


def summary_rows(inputs: InputTexts, result: Any) -> list[dict[str, Any]]:
    """One output row per input: id, summary and what it took."""
    return [
        {
            "id": doc_id,
            "summary": summary,
            "new_tokens": new,
            "source_tokens": src,
            "map_reduce_levels": lvl,
        }
        for doc_id, summary, new, src, lvl in zip(
            inputs.ids,
            result.summaries,
            result.new_tokens,
            result.source_tokens,
            result.levels,
            strict=True,
        )
    ]


def format_rows(rows: list[dict[str, Any]], fmt: str) -> str:
    """jsonl (one object per line) or text (one summary per line)."""
    if fmt not in OUTPUT_FORMATS:
        raise DataError(f"unknown output format '{fmt}'", f"use one of {', '.join(OUTPUT_FORMATS)}")
    if fmt == "jsonl":
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    return "".join(" ".join(r["summary"].split()) + "\n" for r in rows)


def guess_format(output: Path | None, fmt: str | None) -> str:
    """--format if given, else from the output's suffix (.jsonl/.json → jsonl), else text."""
    if fmt:
        return fmt
    if output is not None and output.suffix.lower() in (".jsonl", ".json"):
        return "jsonl"
    return "text"
