"""Decoder-only training data: prompt + summary as one sequence, the loss on the summary only.

`tokenize_causal_pairs` is a plain function (texts, summaries, tokenizer, prompt builder,
lengths) -> `Example`s whose `input_ids` are prompt + target and whose `labels` are the target
alone (the summary's tokens and the stop token): the labels are the last `len(labels)` ids.
`CausalCollator` pads a batch on the LEFT, so that every row's summary ends at the last
column: the loss then needs the LM head on the last `longest target + 1` positions only
(`logits_to_keep`), not on the prompt, which is most of the sequence (a 49k-vocabulary head
over ~250 prompt tokens is a fifth of SmolLM2's forward pass). Position ids count real tokens
only, so a left-padded row sees the positions it would alone. `causal_loss` is the
token-mean cross-entropy over the summary tokens (`completion_mask`), the same quantity
transformers' loss gives with -100 on the prompt.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from summarist.models.prompt import PromptBuilder
from summarist.training.collate import IGNORE_INDEX, Example


def tokenize_causal_pairs(
    texts: Sequence[str],
    summaries: Sequence[str],
    tokenizer: Any,
    prompt: PromptBuilder,
    *,
    max_source_length: int,
    max_target_length: int,
    batch_size: int = 1000,
) -> list[Example]:
    """One `Example` per pair: prompt (text cut to fit `max_source_length`) + target.

    `tokenizer` is the prompt builder's (kept in the signature for the pluggable store).
    """
    del tokenizer  # the builder holds it; same signature as the seq2seq tokenizer function
    out: list[Example] = []
    for start in range(0, len(texts), batch_size):
        prompts = prompt.encode(texts[start : start + batch_size], max_source_length)
        targets = prompt.encode_targets(summaries[start : start + batch_size], max_target_length)
        out.extend(Example(p + t, t) for p, t in zip(prompts, targets, strict=True))
    return out


@dataclass
class CausalEncoder:
    """(source, summary) → (prompt + target, target) for decoder-only models: the `data.tokens`
    Encoder of `tokenize_causal_pairs`, so that the token store of issue 28 caches them too."""

    prompt: PromptBuilder
    max_source_length: int
    max_target_length: int
    columns: tuple[str, ...] = ("text", "summary")
    VERSION = 1

    def key(self) -> dict[str, Any]:
        from summarist.data.tokens import tokenizer_fingerprint

        tok = self.prompt.tokenizer
        return {
            "encoder": "causal", "version": self.VERSION,
            "tokenizer": tokenizer_fingerprint(tok),
            "chat_template": str(getattr(tok, "chat_template", None)),
            "settings": repr(self.prompt.settings), "family": self.prompt.family.name,
            "parts": repr(self.prompt.parts), "stop_ids": list(self.prompt.stop_ids),
            "max_source_length": self.max_source_length,
            "max_target_length": self.max_target_length,
        }  # fmt: skip

    def __call__(self, table: Any) -> tuple[list[list[int]], list[list[int]]]:
        examples = tokenize_causal_pairs(
            table.column("text").to_pylist(), table.column("summary").to_pylist(),
            self.prompt.tokenizer, self.prompt, max_source_length=self.max_source_length,
            max_target_length=self.max_target_length,
        )  # fmt: skip
        return [list(e.input_ids) for e in examples], [list(e.labels) for e in examples]


class CausalCollator:
    """Left-pad `Example`s of prompt + target: input_ids, attention_mask, position_ids, labels
    (-100 on prompt and padding) and completion_mask (True on the target tokens)."""

    causal = True

    def __init__(self, pad_token_id: int) -> None:
        self.pad_token_id = pad_token_id

    def __call__(self, batch: Sequence[Example]) -> dict[str, Any]:
        import torch

        width = max(len(e.input_ids) for e in batch)
        input_ids = torch.full((len(batch), width), self.pad_token_id, dtype=torch.long)
        attention = torch.zeros((len(batch), width), dtype=torch.long)
        labels = torch.full((len(batch), width), IGNORE_INDEX, dtype=torch.long)
        for i, ex in enumerate(batch):
            n, t = len(ex.input_ids), len(ex.labels)
            input_ids[i, width - n :] = torch.tensor(ex.input_ids)
            attention[i, width - n :] = 1
            labels[i, width - t :] = torch.tensor(ex.labels)
        positions = (attention.cumsum(dim=1) - 1).clamp(min=0)
        return {
            "input_ids": input_ids,
            "attention_mask": attention,
            "position_ids": positions,
            "labels": labels,
            "completion_mask": labels != IGNORE_INDEX,
        }


def causal_loss(model: Any, batch: dict[str, Any]) -> Any:
    """Mean cross-entropy of the target tokens (`completion_mask`) given everything before.

    Only the last `K = longest target + 1` positions reach the LM head: with left padding every
    target lies there. Labels outside `completion_mask` are never read, whatever they hold.
    """
    import torch

    mask = batch["completion_mask"]
    width = mask.shape[1]
    first = int(mask.float().argmax(dim=1).masked_fill(~mask.any(dim=1), width).min())
    keep = min(width, width - first + 1)
    out = model(
        input_ids=batch["input_ids"],
        attention_mask=batch["attention_mask"],
        position_ids=batch["position_ids"],
        logits_to_keep=keep,
        use_cache=False,
    )
    logits = out.logits[:, :-1].float()  # position j predicts token j + 1
    target_mask = mask[:, width - keep + 1 :]
    targets = batch["labels"][:, width - keep + 1 :].masked_fill(~target_mask, IGNORE_INDEX)
    loss = torch.nn.functional.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
        ignore_index=IGNORE_INDEX, reduction="sum",
    )  # fmt: skip
    return loss / target_mask.sum().clamp(min=1)
