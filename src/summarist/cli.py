"""The `summarist` command line: a thin layer. Each command parses flags, builds a typed config
and calls one library function. Errors caused by input print one line and exit with code 2.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from summarist.errors import ConfigError, SummaristError

app = typer.Typer(
    name="summarist",
    help="Fine-tune, evaluate and run summarization models with one reliable command.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
data_app = typer.Typer(help="Inspect and prepare summarization data.", no_args_is_help=True)
app.add_typer(data_app, name="data")

_state = {"debug": os.environ.get("SUMMARIST_DEBUG", "") not in ("", "0")}

# ---- shared data options (one definition, reused by every command that reads a corpus) ----
DataOpt = Annotated[
    list[str],
    typer.Option(
        "--data",
        "-d",
        help="File (.jsonl/.json/.csv/.tsv/.parquet), directory of split files, or hub id "
        "name[:config]. Repeat to concatenate sources.",
    ),
]
PresetOpt = Annotated[
    str | None, typer.Option(help="Column preset (samsum, dialogsum, xsum, ...).")
]
TextColOpt = Annotated[str | None, typer.Option(help="Column holding the source text.")]
SummaryColOpt = Annotated[
    list[str] | None,
    typer.Option("--summary-column", help="Reference column; repeat for several references."),
]
LanguageOpt = Annotated[
    list[str] | None, typer.Option("--language", help="Language of each --data source, in order.")
]
EncodingOpt = Annotated[str, typer.Option(help="Encoding of local text files.")]
HeaderOpt = Annotated[bool, typer.Option("--header/--no-header", help="csv/tsv have a header row.")]
MinSummaryOpt = Annotated[int, typer.Option(help="Drop examples with shorter references (words).")]
MaxSourceOpt = Annotated[
    int | None, typer.Option(help="Drop examples with longer sources (words).")
]
DedupeOpt = Annotated[str, typer.Option(help="Remove duplicates in a split: pair, source or none.")]
DropLeakedOpt = Annotated[bool, typer.Option(help="Drop eval examples whose source is in train.")]
RatiosOpt = Annotated[
    str | None, typer.Option(help="Split one file into train,validation,test, e.g. 0.8,0.1,0.1.")
]
SeedOpt = Annotated[int, typer.Option(help="Random seed.")]


def build_data_config(**kw: Any) -> Any:
    """Flags → DataConfig (validation happens in DataConfig.__post_init__)."""
    from summarist.config.data import DataConfig, parse_ratios

    return DataConfig(
        data=list(kw["data"] or []),
        preset=kw.get("preset"),
        text_column=kw.get("text_column"),
        summary_columns=list(kw.get("summary_column") or []),
        languages=list(kw.get("language") or []),
        encoding=kw.get("encoding", "utf-8"),
        header=kw.get("header", True),
        min_summary_words=kw.get("min_summary_words", 0),
        max_source_words=kw.get("max_source_words"),
        dedupe=kw.get("dedupe", "pair"),
        drop_leaked=kw.get("drop_leaked", False),
        split_ratios=parse_ratios(kw.get("split_ratios")),
        seed=kw.get("seed", 42),
    )


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks and debug logs.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only warnings and errors.")] = False,
) -> None:
    _state["debug"] = _state["debug"] or debug
    level = logging.DEBUG if _state["debug"] else logging.WARNING if quiet else logging.INFO
    _configure_logging(level)


@app.command()
def version() -> None:
    """Print the summarist version."""
    from summarist import __version__

    typer.echo(__version__)


@data_app.command("stats")
def data_stats(
    data: DataOpt,
    preset: PresetOpt = None,
    text_column: TextColOpt = None,
    summary_column: SummaryColOpt = None,
    language: LanguageOpt = None,
    encoding: EncodingOpt = "utf-8",
    header: HeaderOpt = True,
    min_summary_words: MinSummaryOpt = 0,
    max_source_words: MaxSourceOpt = None,
    dedupe: DedupeOpt = "pair",
    drop_leaked: DropLeakedOpt = False,
    split_ratios: RatiosOpt = None,
    seed: SeedOpt = 42,
    model: Annotated[
        str | None, typer.Option(help="Also count tokens with this tokenizer.")
    ] = None,
    max_source_length: Annotated[int | None, typer.Option(help="Token cap to check.")] = None,
    max_target_length: Annotated[int | None, typer.Option(help="Token cap to check.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    plot: Annotated[Path | None, typer.Option(help="Write length histograms to this PNG.")] = None,
) -> None:
    """Row counts, length percentiles, compression, truncation, empty/duplicate/leaked counts."""
    from summarist.data.stats import run_data_stats

    cfg = build_data_config(**locals())
    tokenizer = None
    if model:
        from summarist.models.pretrained import load_tokenizer

        tokenizer = load_tokenizer(model)
    stats = run_data_stats(
        cfg,
        tokenizer=tokenizer,
        model=model,
        max_source_length=max_source_length,
        max_target_length=max_target_length,
        plot=plot,
    )
    if as_json:
        typer.echo(json.dumps(stats, indent=2, ensure_ascii=False))
    else:
        from rich.console import Console

        from summarist.data.stats import render_stats

        Console().print(render_stats(stats))
        if plot:
            typer.echo(f"length histograms: {plot}")


@app.command()
def report(
    run_dirs: Annotated[list[Path], typer.Argument(help="Run directories to report on.")],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="HTML file [default: RUN_DIR/report.html, or ./report.html]."
        ),
    ] = None,
    title: Annotated[str | None, typer.Option(help="Page title.")] = None,
) -> None:
    """One self-contained HTML page: config, metrics with CIs, curves, lengths, examples."""
    from summarist.reports import write_report

    if out is None:
        out = run_dirs[0] / "report.html" if len(run_dirs) == 1 else Path("report.html")
    typer.echo(f"report: {write_report(run_dirs, out, title=title)}")


# ---- evaluation and baselines (summarist.evaluation) ----
MultiRefOpt = Annotated[
    str,
    typer.Option(
        help="Multi-reference rule: max (rouge-score), avg, or pooled (ROUGE-1.5.5 -f A)."
    ),
]
LangOpt = Annotated[
    str | None,
    typer.Option("--lang", help="Tokenizer language: auto (detect), en, zh, ja, ... or unicode."),
]
BootstrapOpt = Annotated[int, typer.Option(help="Bootstrap resamples for the 95% CIs (0: none).")]
ConfidenceOpt = Annotated[float, typer.Option(help="Confidence level of the intervals.")]
BootstrapSeedOpt = Annotated[int, typer.Option(help="Seed of the bootstrap resampling.")]
WorkersOpt = Annotated[int | None, typer.Option(help="Scoring processes (default: automatic).")]
SplitterOpt = Annotated[
    str, typer.Option(help="Sentence splitter for rougeLsum: punkt, pysbd or newline.")
]
ReportOpt = Annotated[bool, typer.Option("--report/--no-report", help="Also write report.html.")]
StemmerOpt = Annotated[
    bool, typer.Option("--stemmer/--no-stemmer", help="Porter-stem words before matching.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _scoring_config(**kw: Any) -> Any:
    from summarist.evaluation import ScoringConfig

    return ScoringConfig(
        multi_ref=kw["multi_ref"],
        lang=kw["lang"],
        bootstrap=kw["bootstrap"],
        confidence=kw["confidence"],
        seed=kw["bootstrap_seed"],
        workers=kw["workers"],
        sentence_splitter=kw["sentence_splitter"],
        stemmer=kw.get("stemmer", True),
    )


@app.command()
def evaluate(
    run_dirs: Annotated[
        list[Path] | None,
        typer.Argument(
            help="RUN_DIR to re-score, or RUN_A RUN_B with --compare.", show_default=False
        ),
    ] = None,
    predictions: Annotated[
        Path | None, typer.Option(help="Predictions: .jsonl (field 'prediction') or one per line.")
    ] = None,
    data: DataOpt = None,  # type: ignore[assignment]
    preset: PresetOpt = None,
    text_column: TextColOpt = None,
    summary_column: SummaryColOpt = None,
    language: LanguageOpt = None,
    encoding: EncodingOpt = "utf-8",
    header: HeaderOpt = True,
    min_summary_words: MinSummaryOpt = 0,
    max_source_words: MaxSourceOpt = None,
    dedupe: DedupeOpt = "none",
    drop_leaked: DropLeakedOpt = False,
    split_ratios: RatiosOpt = None,
    seed: SeedOpt = 42,
    split: Annotated[str | None, typer.Option(help="Split to score (default: test).")] = None,
    output_dir: Annotated[
        Path | None,
        typer.Option(
            "--output-dir",
            "-o",
            help="Write the run directory here (needed with --predictions; a re-scored RUN_DIR "
            "is updated in place without it; with --compare, comparison.json goes here).",
        ),
    ] = None,
    compare: Annotated[
        bool, typer.Option("--compare", help="Paired bootstrap between two run directories.")
    ] = False,
    baseline: Annotated[
        list[str] | None, typer.Option(help="Also score this baseline (e.g. lead-3); repeatable.")
    ] = None,
    multi_ref: MultiRefOpt = "max",
    lang: LangOpt = None,
    bootstrap: BootstrapOpt = 1000,
    confidence: ConfidenceOpt = 0.95,
    bootstrap_seed: BootstrapSeedOpt = 0,
    workers: WorkersOpt = None,
    sentence_splitter: SplitterOpt = "punkt",
    stemmer: StemmerOpt = True,
    report: ReportOpt = True,
    as_json: JsonOpt = False,
) -> None:
    """Score predictions (ROUGE with 95% CIs + diagnostics), re-score a run, or compare two runs."""
    from summarist.errors import ConfigError
    from summarist.evaluation import (
        CompareRunsConfig,
        EvaluateConfig,
        compare_runs,
        render_comparison,
        render_metrics,
        run_evaluate,
    )

    scoring = _scoring_config(**locals())
    runs = list(run_dirs or [])
    if compare:
        if len(runs) != 2:
            raise ConfigError(
                "--compare needs two run directories", "summarist evaluate --compare A B"
            )
        result = compare_runs(CompareRunsConfig(runs[0], runs[1], split, scoring, output_dir))
        _print(result if as_json else render_comparison(result), as_json)
        return
    if len(runs) > 1:
        raise ConfigError(f"{len(runs)} run directories given", "re-score one, or add --compare")
    cfg = EvaluateConfig(
        predictions=predictions,
        run_dir=runs[0] if runs else None,
        data=build_data_config(**locals()) if data else None,
        split=split,
        output_dir=output_dir,
        scoring=scoring,
        baselines=list(baseline or []),
        report=report,
    )
    out = run_evaluate(cfg)
    _print_run(out, as_json, render_metrics)


@app.command("baseline")
def baseline_cmd(
    name: Annotated[
        str,
        typer.Argument(
            help="Baseline to run, with its k: lead-3, textrank-3, oracle, ... "
            "(an unknown name lists them all)."
        ),
    ],
    data: DataOpt,
    preset: PresetOpt = None,
    text_column: TextColOpt = None,
    summary_column: SummaryColOpt = None,
    language: LanguageOpt = None,
    encoding: EncodingOpt = "utf-8",
    header: HeaderOpt = True,
    min_summary_words: MinSummaryOpt = 0,
    max_source_words: MaxSourceOpt = None,
    dedupe: DedupeOpt = "pair",
    drop_leaked: DropLeakedOpt = False,
    split_ratios: RatiosOpt = None,
    seed: SeedOpt = 42,
    split: Annotated[
        list[str] | None,
        typer.Option(help="Split(s) to run on, repeatable; none given: test, else validation."),
    ] = None,
    output_dir: Annotated[
        Path | None, typer.Option("--output-dir", "-o", help="Run dir (default: runs/NAME).")
    ] = None,
    baseline_seed: Annotated[int, typer.Option(help="Seed of the random-K baseline.")] = 0,
    multi_ref: MultiRefOpt = "max",
    lang: LangOpt = None,
    bootstrap: BootstrapOpt = 1000,
    confidence: ConfidenceOpt = 0.95,
    bootstrap_seed: BootstrapSeedOpt = 0,
    workers: WorkersOpt = None,
    sentence_splitter: SplitterOpt = "punkt",
    stemmer: StemmerOpt = True,
    report: ReportOpt = True,
    as_json: JsonOpt = False,
) -> None:
    """Run an extractive baseline on a corpus and write a scored run directory."""
    from summarist.evaluation import BaselineRunConfig, render_metrics, run_baseline_eval

    cfg = BaselineRunConfig(
        name=name,
        data=build_data_config(**locals()),
        output_dir=output_dir or Path("runs") / name,
        splits=list(split or []),
        scoring=_scoring_config(**locals()),
        seed=baseline_seed,
        report=report,
    )
    out = run_baseline_eval(cfg)
    _print_run(out, as_json, render_metrics)


# ---- training (summarist.training) ----
# Help and defaults come from the config dataclasses' fields (summarist.config.docs), so `--help`
# cannot drift from them. Training flags default to None: unset, a YAML preset's value stands.
def _opt(help_: str) -> Any:
    return typer.Option(help=help_)


def _field(cls: type, name: str, *decls: str, **kw: Any) -> Any:
    """An option whose help is the field's one-line doc and default (`config.docs`)."""
    from summarist.config.docs import option_help

    return typer.Option(*decls, help=option_help(cls, name), **kw)


