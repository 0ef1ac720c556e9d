"""CTranslate2 for decoder-only models: a `ctranslate2.Generator` over an exported directory.

The export (`ctranslate2_backend.export_ctranslate2`, the same converter as seq2seq) records
`"causal": true`, the family and the prompt the model was trained with, so an export directory
summarizes with the same prompt as the torch model. Prompts go in as token strings; the prompt
is not part of the result (`include_prompt_in_result=False`), generation stops at the stop
tokens (end of turn, EOS) and the stop token is returned, as the torch backend returns it, so
new-token counts agree. One single-threaded replica per core, as for the Translator.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from summarist.config.generation import GenerationSettings


class CTranslate2GeneratorBackend:
    """Generates with a `ctranslate2.Generator`; ids in, new ids (stop token included) out."""

    name = "ctranslate2"

    def __init__(
        self,
        model_dir: str | Path,
        tokenizer: Any,
        stop_ids: list[int],
        *,
        device: str = "cpu",
        compute_type: str = "default",
        threads: int | None = None,
    ) -> None:
        import ctranslate2

        from summarist.inference.backends.ctranslate2_backend import open_model, vocabulary

        self.generator, self.parallel_batches, self.max_batch = open_model(
            ctranslate2.Generator, model_dir, device=device, compute_type=compute_type,
            threads=threads,
        )  # fmt: skip
        self.tokenizer = tokenizer
        self.token_to_id = vocabulary(Path(model_dir))
        self.end_tokens = tokenizer.convert_ids_to_tokens(list(stop_ids))
        self.workdir: Any = None

    def generate_ids(self, batch: list[list[int]], settings: GenerationSettings) -> list[list[int]]:
        return list(self.stream_ids(batch, settings, batch_size=len(batch)))

    def stream_ids(
        self, batch: list[list[int]], settings: GenerationSettings, *, batch_size: int
    ) -> Iterator[list[int]]:
        """New ids per prompt in input order, as they complete."""
        prompts = [self.tokenizer.convert_ids_to_tokens(ids) for ids in batch]
        futures = self.generator.generate_batch(
            prompts,
            max_batch_size=self.batch_size_for(len(prompts), batch_size),
            asynchronous=True,
            beam_size=settings.num_beams,
            max_length=settings.max_new_tokens,
            min_length=settings.min_new_tokens,
            no_repeat_ngram_size=settings.no_repeat_ngram_size,
            length_penalty=settings.length_penalty,
            repetition_penalty=settings.repetition_penalty,
            sampling_topk=0 if settings.do_sample else 1,
            end_token=self.end_tokens,
            return_end_token=True,
            include_prompt_in_result=False,
        )
        for future in futures:
            yield [self.token_to_id[t] for t in future.result().sequences[0]]

    def batch_size_for(self, n: int, batch_size: int) -> int:
        even = -(-n // self.parallel_batches)
        size = min(even, batch_size)
        return min(size, self.max_batch) if self.max_batch else size
