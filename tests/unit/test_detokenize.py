"""The detokenizer for uncased WordPiece output: each rule, its limits, and where it applies."""

from __future__ import annotations

import pytest

from summarist.inference.detokenize import detokenize, needs_detokenizer

SOURCE = (
    "#Person1#: Hi, is Tom coming with José? #Person2#: Yes. Mr. White said IKEA's van "
    "brings the sofa to L.A. on Friday. #Person1#: Well, I ' Ve heard."
)

CASES = [
    # speaker tags in the source's casing, with and without the added tag tokens
    ("# person1 # asks # person2 #.", "#Person1# asks #Person2#."),
    ("#person2# ' s sofa.", "#Person2#'s sofa."),
    ("# person7 # leaves.", "#person7# leaves."),  # not in the source: joined, casing kept
    # contractions and possessives
    ("i ' m sure they aren ' t.", "I'm sure they aren't."),
    ("they don ' t know, it ' s 10 o ' clock.", "They don't know, it's 10 o'clock."),
    ("the parents ' car.", "The parents' car."),
    # hyphens, numbers, initialisms, brackets, quotes
    ("a well - known state - of - the - art sofa.", "A well-known state-of-the-art sofa."),
    ("at 5. 30 or 10 : 30, 3, 000 dollars.", "At 5.30 or 10:30, 3,000 dollars."),
    ("50 % off, $ 20.", "50% off, $20."),
    ("at 5 p. m. tomorrow.", "At 5 p.m. tomorrow."),
    ('he says " it ' + "' s fine \" ( maybe ) ; ok!", 'He says "it\'s fine" (maybe); ok!'),
    # capitals: I, titles, sentence starts, words the source spells one way mid-sentence
    ("yes. i think so! really? mr. white agrees.", "Yes. I think so! Really? Mr. White agrees."),
    ("tom and jose drive to l. a. in an ikea van.", "Tom and José drive to L.A. in an IKEA van."),
    # never from a capital that only opens a sentence, nor single letters or contraction ends
    ("#person1# is well and has a plan a.", "#Person1# is well and has a plan a."),
    ("i ' ve heard.", "I've heard."),
    ("i. e. nothing.", "I.e. nothing."),
    ("", ""),
]


@pytest.mark.parametrize(("decoded", "expected"), CASES)
def test_detokenize_restores_what_the_uncased_vocabulary_lost(decoded: str, expected: str) -> None:
    assert detokenize(decoded, SOURCE) == expected


def test_without_a_source_only_source_free_rules_apply() -> None:
    assert detokenize("# person1 # meets tom at 5 p. m. i ' ll go.") == (
        "#person1# meets tom at 5 p.m. I'll go."
    )


def test_a_multi_megabyte_source_takes_linear_time() -> None:
    import time

    source = "Hello Tom, how are you? " * 100_000  # 2.4 MB
    start = time.perf_counter()
    assert detokenize("tom is here.", source) == "Tom is here."
    assert time.perf_counter() - start < 10


def test_only_uncased_wordpiece_tokenizers_are_detokenized(tmp_path) -> None:
    from transformers import BertTokenizer

    from tests import tiny_models as tiny

    assert needs_detokenizer(tiny.minilm_tokenizer())
    assert not needs_detokenizer(tiny.t5_tokenizer())  # cased SentencePiece
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "hello", "Hello", "world",
                                "World"]) + "\n", encoding="utf-8")  # fmt: skip
    assert not needs_detokenizer(BertTokenizer(str(vocab), do_lower_case=False))  # cased BERT
    assert needs_detokenizer(BertTokenizer(str(vocab), do_lower_case=True))


class _EchoBackend:
    """Returns the same token ids for every source: tests the decode path, not a model."""

    name = "echo"

    def __init__(self, ids: list[int]) -> None:
        self.ids = ids

    def generate_ids(self, batch: list[list[int]], settings: object) -> list[list[int]]:
        return [list(self.ids) for _ in batch]


def _run(tokenizer: object, summary: str, sources: list[str]) -> list[str]:
    from summarist.config.generation import GenerationSettings
    from summarist.inference.batching import run_batched

    ids = tokenizer(summary, add_special_tokens=False)["input_ids"]  # type: ignore[operator]
    got, _ = run_batched(_EchoBackend(ids), tokenizer, sources, GenerationSettings())
    return got


def test_summaries_leaving_an_uncased_model_are_detokenized_against_their_own_source() -> None:
    from tests import tiny_models as tiny

    tok = tiny.minilm_tokenizer()
    sources = ["#Person1#: Ask Tom. #Person2#: Why, Tom?", "#PERSON1#: ask TOM!", "   "]
    got = _run(tok, "#Person1# isn't sure about Tom's well-known van.", sources)
    assert got == [
        "#Person1# isn't sure about Tom's well-known van.",
        "#PERSON1# isn't sure about TOM's well-known van.",
        "",  # empty sources never reach the model
    ]


def test_cased_models_output_is_left_exactly_as_decoded() -> None:
    from tests import tiny_models as tiny

    tok = tiny.t5_tokenizer()
    summary = "#Person1# isn ' t sure - i think. tom ( maybe )"
    ids = tok(summary, add_special_tokens=False)["input_ids"]
    expected = tok.decode(ids, skip_special_tokens=True).strip()
    assert _run(tok, summary, ["#Person1#: Tom, hi."]) == [expected]