def _train_opt(name: str, *decls: str) -> Any:
    from summarist.config.train import TrainConfig

    return _field(TrainConfig, name, *decls)


def _gen_opt(name: str, *decls: str) -> Any:
    from summarist.config.generation import GenerationSettings

    return _field(GenerationSettings, name, *decls)


@app.command()
def train(
    data: Annotated[
        list[str] | None,
        typer.Option(
            "--data",
            "-d",
            help="Training corpus "
            "(file, directory of split files or hub id); or `data:` in --config.",
        ),
    ] = None,
    model: Annotated[str | None, _train_opt("model")] = None,
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="YAML preset; flags override it.")
    ] = None,
    resume: Annotated[Path | None, _opt("Continue this run directory from its checkpoint.")] = None,
    output_dir: Annotated[str | None, _train_opt("output_dir")] = None,
    epochs: Annotated[float | None, _train_opt("epochs")] = None,
    max_steps: Annotated[int | None, _train_opt("max_steps")] = None,
    batch_size: Annotated[int | None, _train_opt("batch_size")] = None,
    grad_accum: Annotated[int | None, _train_opt("grad_accum")] = None,
    max_batch_tokens: Annotated[int | None, _train_opt("max_batch_tokens")] = None,
    learning_rate: Annotated[float | None, _train_opt("learning_rate")] = None,
    new_params_lr_scale: Annotated[float | None, _train_opt("new_params_lr_scale")] = None,
    weight_decay: Annotated[float | None, _train_opt("weight_decay")] = None,
    warmup_ratio: Annotated[float | None, _train_opt("warmup_ratio")] = None,
    max_grad_norm: Annotated[float | None, _train_opt("max_grad_norm")] = None,
    dropout: Annotated[float | None, _train_opt("dropout")] = None,
    max_source_length: Annotated[int | None, _train_opt("max_source_length")] = None,
    max_target_length: Annotated[int | None, _train_opt("max_target_length")] = None,
    prefix: Annotated[str | None, _train_opt("prefix")] = None,
    lang: Annotated[str | None, _train_opt("lang")] = None,
    eval_samples: Annotated[int | None, _train_opt("eval_samples")] = None,
    eval_every: Annotated[int | None, _train_opt("eval_every")] = None,
    log_every: Annotated[int | None, _train_opt("log_every")] = None,
    save_every: Annotated[int | None, _train_opt("save_every")] = None,
    eval_split: Annotated[list[str] | None, _train_opt("eval_splits", "--eval-split")] = None,
    final_eval_samples: Annotated[int | None, _train_opt("final_eval_samples")] = None,
    eval_batch_size: Annotated[int | None, _train_opt("eval_batch_size")] = None,
    seed: Annotated[int | None, _train_opt("seed")] = None,
    threads: Annotated[int | None, _train_opt("threads")] = None,
    precision: Annotated[str | None, _train_opt("precision")] = None,
    max_minutes: Annotated[float | None, _train_opt("max_minutes")] = None,
    max_cpu_minutes: Annotated[float | None, _train_opt("max_cpu_minutes")] = None,
    max_new_tokens: Annotated[
        int | None,
        _opt("Most tokens generated per summary (default: the references' p99, rounded up to 8)."),
    ] = None,
    num_beams: Annotated[int | None, _gen_opt("num_beams")] = None,
    length_penalty: Annotated[float | None, _gen_opt("length_penalty")] = None,
    no_repeat_ngram_size: Annotated[int | None, _gen_opt("no_repeat_ngram_size")] = None,
    min_new_tokens: Annotated[int | None, _gen_opt("min_new_tokens")] = None,
    speaker_tokens: Annotated[
        bool | None, _train_opt("speaker_tokens", "--speaker-tokens/--no-speaker-tokens")
    ] = None,
    group_by_length: Annotated[
        bool | None, _train_opt("group_by_length", "--group-by-length/--no-group-by-length")
    ] = None,
    report_to: Annotated[list[str] | None, _train_opt("report_to", "--report-to")] = None,
    push_to_hub: Annotated[str | None, _train_opt("push_to_hub")] = None,
    report: Annotated[bool | None, _train_opt("report", "--report/--no-report")] = None,
    keep_checkpoint: Annotated[
        bool | None, _train_opt("keep_checkpoint", "--keep-checkpoint/--no-keep-checkpoint")
    ] = None,
    lora: Annotated[bool | None, _train_opt("lora", "--lora/--no-lora")] = None,
    lora_r: Annotated[int | None, _train_opt("lora_r")] = None,
    lora_alpha: Annotated[int | None, _train_opt("lora_alpha")] = None,
    lora_dropout: Annotated[float | None, _train_opt("lora_dropout")] = None,
    lora_targets: Annotated[list[str] | None, _train_opt("lora_targets", "--lora-targets")] = None,
    gradient_checkpointing: Annotated[
        bool | None,
        _train_opt(
            "gradient_checkpointing", "--gradient-checkpointing/--no-gradient-checkpointing"
        ),
    ] = None,
    memory_budget_gb: Annotated[float | None, _train_opt("memory_budget_gb")] = None,
    preset: PresetOpt = None,
    text_column: TextColOpt = None,
    summary_column: SummaryColOpt = None,
    split_ratios: RatiosOpt = None,
) -> None:
    """Fine-tune a seq2seq model (or a BERT2BERT warm start), evaluate it next to lead-3."""
    flags = dict(locals())  # first line: only the parameters are local yet
    from summarist.config.train import load_train_config
    from summarist.training.loop import resume_run
    from summarist.training.loop import train as run_training

    if resume is not None:
        given = [k for k, v in flags.items() if v is not None and k not in ("resume", "threads")]
        if given:
            from summarist.errors import ConfigError

            raise ConfigError(
                f"--resume continues {resume} with the settings in its config.yaml, so "
                f"--{given[0].replace('_', '-')} cannot be given with it",
                "drop it (only --threads may change), or train a new run with --output-dir",
            )
        out = resume_run(resume, threads=threads)
    else:
        for key in ("config", "resume", "preset", "text_column", "summary_column",
                    "split_ratios", "eval_split"):  # fmt: skip
            flags.pop(key)
        flags["eval_splits"] = eval_split or None
        flags["data"] = build_data_config(**locals()) if data else None
        cfg = load_train_config(config, flags)
        out = run_training(cfg)
    from summarist.distributed import is_main_rank

    if is_main_rank():  # under a launcher every rank gets here; one says where the run is
        typer.echo(f"run directory: {out}")


