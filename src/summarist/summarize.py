"""`summarist summarize`: read texts, summarize them in batches with a progress bar, write.

summarist summarize --model runs/t5/model dialogues.jsonl --output summaries.jsonl

Under a launcher (`torchrun --nproc_per_node N -m summarist summarize ... -o out.jsonl`) the
inputs are cut into shards that the ranks share out; each finished shard is written atomically
beside the output, the main rank merges them in input order, and a re-run after a crash
computes only the shards that were not finished.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from summarist.config.fields import cli
from summarist.config.generation import GenerationSettings
from summarist.config.inference import InferenceSettings
from summarist.errors import ConfigError, check_choice

log = logging.getLogger(__name__)


@dataclass
class SummarizeConfig(InferenceSettings):
    """What to summarize, with which model and how."""

    model: str = field(metadata=cli(short="-m"))
    """Model directory, run directory (its model/), hub id, short name or `summarist export`
    directory."""
    input: str = field(default="-", metadata=cli(argument=True, metavar="SOURCE"))
    """A text file, a folder of .txt files, a .jsonl/.json/.csv/.tsv table, or - for stdin."""
    output: Path | None = field(default=None, metadata=cli(short="-o"))
    """Where to write (default: stdout)."""
    format: str | None = None
    """jsonl or text (default: from the output's suffix, else text)."""
    max_source_length: int | None = None
    """Source token limit (default: the model's)."""
    generation: dict[str, Any] = field(
        default_factory=dict, metadata=cli(overrides=GenerationSettings)
    )
    """Overrides of the model's saved `GenerationSettings`, by field name (None: keep)."""

    def __post_init__(self) -> None:
        from summarist.inference.backends.select import check_backend_options
        from summarist.inference.outputs import OUTPUT_FORMATS
        from summarist.inference.summarizer import LONG_MODES
        from summarist.rundir import check_output_file

        if self.shard_size < 1:
            raise ConfigError(f"--shard-size must be >= 1, got {self.shard_size}", "e.g. 256")
        if self.batch_size is not None and self.batch_size < 1:
            raise ConfigError(f"--batch-size must be >= 1, got {self.batch_size}", "e.g. 16")
        if self.max_source_length is not None and self.max_source_length < 1:
            raise ConfigError(
                f"--max-source-length must be >= 1, got {self.max_source_length}",
                "drop it to use the model's limit",
            )
        check_choice("--long", self.long, LONG_MODES)
        check_backend_options(self.backend, self.quantize, self.device)
        if self.format is not None:
            check_choice("--format", self.format, OUTPUT_FORMATS)
        if self.output is not None:
            check_output_file(self.output, "--output")
        self.generation = {k: v for k, v in self.generation.items() if v is not None}
        GenerationSettings().with_overrides(**self.generation)  # unknown names fail here


def run_summarize(cfg: SummarizeConfig, stdout: TextIO | None = None) -> Any:
    """Summarize `cfg.input` and write the result; returns the `SummaryBatch`."""
    from summarist.data.texts import read_texts
    from summarist.distributed import Ranks
    from summarist.inference.outputs import format_rows, guess_format, summary_rows
    from summarist.inference.summarizer import Summarizer

    ranks = Ranks.start()
    if ranks.world > 1 and (cfg.output is None or cfg.input == "-"):
        raise ConfigError(
            f"under a launcher ({ranks.world} ranks) summarize reads a file and writes a file",
            "pass an input file (not -) and --output FILE",
        )
    inputs = read_texts(cfg.input, cfg.text_column, cfg.encoding)
    summarizer = Summarizer.from_pretrained(
        cfg.model,
        device=cfg.device or ranks.gpu(),
        backend=cfg.backend,
        quantize=cfg.quantize,
        lang=cfg.lang,
        max_source_length=cfg.max_source_length,
        batch_size=cfg.batch_size,
        long=cfg.long,
    )
    if ranks.world > 1:
        return _summarize_sharded(cfg, inputs, summarizer, ranks)
    with _progress(len(inputs.texts)) as advance:
        result = summarizer.summarize_detailed(inputs.texts, progress=advance, **cfg.generation)
    text = format_rows(summary_rows(inputs, result), guess_format(cfg.output, cfg.format))
    if cfg.output is None:
        (stdout or sys.stdout).write(text)
    else:
        from summarist.rundir import write_text_atomic

        write_text_atomic(cfg.output, text)
    log.info(
        "%d summaries in %.1fs (%.2f/s) with %s", len(result.summaries), result.seconds,
        result.per_second, summarizer.backend.name,
    )  # fmt: skip
    return result


def _summarize_sharded(cfg: SummarizeConfig, inputs: Any, summarizer: Any, ranks: Any) -> Any:
    """This rank's shards, then (main rank) the merged output; returns the rows."""
    import time
    from dataclasses import asdict, replace

    from summarist.distributed import fingerprint, map_in_shards, remove_shards
    from summarist.inference.outputs import format_rows, guess_format, summary_rows
    from summarist.rundir import write_text_atomic

    assert cfg.output is not None  # checked by run_summarize
    settings = {k: v for k, v in asdict(cfg).items() if k not in ("output", "format", "input")}
    key = fingerprint(inputs.texts, inputs.ids, settings)
    parts = cfg.output.parent / f".{cfg.output.name}.shards"
    began = time.perf_counter()

    def compute(start: int, end: int) -> list[dict[str, Any]]:
        piece = replace(inputs, texts=inputs.texts[start:end], ids=inputs.ids[start:end])
        result = summarizer.summarize_detailed(piece.texts, **cfg.generation)
        return summary_rows(piece, result)

    rows = map_in_shards(len(inputs.texts), compute, parts, key, ranks, cfg.shard_size)
    if ranks.is_main:
        write_text_atomic(cfg.output, format_rows(rows, guess_format(cfg.output, cfg.format)))
        remove_shards(parts, ranks)
        seconds = time.perf_counter() - began
        log.info("%d summaries in %.1fs on %d ranks (%.2f/s)", len(rows), seconds, ranks.world,
                 len(rows) / max(seconds, 1e-9))  # fmt: skip
    return rows


class _progress:
    """A rich progress bar on stderr (hidden for a single text)."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.bar: Any = None

    def __enter__(self) -> Any:
        if self.total <= 1:
            return lambda n: None
        from rich.console import Console
        from rich.progress import Progress

        self.bar = Progress(console=Console(stderr=True), transient=True)
        self.bar.start()
        task = self.bar.add_task("summarizing", total=self.total)
        return lambda n: self.bar.advance(task, n)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()
