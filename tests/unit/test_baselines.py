"""Extractive baselines: name parsing, each baseline's behaviour, the oracle's upper bound."""

from __future__ import annotations

import pytest

from summarist.baselines import BASELINES, parse_baseline_name, run_baseline
from summarist.baselines.lead import strip_speaker
from summarist.baselines.textrank import pagerank, similarity_matrix
from summarist.errors import ConfigError
from summarist.metrics import compute_rouge

DIALOGUE = (
    "#Person1#: Hello. Are you free tonight?\n"
    "#Person2#: I think so.\n"
    "#Person1#: Let us watch the new movie at the cinema near the station tonight.\n"
    "Mr. Brown: Fine."
)
ARTICLE = (
    "Heavy rain flooded the city centre on Monday. Schools closed early. "
    "The city council said the flooding in the city centre was the worst in years. "
    "A local bakery gave away bread."
)


@pytest.mark.parametrize(
    ("name", "family", "k"),
    [
        ("lead-3", "lead", 3),
        ("lead", "lead", 3),
        ("lead-2-utterances", "lead-utterances", 2),
        ("lead-4-utterances-notags", "lead-utterances-notags", 4),
        ("longest-utterance", "longest-utterance", None),
        ("textrank-5", "textrank", 5),
        ("random-1", "random", 1),
        ("oracle", "oracle", None),
        ("oracle-2", "oracle", 2),
        ("Lead-3", "lead", 3),
    ],
)
def test_names_parse_to_a_table_entry_and_k(name: str, family: str, k: int | None) -> None:
    assert parse_baseline_name(name) == (family, k)
    assert family in BASELINES


@pytest.mark.parametrize("name", ["leed-3", "lead-0", "longest-utterance-2", "bert", ""])
def test_bad_names_are_config_errors(name: str) -> None:
    with pytest.raises(ConfigError):
        parse_baseline_name(name)


def test_did_you_mean_on_typo() -> None:
    with pytest.raises(ConfigError, match="did you mean 'lead-3'"):
        run_baseline("leed-3", ["x"])


def test_lead_sentences_and_utterances() -> None:
    assert run_baseline("lead-2", [ARTICLE]) == [
        "Heavy rain flooded the city centre on Monday.\nSchools closed early."
    ]
    assert run_baseline("lead-2-utterances", [DIALOGUE]) == [
        "#Person1#: Hello. Are you free tonight?\n#Person2#: I think so."
    ]
    assert run_baseline("lead-2-utterances-notags", [DIALOGUE]) == [
        "Hello. Are you free tonight?\nI think so."
    ]
    assert run_baseline("lead-3", [""]) == [""]


def test_strip_speaker_tags() -> None:
    assert strip_speaker("Mr. Brown: Fine.") == "Fine."
    assert strip_speaker("#Person2#: I think so.") == "I think so."
    assert strip_speaker("No speaker here") == "No speaker here"


def test_longest_utterance() -> None:
    assert run_baseline("longest-utterance", [DIALOGUE])[0].startswith("#Person1#: Let us watch")


def test_textrank_prefers_central_sentences_in_document_order() -> None:
    out = run_baseline("textrank-2", [ARTICLE])[0].split("\n")
    assert len(out) == 2
    assert "Heavy rain flooded the city centre on Monday." in out
    assert out == sorted(out, key=ARTICLE.index)
    assert "A local bakery gave away bread." not in out


def test_pagerank_is_a_distribution_and_ranks_the_hub_first() -> None:
    sets = [{"a", "b", "c"}, {"a", "b"}, {"a", "c"}, {"z", "y"}]
    scores = pagerank(similarity_matrix(sets, [3, 2, 2, 2]))
    assert scores.sum() == pytest.approx(1.0)
    assert scores.argmax() == 0 and scores.argmin() == 3


def test_random_is_seeded() -> None:
    texts = [ARTICLE] * 5
    assert run_baseline("random-2", texts, seed=1) == run_baseline("random-2", texts, seed=1)
    assert run_baseline("random-2", texts, seed=1) != run_baseline("random-2", texts, seed=2)


def test_oracle_is_an_upper_bound_of_extraction() -> None:
    refs = [["The city council said flooding was the worst in years."]]
    oracle = run_baseline("oracle", [ARTICLE], references=refs)
    assert "The city council said" in oracle[0]
    scores = {
        name: compute_rouge(
            run_baseline(name, [ARTICLE], references=refs), refs, bootstrap=0
        ).per_example[0]["rouge1"]
        for name in ("oracle", "lead-3", "textrank-3", "random-2")
    }
    assert all(scores["oracle"] >= v for v in scores.values())
    with pytest.raises(ConfigError, match="needs one reference"):
        run_baseline("oracle", [ARTICLE])


def test_unknown_options_are_rejected() -> None:
    with pytest.raises(ConfigError, match="unknown options"):
        run_baseline("lead-3", ["a"], window=3)


def test_progress_callback_counts_texts() -> None:
    seen: list[int] = []
    run_baseline("lead-1", ["One. Two."] * 250, progress=seen.append)
    assert seen == [100, 200, 250]