# ---- inference (summarist.summarize, summarist.model_comparison, summarist.inference.backends) ----
def _summarize_opt(name: str, *decls: str, **kw: Any) -> Any:
    from summarist.summarize import SummarizeConfig

    return _field(SummarizeConfig, name, *decls, **kw)


def _compare_opt(name: str, *decls: str, **kw: Any) -> Any:
    from summarist.model_comparison import CompareModelsConfig

    return _field(CompareModelsConfig, name, *decls, **kw)


def _gen_override(name: str) -> Any:
    """A generation flag of summarize/compare: overrides the model's saved setting."""
    from summarist.config.docs import field_docs
    from summarist.config.generation import GenerationSettings

    doc = field_docs(GenerationSettings)[name].rstrip(".")
    return typer.Option(help=f"{doc} (default: the model's saved setting).")


BackendOpt = Annotated[str, _summarize_opt("backend")]
QuantizeOpt = Annotated[str | None, _summarize_opt("quantize")]
DeviceOpt = Annotated[str | None, _summarize_opt("device")]
ModelLangOpt = Annotated[str | None, _summarize_opt("lang", "--lang")]
BatchSizeOpt = Annotated[int | None, _summarize_opt("batch_size")]
LongOpt = Annotated[str, _summarize_opt("long")]
MaxSourceLenOpt = Annotated[int | None, _summarize_opt("max_source_length")]
MaxNewOpt = Annotated[int | None, _gen_override("max_new_tokens")]
MinNewOpt = Annotated[int | None, _gen_override("min_new_tokens")]
BeamsOpt = Annotated[int | None, _gen_override("num_beams")]


