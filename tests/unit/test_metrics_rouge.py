"""ROUGE: parity with rouge-score on synthetic text, multi-reference rules, tokenizers."""

from __future__ import annotations

import random
import sys
import types

import numpy as np
import pytest
from rouge_score import rouge_scorer, tokenizers

from summarist.metrics import bootstrap_ci, compute_rouge, score_examples
from summarist.metrics.lcs import lcs_indices, lcs_length
from summarist.metrics.tokenizers import (
    detect_tokenizer,
    tokenize_rouge_score,
    tokenize_unicode,
    tokenizer_for_lang,
)

TYPES = ["rouge1", "rouge2", "rougeL", "rougeLsum"]
WORDS = [
    "the",
    "a",
    "cat",
    "cats",
    "dog",
    "dogs",
    "running",
    "runs",
    "ran",
    "sat",
    "sitting",
    "on",
    "mat",
    "mats",
    "happily",
    "generously",
    "organization",
    "organizations",
    "2021",
    "x-ray",
    "re-enter",
    "U.S.",
    "café",
    "naïve",
    "don't",
    "it's",
    "meeting",
    "meetings",
    "agreed",
    "agreement",
    "#Person1#",
    "Bob's",
]


def random_text(rng: random.Random) -> str:
    sents = []
    for _ in range(rng.randint(0, 4)):
        words = [rng.choice(WORDS) for _ in range(rng.randint(0, 12))]
        sents.append(" ".join(words) + rng.choice([".", "!", "", "?"]))
    return rng.choice(["\n", "\n\n", "\n \n"]).join(sents)


@pytest.fixture(scope="module")
def scorer() -> rouge_scorer.RougeScorer:
    return rouge_scorer.RougeScorer(TYPES, use_stemmer=True)


@pytest.mark.parametrize("stem", [True, False])
def test_tokenizer_matches_rouge_score(stem: bool) -> None:
    ref = tokenizers.DefaultTokenizer(use_stemmer=stem)
    rng = random.Random(1)
    texts = [random_text(rng) for _ in range(300)]
    texts += ["ÉCOLE Straße İstanbul 42nd", "  ", "", "running\tjumps\u00a0quickly", "ǅemal"]
    for text in texts:
        assert tokenize_rouge_score(text, stem) == ref.tokenize(text), text


def test_bit_parallel_lcs_matches_rouge_score_tables() -> None:
    rng = random.Random(0)
    for _ in range(3000):
        a = [rng.choice("abcdef") for _ in range(rng.randint(0, 20))]
        b = [rng.choice("abcdef") for _ in range(rng.randint(0, 20))]
        assert lcs_length(a, b) == rouge_scorer._lcs_table(a, b)[-1][-1]
        assert lcs_indices(a, b) == rouge_scorer.lcs_ind(a, b)


def test_per_example_scores_equal_rouge_score(scorer: rouge_scorer.RougeScorer) -> None:
    rng = random.Random(2)
    preds = [random_text(rng) for _ in range(400)]
    refs = [random_text(rng) for _ in range(400)]
    ours = score_examples(preds, [[r] for r in refs], splitter="newline")
    for k, (p, r) in enumerate(zip(preds, refs, strict=True)):
        theirs = scorer.score(r, p)
        for t, rt in enumerate(TYPES):
            expected = (theirs[rt].precision, theirs[rt].recall, theirs[rt].fmeasure)
            assert ours[k, t] == pytest.approx(expected, abs=1e-9), (p, r, rt)


def test_multi_reference_max_equals_score_multi(scorer: rouge_scorer.RougeScorer) -> None:
    rng = random.Random(3)
    preds = [random_text(rng) for _ in range(150)]
    refs = [[random_text(rng) for _ in range(rng.randint(1, 4))] for _ in range(150)]
    ours = score_examples(preds, refs, splitter="newline", multi_ref="max")
    for k, (p, rs) in enumerate(zip(preds, refs, strict=True)):
        theirs = scorer.score_multi(rs, p)
        for t, rt in enumerate(TYPES):
            assert ours[k, t, 2] == pytest.approx(theirs[rt].fmeasure, abs=1e-9)
            assert ours[k, t, 0] == pytest.approx(theirs[rt].precision, abs=1e-9)


