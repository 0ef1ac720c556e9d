"""External systems (an OpenAI-compatible endpoint) in `evaluate` and `compare`.

`SystemModel` makes an endpoint a model like any other for `evaluation.model_eval.evaluate_split`:
a callable from texts to summaries, None where a text failed after its retries (left out of the
scores, named in metrics.json and the report). It asks each distinct text at most once per run
(answers and failures are kept in memory, answers on disk too: `inference.response_cache`), so
the swap probe's texts, already answered, cost nothing.

`run_system_evaluate` is `summarist evaluate --system SPEC`: the split through the endpoint,
then the same scoring as any model (ROUGE with intervals, lead and constant baselines, the
degenerate-output checks with the swap probe), written to a run directory whose config.yaml
records the endpoint, its settings and the models the server reported. When texts failed, the
run directory holds the scores of the others and names each failure, the command exits with
code 3 (`check_complete`), and running it again asks only the failed texts (the others come
from the cache).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from summarist.config.openai import OpenAISystem, parse_system
from summarist.errors import SummaristError

log = logging.getLogger(__name__)

EXIT_PARTIAL = 3
SHOWN_FAILURES = 20
"""Failed texts named in the terminal (metrics.json and report.html name all of them)."""


class PartialRun(SummaristError):
    """Some texts failed: the run directory holds the rest; a rerun asks only the failed."""

    exit_code = EXIT_PARTIAL


@contextmanager
def progress_bar(label: str, total: int) -> Iterator[Callable[[int], None]]:
    """A transient rich bar on stderr while texts are answered (silent when not a terminal)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    if not console.is_terminal or total == 0:
        yield lambda done: None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())  # fmt: skip
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda done: bar.update(task, completed=done)


class SystemModel:
    """An endpoint as a `model_eval.Generate`: texts -> (summaries or None, completion tokens)."""

    def __init__(self, system: OpenAISystem) -> None:
        self.system = system
        self.answers: dict[str, Any] = {}
        """Text -> its `openai_client.Outcome`, for the texts answered in this run."""
        self.errors: dict[str, str] = {}
        """Text -> why it failed (after the retries) in this run."""
        self.runs: list[Any] = []
        self.seconds = 0.0

    @property
    def label(self) -> str:
        return self.system.label

    def __call__(self, texts: list[str]) -> tuple[list[str | None], list[int]]:
        from summarist.inference.openai_client import run_endpoint

        todo = [t for t in dict.fromkeys(texts) if t not in self.answers and t not in self.errors]
        if todo:
            with progress_bar(self.label, len(todo)) as advance:
                run = run_endpoint(self.system, todo, advance)
            self.runs.append(run)
            self.seconds += run.seconds
            for text, outcome in zip(todo, run.outcomes, strict=True):
                if outcome.error is None:
                    self.answers[text] = outcome
                else:
                    self.errors[text] = outcome.error
            r = run.record()
            log.info(
                "%s: %d texts, %d from the cache, %d asked, %d failed, %d retries, %.1f s",
                self.label, r["texts"], r["from_cache"], r["asked"], r["failed"], r["retries"],
                run.seconds,
            )  # fmt: skip
        summaries = [self.answers[t].summary if t in self.answers else None for t in texts]
        return summaries, [self.tokens(t) for t in texts]

    def tokens(self, text: str) -> int:
        """Completion tokens of the answer (the server's `usage`); an answer cut at the budget
        (`finish_reason` "length") counts the whole budget, for servers that send no usage."""
        got = self.answers.get(text)
        if got is None:
            return 0
        count = int((got.usage or {}).get("completion_tokens") or 0)
        if got.finish_reason == "length":
            count = max(count, self.system.settings.max_tokens)
        return count

    def finish_reasons(self, texts: list[str]) -> list[str | None]:
        return [getattr(self.answers.get(t), "finish_reason", None) for t in texts]

    def record(self) -> dict[str, Any]:
        """The system as the run directory records it: endpoint, settings, what the server said
        about itself (listed and answering models), counts and usage over this run."""
        answered = list(self.answers.values())
        listed = next((r.listed_models for r in self.runs if r.listed_models is not None), None)
        endpoint = {
            "texts": len(self.answers) + len(self.errors),
            "answered": len(answered),
            "failed": len(self.errors),
            "from_cache": sum(o.cached for o in answered),
            "retries": sum(r.retries for r in self.runs),
            "seconds": round(self.seconds, 3),
            "listed_models": listed,
            "response_models": sorted({o.model for o in answered if o.model}),
            "system_fingerprints": sorted({o.system_fingerprint for o in answered
                                           if o.system_fingerprint}),
            "usage": {k: sum(int((o.usage or {}).get(k) or 0) for o in answered)
                      for k in ("prompt_tokens", "completion_tokens")},
        }  # fmt: skip
        return {**self.system.recorded(), "endpoint": endpoint}

    def failures(self, texts: list[str], ids: list[str]) -> list[dict[str, Any]]:
        """Each failed text of `texts`: its id, position and error."""
        return [{"id": ids[i], "index": i, "error": self.errors[t]}
                for i, t in enumerate(texts) if t in self.errors]  # fmt: skip


