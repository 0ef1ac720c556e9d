"""`summarist compare`: several models on the same texts, side by side, optionally scored.

    summarist compare --models runs/t5/model runs/bart/model --input dialogues.jsonl
    summarist compare --models A B C --data dialogsum/ --split validation -o runs/compare

    summarist compare --models runs/t5/model openai:MODEL@http://127.0.0.1:8080/v1 --data D

Every model sees the same inputs with its own saved generation settings (plus any overrides).
With `--data` each model gets a run directory (`OUTPUT_DIR/<model>`: config.yaml, metrics.json
with bootstrap CIs, predictions.jsonl) and every pair of models a paired-bootstrap test.

An OpenAI-compatible endpoint (`openai:MODEL@URL` or a system YAML file) is a model like the
others (`evaluation.systems.SystemModel`, asked with `openai` settings). A text it failed after
its retries is left out of the scores of every model, so that the pairs compare the same
examples; each failure is named, and a rerun asks only those texts (the rest are cached).

Under a launcher (`torchrun --nproc_per_node N -m summarist compare ... --data D`) every model's
texts are cut into shards the ranks share out (`summarist.distributed.map_in_shards`, kept in
OUTPUT_DIR/.shards/ until merged, so a re-run after a crash redoes only unfinished ones); the
main rank scores, writes the run directories and prints.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from summarist.config.data import DataConfig
from summarist.config.fields import cli
from summarist.config.generation import GenerationSettings
from summarist.config.inference import InferenceSettings
from summarist.config.openai import PREFIX, OpenAISettings, is_system_spec, parse_system
from summarist.errors import ConfigError
from summarist.evaluation.scoring import ScoringConfig

log = logging.getLogger(__name__)

SHOWN = 5  # texts printed side by side


@dataclass
class CompareModelsConfig(InferenceSettings):
    """Which models, on which texts, and how to run and score them."""

    models: list[str] = field(metadata=cli(metavar="MODEL"))
    """Models to compare: --models A B C (or A,B,C): model or run directories, hub ids."""
    systems: list[str] = field(default_factory=list, metadata=cli(flag="--system", metavar="SPEC"))
    """An OpenAI-compatible endpoint to compare too (openai:MODEL@URL or a system YAML file)."""
    input: str | None = None
    """Texts to summarize side by side (file, .txt folder, table, or -)."""
    data: DataConfig | None = field(default=None, metadata=cli(defaults={"dedupe": "none"}))
    """Also evaluate every model on `split` of this corpus (every example of it: no dedupe)."""
    split: str | None = None
    """Split to evaluate on (with --data)."""
    limit: int | None = None
    """Use only the first N examples of the split (quick comparisons)."""
    output_dir: Path = field(default=Path("runs/compare"), metadata=cli(short="-o"))
    """Run directories go here, one per model (with --data)."""
    lang: str | None = field(default=None, kw_only=True)
    """Language: of mBART models (default: the saved one) and, the same flag, of the ROUGE
    tokenizer (scoring.lang; default: detected)."""
    generation: dict[str, Any] = field(
        default_factory=dict, metadata=cli(overrides=GenerationSettings)
    )
    """Overrides of each model's saved `GenerationSettings`, by field name (None: keep)."""
    scoring: ScoringConfig = field(default_factory=ScoringConfig)
    """How every model is scored (with --data)."""
    openai: OpenAISettings = field(default_factory=OpenAISettings)
    """How the openai:MODEL@URL entries of --models are asked (concurrency, retries, cache)."""

    def __post_init__(self) -> None:
        # `--models A,B --models C` and `--models A B C` (the rest come as arguments) alike; an
        # endpoint (openai:MODEL@URL) is one entry: its URL may hold commas
        self.models = [m for entry in map(str, self.models)
                       for m in ([entry] if entry.startswith(PREFIX) else entry.split(",")) if m]  # fmt: skip
        self.models += [str(s) for s in self.systems]  # --system X: one more model, an endpoint
        self.systems = []  # now entries of models (building the config again adds nothing)
        if len(self.models) < 1:
            raise ConfigError("compare needs at least one --models entry")
        if len(set(self.models)) != len(self.models):
            raise ConfigError("--models lists a model twice")
        if self.input is None and self.data is None:
            raise ConfigError("nothing to compare on", "pass --input FILE or --data D --split S")
        if self.input is not None and self.data is not None:
            raise ConfigError(
                "--input and --data given", "compare on one: --input FILE, or --data D --split S"
            )
        if self.shard_size < 1:
            raise ConfigError(f"--shard-size must be >= 1, got {self.shard_size}", "e.g. 256")
        if self.limit is not None and self.limit < 1:
            raise ConfigError(f"--limit must be >= 1, got {self.limit}", "or drop --limit")
        for name in self.models:
            if is_system_spec(name):
                parse_system(name, self.openai)  # a bad URL or YAML fails before any model loads
        labels = [run_name(m) for m in self.models]
        if len(set(labels)) != len(labels):
            raise ConfigError(
                "two --models entries would share a run directory "
                f"({', '.join(sorted({x for x in labels if labels.count(x) > 1}))})",
                "rename one (an endpoint's system YAML file: give it a `name:`)",
            )
        from summarist.inference.backends.select import check_backend_options

        check_backend_options(self.backend, self.quantize, self.device)
        if self.data is not None:
            from summarist.rundir import check_output_dir

            check_output_dir(self.output_dir, "--output-dir", owns=(), of_runs=True)
        self.generation = {k: v for k, v in self.generation.items() if v is not None}
        GenerationSettings().with_overrides(**self.generation)  # unknown names fail here