@app.command()
def summarize(
    model: Annotated[str, _summarize_opt("model", "--model", "-m")],
    source: Annotated[
        str, typer.Argument(help="Text file, folder of .txt, .jsonl/.csv table, or - (stdin).")
    ] = "-",
    text_column: TextColOpt = None,
    encoding: EncodingOpt = "utf-8",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Output file.")] = None,
    output_format: Annotated[
        str | None, typer.Option("--format", help="jsonl or text (default: from --output).")
    ] = None,
    backend: BackendOpt = "torch",
    quantize: QuantizeOpt = None,
    device: DeviceOpt = None,
    lang: ModelLangOpt = None,
    batch_size: BatchSizeOpt = None,
    long: LongOpt = "chunk",
    max_source_length: MaxSourceLenOpt = None,
    max_new_tokens: MaxNewOpt = None,
    min_new_tokens: MinNewOpt = None,
    num_beams: BeamsOpt = None,
    shard_size: Annotated[int, _summarize_opt("shard_size", show_default=False)] = 256,
) -> None:
    """Summarize a text, a folder of .txt files or a table, in length-sorted batches."""
    from summarist.summarize import SummarizeConfig, run_summarize

    cfg = SummarizeConfig(
        model=model,
        input=source,
        output=output,
        format=output_format,
        text_column=text_column,
        encoding=encoding,
        backend=backend,
        quantize=quantize,
        device=device,
        lang=lang,
        batch_size=batch_size,
        long=long,
        max_source_length=max_source_length,
        generation={
            "max_new_tokens": max_new_tokens,
            "min_new_tokens": min_new_tokens,
            "num_beams": num_beams,
        },
        shard_size=shard_size,
    )
    run_summarize(cfg)
    from summarist.distributed import is_main_rank

    if output is not None and is_main_rank():
        typer.echo(f"summaries: {output}", err=True)


