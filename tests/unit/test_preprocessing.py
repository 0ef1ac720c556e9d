"""Tokenization (prefix, truncation, labels), dynamic padding, length-grouped batches."""

from __future__ import annotations

import pytest

from summarist.training.collate import (
    IGNORE_INDEX,
    Example,
    Seq2SeqCollator,
    length_grouped_batches,
    padding_share,
    tokenize_pairs,
)
from tests.tiny_models import tiny_model


@pytest.fixture(scope="module")
def t5_tok():  # type: ignore[no-untyped-def]
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(tiny_model("t5")))


@pytest.fixture(scope="module")
def bert_tok():  # type: ignore[no-untyped-def]
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(tiny_model("bert")))


def test_prefix_and_truncation(t5_tok) -> None:  # type: ignore[no-untyped-def]
    long = "anna got the keys today " * 50
    [ex] = tokenize_pairs(t5_tok, [long], [long], prefix="summarize: ",
                          max_source_length=20, max_target_length=7)  # fmt: skip
    assert len(ex.input_ids) == 20
    assert len(ex.labels) == 7
    assert ex.labels[-1] == t5_tok.eos_token_id
    assert t5_tok.decode(ex.input_ids).startswith("summarize:")
    [plain] = tokenize_pairs(t5_tok, ["hi"], ["hi"], max_source_length=20, max_target_length=7)
    assert not t5_tok.decode(plain.input_ids).startswith("summarize")


def test_bert_labels_drop_the_decoder_start_token(bert_tok) -> None:  # type: ignore[no-untyped-def]
    [ex] = tokenize_pairs(bert_tok, ["anna got lunch"], ["anna got lunch"],
                          decoder_start_token_id=bert_tok.cls_token_id)  # fmt: skip
    assert ex.input_ids[0] == bert_tok.cls_token_id
    assert ex.labels[0] != bert_tok.cls_token_id
    assert ex.labels[-1] == bert_tok.sep_token_id


def test_collator_pads_dynamically_with_ignore_index() -> None:
    batch = Seq2SeqCollator(pad_token_id=0)([Example([5, 6, 7], [8, 9]), Example([5], [8, 9, 10])])
    assert batch["input_ids"].tolist() == [[5, 6, 7], [5, 0, 0]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]
    assert batch["labels"].tolist() == [[8, 9, IGNORE_INDEX], [8, 9, 10]]
    padded = Seq2SeqCollator(0, pad_to_multiple_of=8)([Example([1, 2, 3], [4])])
    assert padded["input_ids"].shape == (1, 8)


def test_length_grouped_batches_cover_every_example_once_and_cut_padding() -> None:
    import random

    rng = random.Random(1)
    lengths = [rng.randint(5, 400) for _ in range(1000)]
    grouped = length_grouped_batches(lengths, 8, seed=3, epoch=0)
    plain = length_grouped_batches(lengths, 8, seed=3, epoch=0, group_by_length=False)
    for batches in (grouped, plain):
        flat = sorted(i for b in batches for i in b)
        assert flat == list(range(1000))
    assert padding_share(grouped, lengths) < 0.1 < padding_share(plain, lengths)
    # The longest batch comes first, so memory errors show at step 1.
    assert max(lengths[i] for i in grouped[0]) == max(lengths)


def test_batches_are_a_pure_function_of_seed_and_epoch() -> None:
    lengths = list(range(100))
    assert length_grouped_batches(lengths, 4, seed=1, epoch=2) == length_grouped_batches(
        lengths, 4, seed=1, epoch=2
    )
    assert length_grouped_batches(lengths, 4, seed=1, epoch=2) != length_grouped_batches(
        lengths, 4, seed=1, epoch=3
    )


def test_split_by_tokens_cuts_only_batches_over_the_budget() -> None:
    from summarist.training.collate import Example, split_by_tokens

    examples = [Example([1] * n, [2] * 10) for n in (500, 480, 100, 90, 80, 70, 60, 50)]
    everything = list(range(8))
    assert split_by_tokens(everything, examples, None) == [everything]
    assert split_by_tokens(everything, examples, 0) == [everything]
    assert split_by_tokens([2, 3, 4, 5], examples, 3072) == [[2, 3, 4, 5]]  # 4 x 110 fits
    pieces = split_by_tokens(everything, examples, 1100)
    assert sorted(i for p in pieces for i in p) == everything  # every example once
    assert pieces[0] == [0, 1]  # the two long ones together: 2 x 510 = 1020 tokens
    for piece in pieces:
        width = max(len(examples[i].input_ids) + len(examples[i].labels) for i in piece)
        assert len(piece) * width <= 1100
    # one example longer than the budget still runs, alone
    assert split_by_tokens([0, 2], examples, 100) == [[0], [2]]