def compare_models(cfg: CompareModelsConfig) -> dict[str, Any]:
    """Summarize with every model; with data, score, write run dirs and paired tests.

    >>> from summarist import CompareModelsConfig, compare_models
    >>> out = compare_models(CompareModelsConfig(models=["runs/t5", "runs/bart"],
    ...                                          input="dialogues.jsonl"))  # doctest: +SKIP
    >>> out["models"]["runs/t5"]["summaries"][:1]  # doctest: +SKIP
    ['Anna booked the train for Friday.']
    """
    from summarist.data.texts import read_texts
    from summarist.distributed import Ranks

    ranks = Ranks.start()
    split, train = _load_split(cfg) if cfg.data is not None else (None, None)
    if cfg.input is not None:
        inputs = read_texts(cfg.input, cfg.text_column, cfg.encoding)
        texts, ids = inputs.texts, inputs.ids
    else:
        texts, ids = list(split.texts), [str(i) for i in range(len(split))]
    result: dict[str, Any] = {"texts": texts, "ids": ids, "models": {}}
    from summarist.evaluation.systems import SystemModel
    from summarist.models.resolve import check_local_model

    systems = {name: SystemModel(parse_system(name, cfg.openai))
               for name in cfg.models if is_system_spec(name)}  # fmt: skip
    for name in cfg.models:
        if name not in systems:
            check_local_model(name)
    for name in cfg.models:
        result["models"][name] = _summarize_with(name, texts, cfg, ranks, systems)
    if split is not None:
        same = texts == list(split.texts)
        result["evaluation"] = _evaluate(cfg, split, train, result, same, ranks, systems)
    if ranks.world > 1:
        from summarist.distributed import remove_shards

        remove_shards(Path(cfg.output_dir) / SHARDS, ranks)
    return result


SHARDS = ".shards"


def _summarize_with(
    name: str,
    texts: list[str],
    cfg: CompareModelsConfig,
    ranks: Any = None,
    systems: dict[str, Any] | None = None,
) -> dict[str, Any]:
    if systems and name in systems:  # an endpoint: asked from the main rank only
        from summarist.evaluation.systems import summaries_from_system

        if ranks is not None and not ranks.is_main:
            return {"summaries": [""] * len(texts), "new_tokens": [0] * len(texts), "errors": {},
                    "generation": systems[name].system.settings.request_settings()}  # fmt: skip
        return summaries_from_system(systems[name], texts)
    from summarist.inference.summarizer import Summarizer

    summarizer = Summarizer.from_pretrained(
        name,
        device=cfg.device or (ranks.gpu() if ranks else None),
        backend=cfg.backend,
        quantize=cfg.quantize,
        lang=cfg.lang,
        batch_size=cfg.batch_size,
        long=cfg.long,
    )
    if ranks is not None and ranks.world > 1:
        out = _summarize_in_shards(summarizer, name, texts, cfg, ranks)
    else:
        out = summarizer.summarize_detailed(texts, **cfg.generation)
    settings = summarizer.settings.with_overrides(**cfg.generation)
    log.info("%s: %d summaries in %.1fs", name, len(texts), out.seconds)
    return {
        "summaries": out.summaries,
        "new_tokens": out.new_tokens,
        "seconds": out.seconds,
        "per_second": out.per_second,
        "ms_per_text": 1000 * out.seconds / max(1, len(texts)),
        "mean_words": sum(len(s.split()) for s in out.summaries) / max(1, len(texts)),
        "backend": summarizer.backend.name,
        "generation": settings.to_dict(),
    }