@app.command()
def export(
    model: Annotated[
        str,
        typer.Option("--model", "-m", help="Model directory, run directory or hub id."),
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="Directory to write.")],
    export_format: Annotated[
        str, typer.Option("--format", help="Export format: ctranslate2.")
    ] = "ctranslate2",
    quantize: Annotated[
        str | None, typer.Option(help="int8, int8_float32, int16, float16, bfloat16.")
    ] = None,
    lang: ModelLangOpt = None,
    check_data: Annotated[
        str | None,
        typer.Option(
            help="Check the export against its source model on this corpus: paired bootstrap "
            "of ROUGE, written to quality_check.json in the export."
        ),
    ] = None,
    check_split: Annotated[
        str | None, typer.Option(help="Split --check-data uses (default: validation).")
    ] = None,
    check_samples: Annotated[
        int, typer.Option(help="Examples of that split to check on (0: all).")
    ] = 200,
    check_num_beams: Annotated[
        int | None,
        typer.Option(help="Beams for the check (default: the model's saved setting; 1: quick)."),
    ] = None,
    fail_on_drop: Annotated[
        bool,
        typer.Option(
            "--fail-on-drop", help="Exit with code 3 when --check-data finds a significant drop."
        ),
    ] = False,
) -> None:
    """Convert a model for a fast inference backend (CTranslate2, optionally int8)."""
    from summarist.errors import check_choice

    check_choice("--format", export_format, ("ctranslate2",))
    if fail_on_drop and check_data is None:
        raise ConfigError("--fail-on-drop needs --check-data", "add --check-data VALIDATION_DATA")
    from summarist.inference.backends.ctranslate2_backend import export_model

    gate = split = None
    if check_data is not None:  # data problems fail here, before anything is written
        from summarist.evaluation.quality_gate import QualityCheckConfig, load_check_split

        gate = QualityCheckConfig(
            data=build_data_config(data=[check_data]),
            split=check_split,
            samples=check_samples,
            generation={"num_beams": check_num_beams},
        )
        split = load_check_split(gate)
    out = export_model(model, output, quantize, lang)
    typer.echo(f"exported: {out}")
    if gate is not None:
        _check_export(out, model, gate, split, lang, fail_on_drop)


