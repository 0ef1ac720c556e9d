"""Offline sentence splitting (Punkt with shipped English parameters, pySBD, newlines)."""

from __future__ import annotations

import pytest

from summarist.metrics import split_sentences, to_lsum_text


def test_punkt_knows_english_abbreviations() -> None:
    text = "Dr. Smith met Mr. Jones at 5 p.m. yesterday. They talked. Then they left!"
    assert split_sentences(text) == [
        "Dr. Smith met Mr. Jones at 5 p.m. yesterday.",
        "They talked.",
        "Then they left!",
    ]


@pytest.mark.parametrize("splitter", ["punkt", "pysbd", "newline"])
def test_line_breaks_are_always_boundaries(splitter: str) -> None:
    text = "#Person1#: Hi. How are you?\r\n\n#Person2#: Fine\rBye."
    sents = split_sentences(text, splitter)
    assert sents[-2:] == ["#Person2#: Fine", "Bye."]
    if splitter == "newline":
        assert sents[0] == "#Person1#: Hi. How are you?"
    else:
        assert sents[:2] == ["#Person1#: Hi.", "How are you?"]


def test_lsum_text_is_one_sentence_per_line() -> None:
    assert to_lsum_text("One here. Two there.\n\n  Three.") == "One here.\nTwo there.\nThree."
    assert to_lsum_text("   ") == ""


def test_unknown_splitter_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown sentence splitter"):
        split_sentences("a. b.", "spacy")


def test_no_download_is_attempted(monkeypatch: pytest.MonkeyPatch) -> None:
    import nltk

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("nltk.download must not be called")

    monkeypatch.setattr(nltk, "download", refuse)
    assert split_sentences("It works. Offline.") == ["It works.", "Offline."]


def test_full_width_terminators_end_sentences() -> None:
    text = "我们提出了一种方法。实验表明有效！Dr. Smith agreed."
    assert split_sentences(text) == ["我们提出了一种方法。", "实验表明有效！", "Dr. Smith agreed."]
    assert split_sentences(text, "newline") == [text]