def _summarize_in_shards(
    summarizer: Any, name: str, texts: list[str], cfg: CompareModelsConfig, ranks: Any
) -> Any:
    """This rank's shards of `texts`, then every rank's, in order (a `SummaryBatch`)."""
    import time
    from dataclasses import asdict

    from summarist.distributed import fingerprint, map_in_shards
    from summarist.inference.summarizer import SummaryBatch

    settings = {k: v for k, v in asdict(cfg).items() if k not in ("output_dir", "models")}
    key = fingerprint(name, texts, settings)
    began = time.perf_counter()

    def compute(start: int, end: int) -> list[dict[str, Any]]:
        got = summarizer.summarize_detailed(texts[start:end], **cfg.generation)
        return [{"summary": s, "new_tokens": n, "source_tokens": src, "levels": lvl}
                for s, n, src, lvl in zip(got.summaries, got.new_tokens, got.source_tokens,
                                          got.levels, strict=True)]  # fmt: skip

    parts = Path(cfg.output_dir) / SHARDS
    rows = map_in_shards(len(texts), compute, parts, key, ranks, cfg.shard_size)
    return SummaryBatch(
        [r["summary"] for r in rows], [r["new_tokens"] for r in rows],
        [r["source_tokens"] for r in rows], [r["levels"] for r in rows],
        time.perf_counter() - began,
    )  # fmt: skip


def _load_split(cfg: CompareModelsConfig) -> tuple[Any, Any]:
    """The split to score and the training split (for the constant baseline), if any."""
    from summarist.data.loading import load_corpus

    corpus = load_corpus(cfg.data)
    names = corpus.names()
    name = cfg.split or next((n for n in ("test", "validation") if n in names), names[0])
    split = corpus.split(name)
    if cfg.limit:
        split = split.select(list(range(min(cfg.limit, len(split)))))
    train = corpus.split("train") if "train" in names and name != "train" else None
    return split, train


