"""generate_batched: input order, length sorting, token counts, every model family."""

from __future__ import annotations

import pytest

from summarist.config.generation import GenerationSettings, hit_cap
from summarist.inference.batching import generate_batched
from summarist.models.registry import source_limit
from tests import tiny_models as tiny

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

TEXTS = [
    "Anna: Did you book the train? Ben: Yes, for Friday at nine.",
    "short",
    "Cara: The report is late again. Dan: I will finish it tonight, promise. Cara: Thanks.",
    "Eve: lunch?",
    "Finn: I lost the keys. Anna: Check the car. Finn: Found them, thanks!",
]
GREEDY = GenerationSettings(max_new_tokens=6, num_beams=1, no_repeat_ngram_size=0)


def one_at_a_time(model, tok, texts, settings, prefix=""):
    """The tutorials' loop: tokenize one text, generate, decode."""
    out = []
    for text in texts:
        enc = tok(prefix + text, return_tensors="pt")
        with torch.inference_mode():
            ids = model.generate(
                **enc, max_new_tokens=settings.max_new_tokens, num_beams=1, do_sample=False
            )
        out.append(tok.decode(ids[0], skip_special_tokens=True).strip())
    return out


@pytest.mark.parametrize("family", ["t5", "mt5", "bart", "pegasus"])
def test_batched_equals_one_at_a_time_in_input_order(family: str) -> None:
    tok = tiny.t5_tokenizer()
    model = tiny.tiny_seq2seq(family)
    model.generation_config.max_length = None
    got, counts = generate_batched(model, tok, TEXTS, GREEDY, batch_size=2, prefix="summarize: ")
    want = one_at_a_time(model, tok, TEXTS, GREEDY, prefix="summarize: ")
    tiny.assert_varied(want)
    assert got == want
    _, alone = generate_batched(model, tok, TEXTS, GREEDY, batch_size=1, prefix="summarize: ")
    assert counts == alone  # each count follows its own text back into input order


@pytest.mark.parametrize("family", ["t5", "bart"])
def test_token_counts_hit_the_cap_when_length_is_forced(family: str) -> None:
    # BART forces EOS as its last step at the cap; that still counts as hitting it.
    tok = tiny.t5_tokenizer()
    model = tiny.tiny_seq2seq("t5") if family == "t5" else tiny.tiny_seq2seq("bart")
    forced = GenerationSettings(max_new_tokens=7, min_new_tokens=7, num_beams=1)
    summaries, counts = generate_batched(model, tok, TEXTS, forced, batch_size=3)
    assert counts == [7] * len(TEXTS)
    assert all(summaries)


@pytest.mark.parametrize("family", ["t5", "mt5", "bart", "pegasus"])
@pytest.mark.parametrize("num_beams", [1, 4])
def test_mixed_lengths_in_one_batch_count_each_outputs_own_tokens(family, num_beams) -> None:
    """Early-EOS and capped outputs share batches; each count equals that input's alone.

    Beam search used to count the EOS that transformers writes after a finished beam (up to
    the batch's longest output), so one capped batch-mate marked the whole batch capped.
    """
    tok = tiny.t5_tokenizer()
    model = tiny.tiny_seq2seq(family)
    cap = 9
    settings = GenerationSettings(max_new_tokens=cap, num_beams=num_beams, no_repeat_ngram_size=0)
    texts = [source for source, _ in tiny.training_pairs()[:12]]
    got, counts = generate_batched(model, tok, texts, settings, batch_size=6, prefix="summarize: ")
    want, want_counts = [], []
    for text in texts:  # transformers alone: no batch-mates, so no padding and no EOS fill
        enc = tok("summarize: " + text, return_tensors="pt")
        with torch.inference_mode():
            ids = model.generate(**enc, generation_config=settings.to_hf(model.generation_config))
        new = ids[0, 1:].tolist()
        assert len(new) == cap or new[-1] == tok.eos_token_id
        want.append(tok.decode(new, skip_special_tokens=True).strip())
        want_counts.append(cap if len(new) == cap else len(new) - 1)
    tiny.assert_varied(want)
    assert got == want
    assert counts == want_counts
    assert hit_cap(counts, cap) == [n == cap for n in want_counts]
    assert 0 < sum(hit_cap(counts, cap)) < len(texts), counts