def test_multi_reference_avg_and_pooled(scorer: rouge_scorer.RougeScorer) -> None:
    pred = "the cat sat on the mat"
    refs = ["the cat sat", "a dog lay on a mat today"]
    avg = score_examples([pred], [refs], multi_ref="avg", use_stemmer=True)[0]
    each = [scorer.score(r, pred)["rouge1"] for r in refs]
    assert avg[0, 2] == pytest.approx(np.mean([s.fmeasure for s in each]))
    assert avg[0, 1] == pytest.approx(np.mean([s.recall for s in each]))
    # pooled (ROUGE-1.5.5 -f A): unigram hits 3 + 2 = 5; reference unigrams 3 + 7 = 10;
    # prediction unigrams counted once per reference: 6 + 6 = 12.
    pooled = score_examples([pred], [refs], multi_ref="pooled")[0]
    assert pooled[0, 0] == pytest.approx(5 / 12)
    assert pooled[0, 1] == pytest.approx(5 / 10)
    # With a single reference every rule agrees.
    one = [score_examples([pred], [refs[:1]], multi_ref=m)[0] for m in ("max", "avg", "pooled")]
    assert np.allclose(one[0], one[1]) and np.allclose(one[0], one[2])


def test_rouge_lsum_sees_sentence_splits() -> None:
    pred = "He went home. The cat sat on the mat."
    ref = "The cat sat on the mat. He went home."
    res = compute_rouge([pred], [[ref]], bootstrap=0)
    lsum, rouge_l = res.per_example[0]["rougeLsum"], res.per_example[0]["rougeL"]
    assert lsum == pytest.approx(100.0)
    assert rouge_l < 80  # the swapped order hurts plain LCS, not the summary-level one
    unsplit = compute_rouge([pred], [[ref]], bootstrap=0, sentence_splitter="newline")
    assert unsplit.per_example[0]["rougeLsum"] == pytest.approx(rouge_l)


def test_result_summary_settings_and_per_example_shapes() -> None:
    preds = ["the cat sat", "a dog barked loudly", ""]
    refs = [["the cat sat down"], ["the dog barked"], ["nothing here"]]
    res = compute_rouge(preds, refs, bootstrap=200, seed=1)
    summary = res.summary()
    assert set(summary) == set(TYPES)
    for rt in TYPES:
        assert set(summary[rt]) == {"fmeasure", "precision", "recall"}
        f = summary[rt]["fmeasure"]
        column = [row[rt] for row in res.per_example]
        low, mid, high = bootstrap_ci(np.array(column), 200, 0.95, seed=1)[:, 0]
        assert (f["low"], f["mid"], f["high"]) == pytest.approx((low, mid, high), abs=1e-3)
        assert f["mid"] == pytest.approx(np.mean(column), abs=1e-3)
        assert f["low"] < f["mid"] < f["high"]  # three different scores: a real interval
    assert res.per_example[2] == dict.fromkeys(TYPES, 0.0)
    assert res.settings() == {
        "multi_ref": "max",
        "stemmer": True,
        "tokenizer": "rouge-score",
        "sentence_splitter": "punkt",
        "bootstrap": 200,
        "confidence": 0.95,
        "seed": 1,
    }


def test_unicode_tokenizer_scores_chinese() -> None:
    zh = "我们提出了一种新的方法"
    other = "飞行器姿态控制系统"
    assert tokenize_rouge_score(zh) == []
    assert tokenize_unicode(zh)[:3] == ["我", "们", "提"]
    assert tokenize_unicode("Running 快跑 Мир") == ["run", "快", "跑", "мир"]
    # Combining marks stay inside their word (Python's \\w does not match them).
    assert tokenize_unicode("नमस्ते दुनिया, e\u0301te\u0301") == ["नमस्ते", "दुनिया", "e\u0301te\u0301"]
    res = compute_rouge([zh, zh], [[zh], [other]], bootstrap=0)
    assert res.tokenizer == "unicode"
    assert res.per_example[0]["rouge1"] == pytest.approx(100.0)
    assert res.per_example[1]["rouge1"] == pytest.approx(0.0)
    forced = compute_rouge([zh], [[zh]], bootstrap=0, lang="en")
    assert forced.per_example[0]["rouge1"] == 0.0


def test_language_detection() -> None:
    assert detect_tokenizer(["The cat sat on the mat."]) == "rouge-score"
    assert detect_tokenizer(["我们提出了一种新的方法"]) == "unicode"
    assert detect_tokenizer(["Привет, как дела?"]) == "unicode"
    assert tokenizer_for_lang("zh", ["the cat"]) == "unicode"
    assert tokenizer_for_lang("en", ["我们"]) == "rouge-score"
    assert tokenizer_for_lang("auto", ["我们提出"]) == "unicode"