def _evaluate(
    cfg: CompareModelsConfig,
    split: Any,
    train: Any,
    result: dict[str, Any],
    same: bool,
    ranks: Any = None,
    systems: dict[str, Any] | None = None,
) -> dict[str, Any]:
    from summarist.evaluation import (
        CompareRunsConfig,
        ScoringConfig,
        compare_runs,
        data_config_dict,
        write_run,
    )
    from summarist.evaluation.model_eval import evaluate_split
    from summarist.evaluation.scoring import constant_for, default_baselines

    scoring = cfg.scoring or ScoringConfig()
    constant = constant_for(train, split, seed=scoring.seed)
    baselines = default_baselines([], split.texts)
    texts = list(split.texts)
    ids = [str(i) for i in range(len(texts))]
    main = ranks is None or ranks.is_main

    def generator(name: str) -> Any:
        def generate(batch: list[str]) -> tuple[list[Any], list[int]]:
            out = _summarize_with(name, batch, cfg, ranks, systems)
            return out["summaries"], out["new_tokens"]

        return generate

    # --input and --data differ: the split needs its own summaries
    outputs = {name: (got["summaries"], got["new_tokens"]) if same else generator(name)(texts)
               for name, got in result["models"].items()}  # fmt: skip
    # A text an endpoint failed is left out for every model, so that the pairs compare the same
    # examples (every rank learns which: the swap probe's shards must agree).
    own = sorted({i for summaries, _ in outputs.values() for i, x in enumerate(summaries) if x is None})  # fmt: skip
    failed = set(ranks.gather(own) if ranks is not None else own)
    failures = (
        {name: systems[name].failures(texts, ids) for name in (systems or {})} if main else {}
    )
    runs: dict[str, Path] = {}
    metrics: dict[str, Any] = {}
    for name, got in result["models"].items():
        summaries, counts = outputs[name]
        kept = [None if i in failed else x for i, x in enumerate(summaries)]
        evaluated = evaluate_split(
            generator(name), split, scoring, max_new_tokens=_budget(got["generation"]),
            baselines=baselines, constant=constant, swap_seed=scoring.seed,
            generated=(kept, counts), main_rank=main,
        )  # fmt: skip
        if evaluated is None:
            continue  # every rank generated its shards; one scores and writes
        split_metrics, rows = evaluated.metrics, evaluated.rows
        if failed:
            split_metrics["system"] = {"answered": len(texts) - len(failed), "texts": len(texts),
                                       "failures": failures.get(name, []),
                                       "left_out": [ids[i] for i in sorted(failed)]}  # fmt: skip
        # backend and settings as the side-by-side run resolved them (the same model and flags)
        out = Path(cfg.output_dir) / run_name(name)
        config = {
            "data": data_config_dict(cfg.data),
            "model": name,
            "backend": got["backend"],
            "generation": got["generation"],
            "split": split.name,
        }
        if systems and name in systems:
            config["system"] = systems[name].record()
        runs[name] = write_run(
            out,
            kind="evaluate",
            name=name,
            config=config,
            metrics_by_split={split.name: split_metrics},
            prediction_rows=rows,
        )
        metrics[name] = split_metrics
    if not main:
        return {}
    pairs = []
    names = list(runs)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            pairs.append(compare_runs(CompareRunsConfig(runs[a], runs[b], split.name, scoring)))
    return {"split": split.name, "runs": {k: str(v) for k, v in runs.items()},
            "metrics": metrics, "pairs": pairs, "failures": {k: v for k, v in failures.items() if v},
            "scored": len(texts) - len(failed), "texts": len(texts)}  # fmt: skip


def _budget(generation: dict[str, Any]) -> int:
    """The token budget a model generated with: a local model's max_new_tokens, an endpoint's
    max_tokens."""
    return int(generation.get("max_new_tokens") or generation["max_tokens"])


def run_name(model: str) -> str:
    """A directory name for a model: its last path parts, safe characters only (an endpoint:
    its name, openai-MODEL unless its YAML file names it)."""
    if is_system_spec(model):
        model = parse_system(model).label
    parts = [p for p in Path(model).parts if p not in ("/", ".", "..")]
    tail = "-".join(parts[-2:]) if parts and parts[-1] == "model" else (parts or ["model"])[-1]
    return re.sub(r"[^A-Za-z0-9._-]+", "-", tail).strip("-") or "model"


def render_side_by_side(result: dict[str, Any], shown: int = SHOWN) -> Any:
    """A rich Table: one row per text, one column per model (summary, words, latency)."""
    from rich.table import Table

    models = result["models"]
    table = Table(title="summaries side by side", show_lines=True)
    table.add_column("input", max_width=40)
    for name, m in models.items():
        table.add_column(
            f"{name}\n{m['backend']}, {m['ms_per_text']:.0f} ms/text, "
            f"{m['per_second']:.2f}/s, {m['mean_words']:.1f} words"
        )
    for i, text in enumerate(result["texts"][:shown]):
        cells = [_cell(m, i) for m in models.values()]
        words = [f"{c}\n[{len((m['summaries'][i] or '').split())} words]" for c, m in
                 zip(cells, models.values(), strict=True)]  # fmt: skip
        table.add_row(_clip(text, 300), *words)
    if len(result["texts"]) > shown:
        table.caption = f"first {shown} of {len(result['texts'])} texts"
    return table


