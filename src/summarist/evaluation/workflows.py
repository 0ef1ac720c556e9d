"""What the CLI calls: `summarist evaluate` (score or re-score) and `summarist baseline`."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from summarist import rundir
from summarist.baselines.constant import ConstantSummary
from summarist.config.data import DataConfig
from summarist.config.fields import cli
from summarist.config.openai import OpenAISettings
from summarist.errors import ConfigError
from summarist.evaluation.run_io import (
    data_config_dict,
    default_split,
    maybe_write_report,
    read_predictions,
    read_run_rows,
    split_for_rows,
    split_from_rows,
    write_run,
)
from summarist.evaluation.scoring import (
    ScoringConfig,
    constant_for,
    default_baselines,
    row_field,
    row_systems,
    score_split,
    score_with_baselines,
    scoring_kwargs,
)

logger = logging.getLogger(__name__)

ZERO_SHOT = "zero-shot"
"""`summarist baseline zero-shot --model M`: a model's summaries before any fine-tuning."""


@dataclass
class EvaluateConfig:
    """`summarist evaluate`: score a predictions file, or re-score a run directory."""

    predictions: Path | None = None
    """Predictions: .jsonl (field 'prediction') or one per line, aligned with the split."""
    run_dir: Path | None = field(
        default=None, metadata=cli(no_flag="the positional RUN_DIR (RUN_A RUN_B with --compare)")
    )
    """A run directory to re-score (reads its predictions.jsonl and config.yaml)."""
    data: DataConfig | None = field(default=None, metadata=cli(defaults={"dedupe": "none"}))
    """The corpus the predictions belong to (optional when the jsonl rows carry references);
    every example of the split given is scored (no dedupe unless asked)."""
    split: str | None = None
    """Split to score (default: test, else validation, else the only split)."""
    output_dir: Path | None = field(default=None, metadata=cli(short="-o"))
    """Write the run directory here (needed with --predictions; a re-scored RUN_DIR is updated
    in place without it; with --compare, comparison.json goes here)."""
    scoring: ScoringConfig = field(default_factory=ScoringConfig)
    """How predictions are scored."""
    baselines: list[str] = field(default_factory=list, metadata=cli(flag="--baseline"))
    """Also score this baseline on the same split (e.g. lead-3); repeatable."""
    report: bool = True
    """Also write report.html."""
    system: str | None = None
    """An external system to ask for the predictions: openai:MODEL@URL, or a system YAML file."""
    openai: OpenAISettings = field(default_factory=OpenAISettings)
    """How an openai: system is asked (concurrency, retries, timeout, decoding, cache)."""
    limit: int | None = None
    """With --system: ask and score only the first N examples of the split."""

    def __post_init__(self) -> None:
        given = [self.predictions, self.run_dir, self.system]
        if sum(x is not None for x in given) != 1:
            raise ConfigError(
                "give one of --predictions FILE, --system SPEC or a RUN_DIR to re-score",
                "e.g. summarist evaluate --predictions preds.jsonl --data D --output-dir OUT",
            )
        if self.predictions is not None and self.output_dir is None:
            raise ConfigError(
                "--output-dir is required with --predictions", "pass --output-dir OUT"
            )
        if self.system is not None:
            from summarist.config.openai import is_system_spec, parse_system

            if not is_system_spec(self.system):
                raise ConfigError(
                    f"--system {self.system!r} is neither openai:MODEL@URL nor a YAML file",
                    "e.g. --system openai:MODEL@http://127.0.0.1:8000/v1",
                )
            parse_system(self.system, self.openai)  # a bad URL or YAML fails before any work
            if self.data is None or self.output_dir is None:
                raise ConfigError(
                    "--system needs --data (the texts to ask about) and --output-dir",
                    "summarist evaluate --system SPEC --data D --split test --output-dir OUT",
                )
        if self.limit is not None and self.limit < 1:
            raise ConfigError(f"--limit must be >= 1, got {self.limit}", "or drop --limit")
        if self.output_dir is not None:
            rundir.check_output_dir(self.output_dir, "--output-dir")