def summaries_from_system(model: SystemModel, texts: list[str]) -> dict[str, Any]:
    """The record `compare` keeps of a model's summaries, for an endpoint: None (with
    `errors[i]`) where a text failed."""
    began = time.perf_counter()
    summaries, counts = model(texts)
    seconds = time.perf_counter() - began
    ok = [s for s in summaries if s is not None]
    return {
        "summaries": summaries,
        "errors": {i: model.errors[t] for i, t in enumerate(texts) if t in model.errors},
        "new_tokens": counts,
        "seconds": seconds,
        "per_second": len(texts) / seconds if seconds > 0 else 0.0,
        "ms_per_text": 1000 * seconds / max(1, len(texts)),
        "mean_words": sum(len(s.split()) for s in ok) / max(1, len(ok)),
        "backend": "openai",
        "generation": model.system.settings.request_settings(),
    }


def failure_lines(label: str, failures: list[dict[str, Any]]) -> list[str]:
    return [f"{label}: example {f['id']}: {f['error']}" for f in failures]


def run_system_evaluate(cfg: Any, split: Any, train: Any) -> Path:
    """`summarist evaluate --system SPEC` on `split` (`train` gives the constant baseline): ask,
    score like any model (`evaluate_split`), write the run directory."""
    from summarist.evaluation.model_eval import evaluate_split
    from summarist.evaluation.run_io import data_config_dict, maybe_write_report, write_run
    from summarist.evaluation.scoring import constant_for, default_baselines, example_ids

    model = SystemModel(parse_system(cfg.system, cfg.openai))
    texts = list(split.texts)
    ids = [str(x) for x in (example_ids(split) or range(len(texts)))]
    evaluated = evaluate_split(
        model, split, cfg.scoring, max_new_tokens=model.system.settings.max_tokens,
        baselines=default_baselines(cfg.baselines, split.texts),
        constant=constant_for(train, split, seed=cfg.scoring.seed), swap_seed=cfg.scoring.seed,
        warn_where=f"{model.label} on {split.name}",
    )  # fmt: skip
    assert evaluated is not None  # one process: always the main rank
    failures = model.failures(texts, ids)
    metrics = evaluated.metrics
    metrics["system"] = {"answered": len(texts) - len(evaluated.failed), "texts": len(texts),
                         "failures": failures}  # fmt: skip
    config = {
        "data": data_config_dict(cfg.data),
        "system": model.record(),
        "backend": "openai",
        "generation": model.system.settings.request_settings(),
        "split": split.name,
        "limit": cfg.limit,
        "scoring": dataclasses.asdict(cfg.scoring),
        "baselines": list(cfg.baselines),
    }
    out = write_run(
        cfg.output_dir,
        kind="evaluate",
        name=model.label,
        config=config,
        metrics_by_split={split.name: metrics},
        prediction_rows=evaluated.rows,
    )
    maybe_write_report(out, cfg.report)
    for line in failure_lines(model.label, failures)[:SHOWN_FAILURES]:
        log.warning("%s", line)
    return out


def check_complete(failed: int, texts: int, where: str) -> None:
    """PartialRun (exit code 3) when `failed` of `texts` failed; the CLI calls it after printing
    what was scored."""
    if failed:
        raise PartialRun(
            f"{failed} of {texts} texts failed (scored: the {texts - failed} answered; each "
            f"failure is named in {where})",
            "run the same command again: answered texts come from the cache, only the failed are asked",
        )


def check_run_complete(out: Path) -> None:
    """`check_complete` for a run directory written by `run_system_evaluate`."""
    from summarist import rundir

    metrics = rundir.read_json(Path(out) / rundir.METRICS)
    for entry in (metrics.get("splits") or {}).values():
        system = (entry or {}).get("system") or {}
        check_complete(len(system.get("failures") or []), int(system.get("texts") or 0),
                       f"{out}/metrics.json")  # fmt: skip
