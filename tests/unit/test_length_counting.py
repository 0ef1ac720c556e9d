"""Generated-token counts and the hit-the-cap flag: EOS and padding are not generation steps."""

from __future__ import annotations

import pytest

from summarist.config.generation import GenerationSettings, hit_cap
from summarist.inference.backends.base import count_new_tokens

EOS, PAD = 1, 0


@pytest.mark.parametrize(
    ("ids", "cap", "expected"),
    [
        ([5, 6, EOS, PAD, PAD], 8, 2),  # early EOS then batch padding: two text tokens
        ([5, 6, 7, EOS], 4, 4),  # every step used, the last a forced EOS (BART at the cap)
        ([5, 6, 7, 8], 4, 4),  # every step used, no EOS at all (T5 at the cap)
        ([EOS, PAD, PAD], 4, 0),  # an empty summary
        ([], 4, 0),
    ],
)
def test_count_new_tokens(ids: list[int], cap: int, expected: int) -> None:
    assert count_new_tokens(ids, PAD, cap) == expected


def test_without_a_pad_id_every_id_is_output() -> None:
    assert count_new_tokens([5, 6, EOS], None, 8) == 2


def test_hit_cap_flags_outputs_that_used_every_step() -> None:
    assert hit_cap([3, 4, 5, 0], 4) == [False, True, True, False]


def test_torch_backend_drops_the_decoder_start_token() -> None:
    pytest.importorskip("torch")
    from summarist.inference.backends.torch_backend import TorchBackend
    from tests import tiny_models as tiny

    tok = tiny.t5_tokenizer()
    backend = TorchBackend(tiny.tiny_seq2seq("t5"), tok)
    settings = GenerationSettings(max_new_tokens=5, min_new_tokens=5, num_beams=1,
                                  no_repeat_ngram_size=0)  # fmt: skip
    start = backend.generation_config(settings).decoder_start_token_id
    batch = [tok("summarize: a short one").input_ids, tok("summarize: a b c d e f g").input_ids]
    out = backend.generate_ids(batch, settings)
    assert [len(ids) for ids in out] == [5, 5]  # min = max = 5 steps, start token excluded
    assert [count_new_tokens(ids, backend.pad_id, 5) for ids in out] == [5, 5]
    assert start == backend.pad_id  # T5 starts at pad: an extra leading id would be counted


class _Result:
    def __init__(self, tokens: list[str]) -> None:
        self.hypotheses = [tokens]


class _Future:
    def __init__(self, tokens: list[str]) -> None:
        self._tokens = tokens

    def result(self) -> _Result:
        return _Result(self._tokens)


class _FakeTranslator:
    """Returns canned hypotheses: what CTranslate2 gives with `return_end_token=True`."""

    def __init__(self, outputs: list[list[str]]) -> None:
        self.outputs = outputs
        self.kwargs: dict = {}

    def translate_batch(self, sources: list[list[str]], **kwargs: object) -> list[_Future]:
        self.kwargs = kwargs
        return [_Future(out) for out in self.outputs]


def test_ctranslate2_forces_eos_on_outputs_that_reach_the_cap() -> None:
    """BART/PEGASUS force EOS at the last step in transformers; CTranslate2 does not, so the
    backend puts it there itself, and counts then agree with the torch backend's."""
    from summarist.inference.backends.ctranslate2_backend import CTranslate2Backend

    vocab = {"</s>": 2, "a": 10, "b": 11, "c": 12, "d": 13}
    backend = object.__new__(CTranslate2Backend)  # no model: a fake translator answers
    backend.translator = _FakeTranslator([["a", "b", "c", "d"], ["a", "b", "</s>"]])
    backend.tokenizer = type("Tok", (), {"convert_ids_to_tokens": lambda self, ids: ids})()
    backend.token_to_id, backend.forced_eos, backend.forced_bos = vocab, 2, None
    backend.parallel_batches, backend.max_batch = 1, 0
    settings = GenerationSettings(max_new_tokens=4, num_beams=1, no_repeat_ngram_size=0)
    out = list(backend.stream_ids([[1], [1]], settings, batch_size=8))
    assert out == [[10, 11, 12, 2], [10, 11, 2]]
    assert [count_new_tokens(ids, None, 4) for ids in out] == [4, 2]
    assert backend.translator.kwargs["max_decoding_length"] == 4
