"""In-place logits processors: the same scores as transformers' own, and the same outputs."""

from __future__ import annotations

import copy

import pytest

torch = pytest.importorskip("torch")

from transformers.generation.logits_process import (  # noqa: E402
    MinLengthLogitsProcessor,
    MinNewTokensLengthLogitsProcessor,
    NoRepeatNGramLogitsProcessor,
)

from summarist.inference.backends.logits import (  # noqa: E402
    InPlaceMinLength,
    InPlaceNoRepeatNGram,
    in_place_equivalent,
    use_in_place_processors,
)
from tests.tiny_models import tiny_seq2seq  # noqa: E402


def repetitive_ids(rows: int, length: int, vocab: int = 7) -> torch.Tensor:
    """Token rows drawn from a few ids, so that most n-grams recur (vocab 7 < head width)."""
    generator = torch.Generator().manual_seed(length)
    return torch.randint(0, vocab, (rows, length), generator=generator)


@pytest.mark.parametrize("ngram", [1, 2, 3, 4])
def test_no_repeat_ngram_bans_exactly_what_transformers_bans(ngram: int) -> None:
    reference = NoRepeatNGramLogitsProcessor(ngram)
    in_place = in_place_equivalent(reference)
    assert isinstance(in_place, InPlaceNoRepeatNGram)
    banned_somewhere = False
    for length in range(1, 20):
        ids = repetitive_ids(5, length, vocab=3)
        scores = torch.randn(5, 11)
        expected = reference(ids, scores.clone())
        given = scores.clone()
        got = in_place(ids, given)
        assert got is given  # masked in place, no copy
        assert torch.equal(got, expected)
        banned_somewhere |= bool(torch.isinf(expected).any())
    assert banned_somewhere  # the comparison covered real bans, not only untouched scores


def test_no_repeat_ngram_ignores_ids_past_the_output_head() -> None:
    ids = torch.tensor([[3, 9, 3, 9, 3]])  # bans 9 after "3", but the head is only 8 wide
    scores = torch.zeros(1, 8)
    assert torch.equal(InPlaceNoRepeatNGram(2)(ids, scores), torch.zeros(1, 8))
    assert torch.equal(NoRepeatNGramLogitsProcessor(2)(ids, torch.zeros(1, 8)), scores)


@pytest.mark.parametrize("eos", [2, [2, 5], [2, 40]])
def test_min_length_processors_mask_what_transformers_masks(eos: int | list[int]) -> None:
    references = [
        MinLengthLogitsProcessor(6, eos),
        MinNewTokensLengthLogitsProcessor(
            prompt_length_to_skip=2, min_new_tokens=4, eos_token_id=eos
        ),
    ]
    for reference in references:
        in_place = in_place_equivalent(reference)
        assert isinstance(in_place, InPlaceMinLength)
        masked = 0
        for length in range(1, 9):
            ids = repetitive_ids(3, length)
            scores = torch.randn(3, 10)
            expected = reference(ids, scores.clone())
            assert torch.equal(in_place(ids, scores), expected)
            masked += int(torch.isinf(expected).any())
        assert masked == 5  # lengths 1..5 are below the minimum of 6 (2 + 4)


def test_other_processors_are_kept_as_they_are() -> None:
    from transformers.generation.logits_process import ForcedEOSTokenLogitsProcessor

    forced = ForcedEOSTokenLogitsProcessor(10, 1)
    assert in_place_equivalent(forced) is forced


def generate(model, ids, **kw):  # type: ignore[no-untyped-def]
    with torch.inference_mode():
        return model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), **kw)


@pytest.mark.parametrize("family", ["t5", "bart"])
@pytest.mark.parametrize("beams", [1, 3])
def test_generate_outputs_are_unchanged_by_the_swap(family: str, beams: int) -> None:
    """Random tiny models repeat themselves, so no-repeat bans fire at most steps; BART also
    forces EOS at the last step, which must still win over a minimum length equal to the maximum.
    """
    model = tiny_seq2seq(family, vocab_size=64)
    ids = repetitive_ids(6, 12, vocab=60) + 2
    kw = dict(max_new_tokens=14, num_beams=beams, do_sample=False)
    cases = [
        dict(no_repeat_ngram_size=2, min_new_tokens=8),
        dict(no_repeat_ngram_size=3, min_new_tokens=14),
    ]
    before = [generate(model, ids, **kw, **case) for case in cases]
    assert use_in_place_processors(model)
    assert use_in_place_processors(model)  # a second call does not wrap twice
    model = copy.deepcopy(model)  # the override follows the copy (bound to it, not the original)
    from transformers import GenerationConfig

    config = GenerationConfig(no_repeat_ngram_size=2, min_length=3, eos_token_id=1)
    config._eos_token_tensor = torch.tensor([1])  # what `generate` sets before building the list
    swapped = model._get_logits_processor(
        generation_config=config,
        input_ids_seq_length=1,
        device="cpu",
    )
    assert {type(p) for p in swapped} == {InPlaceNoRepeatNGram, InPlaceMinLength}
    after = [generate(model, ids, **kw, **case) for case in cases]
    for old, new in zip(before, after, strict=True):
        assert torch.equal(old, new)
    plain = generate(model, ids, **kw, no_repeat_ngram_size=0, min_new_tokens=8)
    assert not torch.equal(plain, before[0])  # the bans did change what was generated


def test_raw_logits_requests_keep_transformers_processors() -> None:
    from transformers import GenerationConfig

    model = tiny_seq2seq("t5", vocab_size=64)
    use_in_place_processors(model)
    kept = model._get_logits_processor(
        generation_config=GenerationConfig(no_repeat_ngram_size=2, output_logits=True),
        input_ids_seq_length=1,
        device="cpu",
    )
    assert [type(p) for p in kept] == [NoRepeatNGramLogitsProcessor]