def test_bert2bert_starts_at_cls_and_stops_at_sep() -> None:
    from summarist.inference.detokenize import detokenize

    tok = tiny.minilm_tokenizer()
    model = tiny.tiny_seq2seq("bert2bert")
    assert model.config.decoder_start_token_id is None
    forced = GenerationSettings(max_new_tokens=5, min_new_tokens=5, num_beams=2)
    summaries, counts = generate_batched(model, tok, TEXTS, forced, batch_size=2)
    assert counts == [5] * len(TEXTS)
    # An uncased vocabulary: what was decoded went through the detokenizer (sentence capitals).
    assert all(s and s == detokenize(s.lower(), text) for s, text in zip(summaries, TEXTS))


@pytest.mark.parametrize("family", ["t5", "bart", "bert2bert"])
def test_beam_search_cache_without_cross_reorder_changes_nothing(family, monkeypatch) -> None:
    from summarist.inference.backends import torch_backend

    tok = tiny.minilm_tokenizer() if family == "bert2bert" else tiny.t5_tokenizer()
    model = tiny.tiny_seq2seq(family)
    beams = GenerationSettings(max_new_tokens=8, min_new_tokens=8, num_beams=3)
    fast = generate_batched(model, tok, TEXTS, beams, batch_size=3)
    if family != "bert2bert":  # a random BERT2BERT: only its plumbing is under test here
        tiny.assert_varied(fast[0])
    monkeypatch.setattr(torch_backend, "beam_cache", lambda: None)  # transformers' own cache
    assert generate_batched(model, tok, TEXTS, beams, batch_size=3) == fast


def test_model_mode_is_restored_for_evaluation_during_training() -> None:
    model = tiny.tiny_seq2seq("t5").train()
    generate_batched(model, tiny.t5_tokenizer(), TEXTS[:2], GREEDY)
    assert model.training


def test_empty_texts_get_empty_summaries_without_generating() -> None:
    tok = tiny.t5_tokenizer()
    model = tiny.tiny_seq2seq("t5")
    summaries, counts = generate_batched(model, tok, ["", "  ", TEXTS[0]], GREEDY)
    assert summaries[:2] == ["", ""] and counts[:2] == [0, 0]
    assert counts[2] > 0


def test_batches_are_length_sorted(monkeypatch: pytest.MonkeyPatch) -> None:
    from summarist.inference.backends import torch_backend

    seen: list[list[int]] = []
    original = torch_backend.TorchBackend.generate_ids

    def spy(self, batch, settings):
        seen.append([len(ids) for ids in batch])
        return original(self, batch, settings)

    monkeypatch.setattr(torch_backend.TorchBackend, "generate_ids", spy)
    generate_batched(tiny.tiny_seq2seq("t5"), tiny.t5_tokenizer(), TEXTS, GREEDY, batch_size=2)
    flat = [n for batch in seen for n in batch]
    assert flat == sorted(flat, reverse=True)
    assert [len(b) for b in seen] == [2, 2, 1]


def test_counts_exclude_padding_and_the_early_eos() -> None:
    from summarist.inference.backends.base import count_new_tokens

    assert count_new_tokens([5, 6, 1, 0, 0], pad_id=0, max_new_tokens=8) == 2
    assert count_new_tokens([5, 6, 7, 1], pad_id=0, max_new_tokens=4) == 4
    assert count_new_tokens([1, 0, 0], pad_id=0, max_new_tokens=4) == 0


def test_source_limit_reads_positions_and_tokenizer() -> None:
    tok = tiny.t5_tokenizer()
    assert (
        source_limit(tiny.tiny_seq2seq("t5"), tok) == 512
    )  # T5: relative positions, tokenizer limit
    assert source_limit(tiny.tiny_seq2seq("bart"), tok) == 128  # BART: position table
    assert source_limit(tiny.tiny_seq2seq("bert2bert"), tiny.minilm_tokenizer()) == 128