@dataclass
class BaselineRunConfig:
    """`summarist baseline NAME`: run an extractive baseline on a corpus and score it."""

    name: str = field(metadata=cli(argument=True, metavar="NAME"))
    """Baseline to run, with its k: lead-3, lead-3-utterances(-notags), textrank-3, oracle, ...
    (an unknown name lists them all), or zero-shot (a --model as it is)."""
    data: DataConfig
    """The corpus to run on."""
    output_dir: Path | None = field(default=None, metadata=cli(short="-o"))
    """Run directory (default: runs/NAME)."""
    splits: list[str] = field(default_factory=list, metadata=cli(flag="--split"))
    """Split(s) to run on, repeatable (none given: test, else validation, else the only one)."""
    scoring: ScoringConfig = field(default_factory=ScoringConfig)
    """How the baseline's summaries are scored."""
    seed: int = field(default=0, metadata=cli(flag="--baseline-seed"))
    """Seed of the random-K baseline."""
    report: bool = True
    """Also write report.html."""
    model: str | None = None
    """zero-shot: the (instruct, decoder-only) model to score without fine-tuning, e.g.
    smollm2-135m; its prompt is the default instruction unless it was saved with one."""

    def __post_init__(self) -> None:
        from summarist.baselines import parse_baseline_name

        if self.name == ZERO_SHOT:
            if not self.model:
                raise ConfigError(
                    "the zero-shot baseline needs a model",
                    "e.g. summarist baseline zero-shot --model smollm2-135m --data D",
                )
            from summarist.models.resolve import check_local_model

            check_local_model(self.model)  # a bad path fails before any data is read
        else:
            parse_baseline_name(self.name)  # fail before loading any data
            if self.model:
                raise ConfigError(
                    f"--model is for the zero-shot baseline, not {self.name}",
                    f"drop --model, or run `summarist baseline {ZERO_SHOT} --model M`",
                )
        if self.output_dir is None:
            self.output_dir = Path("runs") / self.name
        rundir.check_output_dir(self.output_dir, "--output-dir")


def run_evaluate(cfg: EvaluateConfig) -> Path:
    """Score a predictions file (or re-score a run directory); returns the run directory.

    >>> from summarist import DataConfig, EvaluateConfig, evaluate
    >>> evaluate(EvaluateConfig(predictions=Path("preds.jsonl"), data=DataConfig(["dialogsum/"]),
    ...                         output_dir=Path("runs/eval")))  # doctest: +SKIP
    PosixPath('runs/eval')
    """
    if cfg.system is not None:
        from summarist.data.loading import load_corpus
        from summarist.evaluation.systems import run_system_evaluate

        corpus = load_corpus(cfg.data)
        split = corpus.split(cfg.split or split_to_score(corpus))
        if cfg.limit:
            split = split.select(list(range(min(cfg.limit, len(split)))))
        train = None
        if "train" in corpus.names() and split.name != "train" and not corpus.single_file:
            train = corpus.split("train")
        return run_system_evaluate(cfg, split, train)
    if cfg.run_dir is not None:
        return rescore_run(cfg.run_dir, cfg.scoring, output_dir=cfg.output_dir, report=cfg.report)
    assert cfg.predictions is not None and cfg.output_dir is not None
    rows = read_predictions(cfg.predictions)
    train = None
    if cfg.data is not None:
        from summarist.data.loading import load_corpus

        corpus = load_corpus(cfg.data)
        split = corpus.split(cfg.split or split_to_score(corpus))
        if "train" in corpus.names() and split.name != "train" and not corpus.single_file:
            train = corpus.split("train")
    else:
        split = split_from_rows(rows, cfg.split or str(rows[0].get("split") or "test"))
    predictions = [r["prediction"] for r in rows]
    metrics, out_rows = score_with_baselines(
        predictions,
        split,
        cfg.scoring,
        default_baselines(cfg.baselines, split.texts),
        hit_cap=row_field(rows, "hit_cap"),
        new_tokens=row_field(rows, "new_tokens"),
        constant=constant_for(train, split, seed=cfg.scoring.seed),
    )
    config = {
        "data": data_config_dict(cfg.data) if cfg.data else None,
        "predictions": str(cfg.predictions),
        "split": split.name,
        "scoring": dataclasses.asdict(cfg.scoring),
        "baselines": list(cfg.baselines),
    }
    out = write_run(
        cfg.output_dir,
        kind="evaluate",
        name=Path(cfg.predictions).stem,
        config=config,
        metrics_by_split={split.name: metrics},
        prediction_rows=out_rows,
    )
    maybe_write_report(out, cfg.report)
    return out


def split_to_score(corpus: Any) -> str:
    """The split scored when none is named: test, else validation, else the only one; a
    single un-split file is scored as `test` (it is what the user evaluates on)."""
    if corpus.single_file and len(corpus.splits) == 1:
        return "test"
    return default_split(corpus.names())


@contextmanager
def _progress_bar(label: str, total: int) -> Iterator[Callable[[int], None]]:
    """A transient rich progress bar on stderr (silent when stderr is not a terminal)."""
    from rich.console import Console
    from rich.progress import Progress

    console = Console(stderr=True)
    if not console.is_terminal or total < 500:
        yield lambda done: None
        return
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda done: bar.update(task, completed=done)


