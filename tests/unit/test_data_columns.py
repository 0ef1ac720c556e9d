"""Column presets, auto-detection, multi-reference groups and helpful errors."""

from __future__ import annotations

import pytest

from summarist.data.columns import PRESETS, find_preset, get_preset, resolve_columns
from summarist.errors import ColumnError


def test_transformers_name_table_is_covered() -> None:
    # run_summarization.py's summarization_name_mapping, plus corpora the issue names.
    expected = {
        "amazon_reviews_multi": ("review_body", "review_title"),
        "big_patent": ("description", "abstract"),
        "cnn_dailymail": ("article", "highlights"),
        "orange_sum": ("text", "summary"),
        "pn_summary": ("article", "summary"),
        "psc": ("extract_text", "summary_text"),
        "samsum": ("dialogue", "summary"),
        "thaisum": ("body", "summary"),
        "xglue": ("news_body", "news_title"),
        "xsum": ("document", "summary"),
        "wiki_summary": ("article", "highlights"),
        "multi_news": ("document", "summary"),
        "dialogsum": ("dialogue", "summary"),
        "billsum": ("text", "summary"),
        "csl": ("abstract", "title"),
    }
    for name, (text, summary) in expected.items():
        assert (PRESETS[name].text, PRESETS[name].summary) == (text, summary), name


@pytest.mark.parametrize(
    ("spec", "preset"),
    [
        ("knkarthick/dialogsum", "dialogsum"),
        ("cnn_dailymail:3.0.0", "cnn_dailymail"),
        ("EdinburghNLP/xsum", "xsum"),
        ("/data/csl_zh", "csl"),
        ("my-data", None),
    ],
)
def test_find_preset(spec: str, preset: str | None) -> None:
    found = find_preset(spec)
    assert (found[0] if found else None) == preset


def test_auto_detection_and_preset_and_flags() -> None:
    assert resolve_columns(["id", "dialogue", "summary"]).text == "dialogue"
    assert resolve_columns(["article", "highlights", "id"]).summaries == ("highlights",)
    cmap = resolve_columns(["body", "title"], text_column="body", summary_columns=["title"])
    assert (cmap.text, cmap.summaries) == ("body", ("title",))
    cmap = resolve_columns(["task", "abstract", "title"], preset=get_preset("csl"))
    assert (cmap.text, cmap.summaries) == ("abstract", ("title",))


def test_numbered_reference_group_in_order() -> None:
    cols = ["fname", "dialogue", "summary3", "summary1", "summary2", "topic1"]
    assert resolve_columns(cols).summaries == ("summary1", "summary2", "summary3")
    assert resolve_columns(cols, preset=get_preset("dialogsum")).summaries == (
        "summary1",
        "summary2",
        "summary3",
    )
    assert resolve_columns(
        ["a", "r1", "r2"], text_column="a", summary_columns=["r2", "r1"]
    ).summaries == (
        "r2",
        "r1",
    )


def test_ambiguous_columns_ask_for_flags() -> None:
    with pytest.raises(ColumnError, match="--text-column"):
        resolve_columns(["article", "document", "summary"])
    with pytest.raises(ColumnError, match="--summary-column"):
        resolve_columns(["text", "title", "abstract"])


def test_wrong_column_names_closest_match() -> None:
    with pytest.raises(
        ColumnError, match=r"unknown column 'dialog'.*did you mean 'dialogue'"
    ) as info:
        resolve_columns(["id", "dialogue", "summary"], text_column="dialog")
    assert "available columns: id, dialogue, summary" in str(info.value)
    with pytest.raises(ColumnError, match="did you mean 'summary'"):
        resolve_columns(["dialogue", "summary"], summary_columns=["sumary"])


def test_unknown_preset() -> None:
    with pytest.raises(ColumnError, match="unknown preset 'samsun'.*did you mean 'samsum'"):
        get_preset("samsun")
