"""Decoder-only training batches and loss; left-padded generation against each input alone."""

from __future__ import annotations

import pytest
import torch

from summarist.config.generation import GenerationSettings, hit_cap
from summarist.config.prompt import PromptSettings
from summarist.inference.batching import generate_batched
from summarist.models.causal import prepare_tokenizer
from summarist.models.prompt import PromptBuilder
from summarist.models.registry import family_for
from summarist.training.causal import CausalCollator, causal_loss, tokenize_causal_pairs
from summarist.training.collate import IGNORE_INDEX
from tests.tiny_models import assert_varied, tiny_causal, training_pairs

FAMILIES = ["llama", "qwen2", "gemma", "gpt2"]


def prepared(family: str, trained: bool = True):
    model, tok = tiny_causal(family, trained=trained)
    row = family_for(model.config)
    prepare_tokenizer(tok, row, family)
    return model, tok, PromptBuilder(tok, PromptSettings(), row)


def examples(tok, prompt, n: int = 6, **kw):
    pairs = training_pairs()[:n]
    return tokenize_causal_pairs([s for s, _ in pairs], [t for _, t in pairs], tok, prompt,
                                 max_source_length=kw.get("src", 64),
                                 max_target_length=kw.get("tgt", 32))  # fmt: skip


def loss_and_grads(model, batch):
    torch.manual_seed(0)  # the same dropout masks (GPT-2 trains with dropout)
    model.zero_grad()
    loss = causal_loss(model, batch)
    loss.backward()
    return loss.detach(), [p.grad.clone() for p in model.parameters() if p.grad is not None]


def test_labels_are_the_tail_of_the_sequence_and_prompts_fit() -> None:
    _, tok, prompt = prepared("llama")
    for ex, (_, summary) in zip(examples(tok, prompt, src=40), training_pairs(), strict=False):
        assert ex.input_ids[-len(ex.labels) :] == ex.labels
        assert ex.labels[-1] == prompt.stop_ids[0]
        assert tok.decode(ex.labels[:-1]) == summary
        assert len(ex.input_ids) - len(ex.labels) <= 40


@pytest.mark.parametrize("family", FAMILIES)
def test_prompt_labels_change_neither_loss_nor_gradients(family: str) -> None:
    model, tok, prompt = prepared(family, trained=False)
    model.train()
    batch = CausalCollator(tok.pad_token_id)(examples(tok, prompt))
    loss, grads = loss_and_grads(model, batch)
    changed = {k: v.clone() for k, v in batch.items()}
    outside = ~batch["completion_mask"]
    changed["labels"][outside] = torch.randint(0, len(tok), (int(outside.sum()),))
    loss2, grads2 = loss_and_grads(model, changed)
    assert torch.equal(loss, loss2)
    assert all(torch.equal(a, b) for a, b in zip(grads, grads2, strict=True))
    # a summary label does count: the test could fail
    changed["labels"][batch["completion_mask"]] = 0
    assert not torch.equal(loss, loss_and_grads(model, changed)[0])


@pytest.mark.parametrize("family", FAMILIES)
def test_left_padded_loss_equals_each_example_alone(family: str) -> None:
    """Left padding, position ids from the mask and the head on the last K positions give the
    token-mean loss of the summary tokens, computed here one unpadded example at a time."""
    model, tok, prompt = prepared(family, trained=False)
    exs = examples(tok, prompt)
    with torch.no_grad():
        got = causal_loss(model, CausalCollator(tok.pad_token_id)(exs))
        total, count = 0.0, 0
        for ex in exs:
            ids = torch.tensor([ex.input_ids])
            labels = torch.full_like(ids, IGNORE_INDEX)
            labels[0, -len(ex.labels) :] = torch.tensor(ex.labels)
            n = len(ex.labels)
            total += float(model(input_ids=ids, labels=labels).loss) * n
            count += n
    assert float(got) == pytest.approx(total / count, rel=1e-5)