def run_baseline_eval(cfg: BaselineRunConfig) -> Path:
    """Run baseline `cfg.name` on each split, score it and write a baseline run directory."""
    from summarist.baselines import run_baseline
    from summarist.data.loading import load_corpus

    corpus = load_corpus(cfg.data)
    names = cfg.splits or [split_to_score(corpus)]
    metrics_by_split: dict[str, Any] = {}
    all_rows: list[dict[str, Any]] = []
    for name in names:
        split = corpus.split(name)
        logger.info("baseline %s on %s (%d examples)", cfg.name, split.name, len(split))
        with _progress_bar(f"{cfg.name} on {split.name}", len(split)) as advance:
            if cfg.name == ZERO_SHOT:
                preds = zero_shot(cfg.model or "", split.texts, advance)
            else:
                preds = run_baseline(cfg.name, split.texts, references=split.references,
                                     seed=cfg.seed, progress=advance)  # fmt: skip
        metrics, rows = score_split(preds, split, **scoring_kwargs(cfg.scoring),
                                    faithfulness=cfg.scoring)  # fmt: skip
        metrics_by_split[split.name] = metrics
        all_rows.extend(rows)
    config = {
        "data": data_config_dict(cfg.data),
        "baseline": {
            "name": cfg.name,
            "seed": cfg.seed,
            **({"model": cfg.model} if cfg.model else {}),
        },
        "splits": list(metrics_by_split),
        "scoring": dataclasses.asdict(cfg.scoring),
    }
    out = write_run(
        cfg.output_dir,
        kind="baseline",
        name=cfg.name,
        config=config,
        metrics_by_split=metrics_by_split,
        prediction_rows=all_rows,
    )
    maybe_write_report(out, cfg.report)
    return out


def zero_shot(model: str, texts: list[str], advance: Callable[[int], None]) -> list[str]:
    """`model`'s summaries of `texts` as it is (the zero-shot baseline), with its saved or
    default prompt and decoding, batched like `summarist summarize`."""
    from summarist.inference.summarizer import Summarizer

    summarizer = Summarizer.from_pretrained(model)
    done = 0

    def progress(n: int) -> None:
        nonlocal done
        done += n
        advance(done)

    return list(summarizer.summarize_detailed(texts, progress=progress).summaries)


def rescore_run(
    run_dir: Path,
    scoring: ScoringConfig,
    *,
    output_dir: Path | None = None,
    report: bool = True,
) -> Path:
    """Re-score every split of a run with `scoring`; baselines listed in its metrics are re-run.

    Without `output_dir` the run's own metrics.json and predictions.jsonl are rewritten (its
    config.yaml and model are left alone); with it, a new `evaluate` run is written there.
    """
    run_dir = Path(run_dir)
    old_path = run_dir / rundir.METRICS
    old = rundir.read_json(old_path) if old_path.is_file() else {}
    metrics_by_split: dict[str, Any] = {}
    all_rows: list[dict[str, Any]] = []
    for name, rows in read_run_rows(run_dir).items():
        split = split_for_rows(run_dir, name, rows)
        old_split = (old.get("splits") or {}).get(name) or {}
        constant = old_split.get("constant_baseline")
        systems = row_systems(rows)  # a fine-tune's zero-shot predictions, kept in its rows
        metrics, new_rows = score_with_baselines(
            [str(r.get("prediction") or "") for r in rows],
            split,
            scoring,
            [b for b in old_split.get("baselines") or {} if b != "constant" and b not in systems],
            hit_cap=row_field(rows, "hit_cap"),
            new_tokens=row_field(rows, "new_tokens"),
            # The same constant as before when the run recorded one (its training split may be
            # gone); otherwise one chosen from the split's references.
            constant=ConstantSummary(**constant) if constant else constant_for(None, split),
            swap_probe=(old_split.get("diagnostics") or {}).get("swap_probe"),
            systems=systems,
        )
        metrics_by_split[name] = {**old_split, **metrics}
        # Keep fields other tools added to the rows (latency, model outputs...); scores are new.
        all_rows.extend(
            {**old_row, **new_row} for old_row, new_row in zip(rows, new_rows, strict=True)
        )
    if output_dir is None:
        rundir.write_jsonl(run_dir / rundir.PREDICTIONS, all_rows)
        old.setdefault("kind", "evaluate")
        old.setdefault("name", run_dir.name)
        rundir.write_json(old_path, {**old, "splits": metrics_by_split})
        out = run_dir
    else:
        config = (
            rundir.read_yaml(run_dir / rundir.CONFIG) if (run_dir / rundir.CONFIG).is_file() else {}
        )
        out = write_run(
            output_dir,
            kind="evaluate",
            name=f"{old.get('name') or run_dir.name} (re-scored)",
            config={
                "data": (config or {}).get("data"),
                "rescored_from": str(run_dir),
                "scoring": dataclasses.asdict(scoring),
            },
            metrics_by_split=metrics_by_split,
            prediction_rows=all_rows,
        )
    maybe_write_report(out, report)
    return out