def render_evaluation(evaluation: dict[str, Any]) -> Any:
    """ROUGE F1 with CIs per model, then paired differences with p-values."""
    from rich.table import Table

    from summarist.evaluation.render import render_warnings

    table = Table(title=f"ROUGE on {evaluation['split']} (F1, 95% bootstrap CI)")
    table.add_column("model")
    for rt in ("rouge1", "rouge2", "rougeL", "rougeLsum"):
        table.add_column(rt, justify="right")
    table.add_column("distinct", justify="right")
    rows = {name: m for name, m in evaluation["metrics"].items()}
    first = next(iter(rows.values()), {})
    rows.update({f"baseline: {b}": {"rouge": r} for b, r in (first.get("baselines") or {}).items()})
    for name, m in rows.items():
        cells = []
        for rt in ("rouge1", "rouge2", "rougeL", "rougeLsum"):
            f = m["rouge"][rt]["fmeasure"]
            cells.append(f"{f['mid']:.2f} [{f['low']:.2f}, {f['high']:.2f}]")
        distinct = (m.get("diagnostics") or {}).get("distinct_share")
        table.add_row(name, *cells, "" if distinct is None else f"{100 * distinct:.0f}%")
    pairs = Table(title="paired bootstrap (A - B)")
    for col in ("A", "B", "rouge1", "rouge2", "rougeL", "p (rougeL)"):
        pairs.add_column(col)
    for p in evaluation["pairs"]:
        r = p["rouge"]
        pairs.add_row(
            p["a"], p["b"],
            *(f"{r[k]['diff']:+.2f} [{r[k]['low']:+.2f}, {r[k]['high']:+.2f}]"
              for k in ("rouge1", "rouge2", "rougeL")),
            f"{r['rougeL']['p_value']:.3f}",
        )  # fmt: skip
    failures = [(name, f) for name, fs in (evaluation.get("failures") or {}).items() for f in fs]
    if failures:
        pairs.caption = (f"scored on the {evaluation['scored']} of {evaluation['texts']} examples "
                         f"every model answered; {len(failures)} failed (listed below)")  # fmt: skip
    tables = (table, pairs, *_faithfulness_tables(evaluation))
    warnings = render_warnings({"splits": {f"{evaluation['split']}, {name}": m
                                           for name, m in evaluation["metrics"].items()}})  # fmt: skip
    out: tuple[Any, ...] = tables if warnings is None else (*tables, warnings)
    if failures:
        failed = Table(title="failed examples (a rerun asks only these; answers are cached)")
        for col in ("model", "example", "error"):
            failed.add_column(col)
        for name, f in failures:
            failed.add_row(name, str(f["id"]), f["error"])
        out = (*out, failed)
    return out


FAITH_SHOWN = ("prec_s", "prec_t", "recall_t", "num_prec_s", "novel_2", "repeated_2")


def _faithfulness_tables(evaluation: dict[str, Any]) -> tuple[Any, ...]:
    """Per model the main faithfulness figures, then their paired differences (A - B)."""
    from rich.table import Table

    models = {
        n: m["faithfulness"] for n, m in evaluation["metrics"].items() if m.get("faithfulness")
    }
    if not models:
        return ()
    per_model = Table(title=f"faithfulness on {evaluation['split']} (0-100, mean [95% CI])")
    per_model.add_column("model")
    for f in FAITH_SHOWN:
        per_model.add_column(f, justify="right")
    for name, block in models.items():
        cells = [block["figures"][f] for f in FAITH_SHOWN]
        per_model.add_row(name, *("—" if c["mid"] is None else
                                  f"{c['mid']:.1f} [{c['low']:.1f}, {c['high']:.1f}]" for c in cells))  # fmt: skip
    method = next(iter(models.values()))["method"].get("label", "")
    per_model.caption = f"entities: {method}; prec_s/prec_t/recall_t: Nan et al. 2021"
    pairs = Table(title="faithfulness, paired bootstrap (A - B, examples both define)")
    for col in ("A", "B", *FAITH_SHOWN):
        pairs.add_column(col)
    for p in evaluation["pairs"]:
        r = p.get("faithfulness") or {}
        pairs.add_row(p["a"], p["b"], *(
            "—" if (r.get(f) or {}).get("diff") is None else
            f"{r[f]['diff']:+.1f} [{r[f]['low']:+.1f}, {r[f]['high']:+.1f}] p={r[f]['p_value']:.3f}"
            for f in FAITH_SHOWN))  # fmt: skip
    return (per_model, pairs) if evaluation["pairs"] else (per_model,)


def _cell(model: dict[str, Any], i: int) -> str:
    if model["summaries"][i] is None:
        return f"(failed: {model.get('errors', {}).get(i, 'no answer')})"
    return model["summaries"][i] or "(empty)"


def _clip(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"
