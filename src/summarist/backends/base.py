"""The one thing a generation backend must do: source ids in, generated ids out."""

from __future__ import annotations

from typing import Any, Protocol

from summarist.genconfig import GenerationSettings


class Backend(Protocol):
    """Generates token ids for one batch of (unpadded) source token id lists."""

    name: str

    def generate_ids(self, batch: list[list[int]], settings: GenerationSettings) -> list[list[int]]:
        """Token ids per source; structural tokens (pad, eos, ...) may be included."""
        ...


def structural_ids(tokenizer: Any) -> set[int]:
    """Ids that frame a sequence (pad, eos, bos, cls, sep) and so never count as generated.

    Other special tokens (unk, T5 sentinels) are real generation steps and do count, so that
    the hit-the-cap check sees every step the model took.
    """
    ids: set[int] = set()
    for name in ("pad_token_id", "eos_token_id", "bos_token_id", "cls_token_id", "sep_token_id"):
        value = getattr(tokenizer, name, None)
        if isinstance(value, int):
            ids.add(value)
    return ids