def _check_export(
    out: Path, model: str, gate: Any, split: Any, lang: str | None, fail_on_drop: bool
) -> None:
    from summarist.evaluation.quality_gate import EXIT_DROP, QUALITY_CHECK_FILE, check_export

    result = check_export(out, model, gate, split=split, lang=lang)
    typer.echo(f"quality check: {result['verdict']}")
    typer.echo(f"quality check: {out / QUALITY_CHECK_FILE}")
    if result["significant_drop"]:
        typer.secho(
            "warning: the export is significantly worse than its source model"
            + ("" if fail_on_drop else " (--fail-on-drop turns this into exit code 3)"),
            err=True,
            fg=typer.colors.YELLOW,
        )
        if fail_on_drop:
            raise typer.Exit(EXIT_DROP)


@app.command()
def compare(
    models: Annotated[
        list[str], typer.Option("--models", help="Models to compare: --models A B C (or A,B,C).")
    ],
    more_models: Annotated[
        list[str] | None, typer.Argument(help="More models (so that --models A B C works).")
    ] = None,
    source: Annotated[
        str | None, typer.Option("--input", help="Texts to summarize side by side.")
    ] = None,
    data: DataOpt = None,  # type: ignore[assignment]
    preset: PresetOpt = None,
    text_column: TextColOpt = None,
    summary_column: SummaryColOpt = None,
    encoding: EncodingOpt = "utf-8",
    split: Annotated[str | None, typer.Option(help="Split to evaluate on (with --data).")] = None,
    limit: Annotated[int | None, typer.Option(help="Only the first N examples.")] = None,
    output_dir: Annotated[
        Path, typer.Option("--output-dir", "-o", help="Run directories go here (with --data).")
    ] = Path("runs/compare"),
    backend: BackendOpt = "torch",
    quantize: QuantizeOpt = None,
    device: DeviceOpt = None,
    lang: Annotated[
        str | None,
        typer.Option(
            "--lang",
            help="Language: of mBART models (default: the saved one) and of the ROUGE "
            "tokenizer (default: detected).",
        ),
    ] = None,
    batch_size: BatchSizeOpt = None,
    long: LongOpt = "chunk",
    max_new_tokens: MaxNewOpt = None,
    num_beams: BeamsOpt = None,
    bootstrap: BootstrapOpt = 1000,
    as_json: JsonOpt = False,
    shard_size: Annotated[int, _compare_opt("shard_size", show_default=False)] = 256,
) -> None:
    """Several models side by side: summaries, lengths, latency (--data: ROUGE, CIs, tests).

    With --data and --split every model is also scored (ROUGE with bootstrap CIs), gets a run
    directory under --output-dir, and each pair of models gets a paired bootstrap test.
    """
    from summarist.evaluation import ScoringConfig
    from summarist.model_comparison import (
        CompareModelsConfig,
        compare_models,
        render_evaluation,
        render_side_by_side,
    )

    cfg = CompareModelsConfig(
        models=[m for entry in [*models, *(more_models or [])] for m in entry.split(",") if m],
        input=source,
        text_column=text_column,
        encoding=encoding,
        data=build_data_config(**{**locals(), "dedupe": "none"}) if data else None,
        split=split,
        limit=limit,
        output_dir=output_dir,
        backend=backend,
        quantize=quantize,
        device=device,
        lang=lang,
        batch_size=batch_size,
        long=long,
        generation={"max_new_tokens": max_new_tokens, "num_beams": num_beams},
        scoring=ScoringConfig(bootstrap=bootstrap, lang=lang),
        shard_size=shard_size,
    )
    result = compare_models(cfg)
    from summarist.distributed import is_main_rank

    if not is_main_rank():  # under a launcher the main rank prints
        return
    if as_json:
        typer.echo(json.dumps(result, indent=2, ensure_ascii=False))
        return
    from rich.console import Console

    console = Console()
    console.print(render_side_by_side(result))
    if "evaluation" in result:
        for table in render_evaluation(result["evaluation"]):
            console.print(table)
        typer.echo(f"run directories: {output_dir}")