def test_only_the_last_positions_reach_the_head() -> None:
    model, tok, prompt = prepared("llama", trained=False)
    batch = CausalCollator(tok.pad_token_id)(examples(tok, prompt))
    seen: list[int] = []
    head = model.get_output_embeddings()
    hook = head.register_forward_hook(lambda m, i, o: seen.append(o.shape[1]))
    with torch.no_grad():
        causal_loss(model, batch)
    hook.remove()
    longest_target = int(batch["completion_mask"].sum(dim=1).max())
    assert seen == [longest_target + 1] and seen[0] < batch["input_ids"].shape[1]


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("beams", [1, 2])
def test_batched_generation_matches_each_input_alone(family: str, beams: int) -> None:
    model, tok, prompt = prepared(family)
    texts = [s for s, _ in training_pairs()[:12]]
    settings = GenerationSettings(num_beams=beams, max_new_tokens=14)
    kw = {"prompt": prompt, "max_source_length": 200}
    preds, counts = generate_batched(model, tok, texts, settings, batch_size=6, **kw)
    assert_varied(preds)
    alone = [generate_batched(model, tok, [t], settings, **kw) for t in texts]
    assert preds == [p[0][0] for p in alone]
    assert counts == [p[1][0] for p in alone]  # exact new tokens, input by input
    assert hit_cap(counts, 14) == [c >= 14 for c in counts]
    assert any(hit_cap(counts, 14)) and not all(hit_cap(counts, 14))
    assert not any("Summarize" in p or "assistant" in p for p in preds)  # prompt stripped


def test_new_tokens_count_text_tokens_before_the_stop_token() -> None:
    model, tok, prompt = prepared("llama")
    text = training_pairs()[0][0]
    settings = GenerationSettings(num_beams=1, max_new_tokens=30, no_repeat_ngram_size=0)
    (pred,), (count,) = generate_batched(model, tok, [text], settings, prompt=prompt)
    ids = model.generate(
        torch.tensor(prompt.encode([text])), max_new_tokens=30, do_sample=False,
        eos_token_id=prompt.stop_ids, pad_token_id=tok.pad_token_id,
    )[0, len(prompt.encode([text])[0]) :].tolist()  # fmt: skip
    assert ids[-1] == prompt.stop_ids[0]  # it stopped at <|im_end|>
    assert count == len(ids) - 1 and pred == tok.decode(ids[:-1], skip_special_tokens=True)


def test_no_repeat_ngrams_count_the_summary_not_the_prompt() -> None:
    """transformers bans every n-gram of a decoder-only model's prompt; summarist bans repeats
    within the summary only, as for seq2seq, so a summary may copy a phrase of its source."""
    model, tok, prompt = prepared("llama")
    text = "Dan: Did you get a birthday gift? Eve: Yes."
    settings = GenerationSettings(num_beams=1, max_new_tokens=12, no_repeat_ngram_size=3)
    (pred,), _ = generate_batched(model, tok, [text], settings, prompt=prompt)
    assert "a birthday gift" in pred  # a trigram of the prompt
    fresh, _, _ = prepared("llama")  # not patched by summarist's backend
    banned = fresh.generate(
        torch.tensor(prompt.encode([text])), max_new_tokens=12, do_sample=False,
        no_repeat_ngram_size=3, eos_token_id=prompt.stop_ids, pad_token_id=tok.pad_token_id,
    )  # fmt: skip
    plain = tok.decode(banned[0, len(prompt.encode([text])[0]) :], skip_special_tokens=True)
    assert "a birthday gift" not in plain  # what plain transformers would have produced


def test_a_long_document_is_map_reduced_inside_the_prompt() -> None:
    """Long-document map-reduce works unchanged: every window's whole prompt (template, tags,
    instruction and the window's text) fits the source limit; a short text passes through."""
    from summarist.inference.summarizer import Summarizer
    from tests.tiny_models import tiny_causal_dir

    limit = 96
    s = Summarizer.from_pretrained(str(tiny_causal_dir("llama")), max_source_length=limit)
    overhead = s.count_tokens([""])[0]
    assert 0 < overhead < limit // 2  # the prompt around the text counts against the limit
    doc = " ".join(f"Ann: item {i} of the budget is due on day {i}." for i in range(120))
    short = training_pairs()[0][0]
    settings = GenerationSettings(num_beams=1, max_new_tokens=10, min_new_tokens=4)
    result = s.summarize_detailed([doc, short], settings)
    trace, none = result.traces
    assert none is None and result.levels[1] == 0
    assert trace.depth >= 2 and trace.source_tokens > 5 * limit
    for level in trace.levels:
        assert all(w.tokens <= limit for w in level.windows)
        assert level.windows[0].start == 0 and level.windows[-1].end == level.units
    alone = s.summarize_detailed([short], settings)
    assert result.summaries[1] == alone.summaries[0] and result.summaries[0].strip()
    assert "Summarize" not in result.summaries[0]  # each level's prompt is stripped