# spawn starts fresh interpreters (~20 s here); the default suite keeps the fork case.
@pytest.mark.parametrize(
    "torch_loaded", [False, pytest.param(True, marks=pytest.mark.slow)], ids=["fork", "spawn"]
)
def test_workers_give_identical_scores(monkeypatch: pytest.MonkeyPatch, torch_loaded: bool) -> None:
    # With torch imported the pool must spawn (forking torch's thread pools can hang).
    if torch_loaded:
        monkeypatch.setitem(sys.modules, "torch", types.ModuleType("torch"))
    elif "torch" in sys.modules:
        pytest.skip("torch is loaded in this test process, so the pool spawns")
    rng = random.Random(4)
    preds = [random_text(rng) for _ in range(300)]
    refs = [[random_text(rng)] for _ in range(300)]
    one = score_examples(preds, refs, workers=1)
    two = score_examples(preds, refs, workers=2)
    assert np.array_equal(one, two)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"multi_ref": "best"}, "multi_ref"),
        ({"confidence": 1.5}, "confidence"),
    ],
)
def test_compute_rouge_rejects_bad_settings(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        compute_rouge(["a"], [["a"]], **kwargs)


def test_compute_rouge_rejects_misaligned_and_missing_references() -> None:
    with pytest.raises(ValueError, match="2 predictions but 1"):
        compute_rouge(["a", "b"], [["a"]])
    with pytest.raises(ValueError, match="at least one reference"):
        compute_rouge(["a"], [[]])


def test_unicode_word_pattern_gives_the_words_of_the_one_character_at_a_time_pattern() -> None:
    import random
    import re

    from summarist.metrics import tokenizers as T

    # the pattern as first written: one character per repeat (slow), the definition of a word
    reference = re.compile(f"[{T.CJK_CLASS}]|(?:[^\\W_{T.CJK_CLASS}]|[{T._MARKS}])+")
    texts = ["नमस्ते दुनिया क्षत्रिय", "مَرْحَبًا بِالْعَالَمِ", "e\u0301te\u0301 cafe\u0301_x",
             "中文和English混合123", "한국어 텍스트", "ไทย ภาษาไทย", "a_b __ x\u0303y\u0306",
             "Ünïcødé ß ½ ² ℌ Ⅻ", "#Person1#: it's 5pm, isn't it?"]  # fmt: skip
    rng = random.Random(0)
    pool = [chr(c) for c in [*range(32, 0x2100), *range(0x3040, 0x3100), *range(0x4E00, 0x4E20),
                             *range(0xAC00, 0xAC20), *range(0xFE20, 0xFE30)]]  # fmt: skip
    texts += ["".join(rng.choice(pool) for _ in range(40)) for _ in range(2000)]
    for text in texts:
        assert T.UNICODE_TOKEN_RE.findall(text) == reference.findall(text), text


def test_lcs_indices_match_rouge_score_when_few_tokens_are_shared() -> None:
    # Most reference words are absent from the candidate (as in rougeLsum's sentence pairs):
    # the rows skipped for them must not move rouge-score's backtracking path.
    rng = random.Random(5)
    for _ in range(3000):
        a = [rng.choice("abcdefghijklmnop") for _ in range(rng.randint(0, 30))]
        b = [rng.choice("abcxyz") for _ in range(rng.randint(0, 15))]
        assert lcs_indices(a, b) == rouge_scorer.lcs_ind(a, b)
        assert lcs_indices(b, a) == rouge_scorer.lcs_ind(b, a)


def test_unicode_tokenizer_plain_text_path_equals_the_full_pattern() -> None:
    from summarist.metrics.tokenizers import UNICODE_TOKEN_RE

    texts = ["Hello, “world” — it's 2024!", "snake_case and more", "café déjà vu", "e\u0301te",
             "Мир и 我们", "नमस्ते दुनिया", "", "ÉCOLE Straße İstanbul"]  # fmt: skip
    for text in texts:
        assert tokenize_unicode(text, use_stemmer=False) == UNICODE_TOKEN_RE.findall(text.lower())


def test_prime_intervals_gives_each_result_its_own_summary() -> None:
    from summarist.metrics.rouge import prime_intervals

    rng = random.Random(6)
    refs = [[random_text(rng)] for _ in range(40)]
    systems = [[random_text(rng) for _ in range(40)] for _ in range(3)]
    alone = [compute_rouge(p, refs, bootstrap=120, seed=3).summary() for p in systems]
    primed = [compute_rouge(p, refs, bootstrap=120, seed=3) for p in systems]
    primed.append(compute_rouge(systems[0][:30], refs[:30], bootstrap=50, seed=3))  # its own
    prime_intervals(primed)
    assert [r.summary() for r in primed[:3]] == alone
    assert primed[3].summary() == compute_rouge(systems[0][:30], refs[:30], bootstrap=50,
                                                seed=3).summary()  # fmt: skip