def _print(obj: Any, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(obj, indent=2, ensure_ascii=False))
    else:
        from rich.console import Console

        Console().print(obj)


def _serve_opt(name: str, *decls: str) -> Any:
    from summarist.config.serve import ServeConfig

    return _field(ServeConfig, name, *decls)


@app.command()
def serve(
    model: Annotated[list[str], _serve_opt("models", "--model", "-m")],
    backend: Annotated[str, _serve_opt("backend")] = "torch",
    quantize: Annotated[str | None, _serve_opt("quantize")] = None,
    device: Annotated[str | None, _serve_opt("device")] = None,
    host: Annotated[str, _serve_opt("host")] = "127.0.0.1",
    port: Annotated[int, _serve_opt("port")] = 8000,
    api_key: Annotated[list[str] | None, _serve_opt("api_keys", "--api-key")] = None,
    cors_origin: Annotated[list[str] | None, _serve_opt("cors_origins", "--cors-origin")] = None,
    max_wait_ms: Annotated[float, _serve_opt("max_wait_ms")] = 0.0,
    max_batch_texts: Annotated[int, _serve_opt("max_batch_texts")] = 16,
    max_batch_tokens: Annotated[int, _serve_opt("max_batch_tokens")] = 8192,
    max_queue: Annotated[int, _serve_opt("max_queue")] = 256,
    max_texts: Annotated[int, _serve_opt("max_texts")] = 32,
    max_chars: Annotated[int, _serve_opt("max_chars")] = 50_000,
    max_body_bytes: Annotated[int, _serve_opt("max_body_bytes")] = 2_000_000,
    timeout_s: Annotated[float, _serve_opt("timeout_s")] = 60.0,
    max_new_tokens: Annotated[int, _serve_opt("max_new_tokens")] = 256,
    max_beams: Annotated[int, _serve_opt("max_beams")] = 8,
    drain_s: Annotated[float, _serve_opt("drain_s")] = 30.0,
) -> None:
    """Serve models over HTTP with dynamic batching, and a compare page at /."""
    import os

    from summarist.config.serve import API_KEY_ENV, ServeConfig, ServedModel, keys_from_env

    try:
        from summarist.serving import serve as run_server
    except ImportError as err:
        raise SummaristError(
            f"serving needs fastapi and uvicorn ({err.name} is missing)",
            "pip install 'summarist[serve]'",
        ) from None
    cfg = ServeConfig(
        models=[ServedModel.parse(m) for m in model],
        backend=backend, quantize=quantize, device=device, host=host, port=port,
        api_keys=[*(api_key or []), *keys_from_env(os.environ.get(API_KEY_ENV))],
        cors_origins=cors_origin or [], max_wait_ms=max_wait_ms,
        max_batch_texts=max_batch_texts, max_batch_tokens=max_batch_tokens,
        max_queue=max_queue, max_texts=max_texts, max_chars=max_chars,
        max_body_bytes=max_body_bytes, timeout_s=timeout_s, max_new_tokens=max_new_tokens,
        max_beams=max_beams, drain_s=drain_s,
        log_level="debug" if _state["debug"] else "info",
    )  # fmt: skip
    run_server(cfg)


def _print_run(out: Path, as_json: bool, render: Any) -> None:
    from summarist.rundir import METRICS, read_json

    metrics = read_json(out / METRICS)
    _print(metrics if as_json else render(metrics), as_json)
    if not as_json:
        typer.echo(f"run directory: {out}")


def _configure_logging(level: int) -> None:
    from rich.console import Console
    from rich.logging import RichHandler

    handler = RichHandler(
        console=Console(stderr=True), show_time=False, show_path=False, markup=False
    )
    logging.basicConfig(level=level, format="%(message)s", handlers=[handler], force=True)
    logging.getLogger("summarist").setLevel(level)
    if level > logging.DEBUG:  # --debug brings the libraries' bars and logs back
        from summarist.quiet import silence_library_output

        silence_library_output()
    for noisy in ("httpx", "urllib3", "filelock", "datasets", "huggingface_hub", "fsspec"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


def _command_path(args: list[str]) -> str:
    """`summarist data stats` for `data stats --data x`: where the --help for an error is."""
    words = ["summarist"]
    for arg in args:
        if arg.startswith("-"):
            continue
        words.append(arg)
        if arg != "data":
            break
    return " ".join(words)


# typer >= 0.25 vendors click (typer._click): its exception base, reached without a private import
_CLICK_ERROR: type[Exception] = next(
    c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException"
)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app; input errors (ours and click's) print one line, exit code 2."""
    args = sys.argv[1:] if argv is None else list(argv)
    if "--debug" in args:
        _state["debug"] = True
    try:
        code = app(args=args, prog_name="summarist", standalone_mode=False)
    except SummaristError as err:
        if _state["debug"]:
            raise
        hint = "" if err.hint else f"; see '{_command_path(args)} --help'"
        typer.echo(f"error: {err.one_line()}{hint}", err=True)
        sys.exit(err.exit_code)
    except _CLICK_ERROR as err:
        if type(err).__name__ == "NoArgsIsHelpError":  # `summarist` alone: the help, as before
            err.show()  # type: ignore[attr-defined]
            sys.exit(err.exit_code)  # type: ignore[attr-defined]
        # click's own usage errors (bad option value, missing option) in the same one-line form
        command = err.ctx.command_path if getattr(err, "ctx", None) else "summarist"
        message = " ".join(err.format_message().split())
        typer.echo(f"error: {message}; see '{command} --help'", err=True)
        sys.exit(err.exit_code)
    except (KeyboardInterrupt, typer.Abort):
        typer.echo("interrupted", err=True)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
