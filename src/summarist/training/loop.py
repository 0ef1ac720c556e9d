"""`train(config)`: fine-tune, evaluate next to lead-3, and leave a complete run directory.

setup() → fit() → finish(): setup loads data and model and tokenizes once; fit is a plain
PyTorch loop (length-grouped dynamic batches, gradient accumulation, greedy evaluation on a
few validation examples, atomic checkpoints that resume exactly); finish saves the model with
its generation config, runs the beam-search evaluation once per split, and writes the card.

Under a launcher (`torchrun`, `accelerate launch`) every rank runs this same code: each step's
global batch is cut into one share per rank, the loss is weighted by the global label-token
count (so N ranks x batch B make the update one process makes with batch N x B), stop
decisions are agreed, evaluation decodes a shard per rank, and only the main rank writes.
All of it goes through `Runtime` (training/runtime.py); one process is the N=1 case.
"""

from __future__ import annotations

import logging
import math
import random
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from summarist.config.generation import default_max_new_tokens
from summarist.config.train import TrainConfig
from summarist.data.corpus import Split, canonical_split
from summarist.data.tokens import TokenStore
from summarist.errors import ConfigError, SummaristError
from summarist.models.loading import LoadedModel
from summarist.rundir import (
    CARD,
    CONFIG,
    METRICS,
    MODEL_DIR,
    check_output_dir,
    read_yaml,
    remove_temp_files,
    write_yaml,
)
from summarist.training.callbacks import ProgressBar, Trackers, TrainLog
from summarist.training.checkpoint import CHECKPOINT, Progress
from summarist.training.collate import Seq2SeqCollator
from summarist.training.runtime import Runtime
from summarist.training.state import TrainingRun
from summarist.training.streamed import StreamedTrainSet

log = logging.getLogger(__name__)


class TrainingDiverged(SummaristError):
    """The loss became NaN or infinite."""


def train(cfg: TrainConfig, *, resume: bool = False) -> Path:
    """Fine-tune as `cfg` says; return the run directory.

    >>> from summarist.config.data import DataConfig
    >>> run = train(TrainConfig(data=DataConfig(["data/"]), max_steps=100))  # doctest: +SKIP
    """
    run_dir = Path(cfg.output_dir)
    _check_run_dir(run_dir, resume)
    runtime = Runtime.create(cfg.precision, cfg.threads)
    runtime.barrier()  # every rank has looked before the main one writes
    if runtime.is_main:
        remove_temp_files(run_dir)  # debris of a write cut by kill -9; we are its only writer
    s = setup(cfg, run_dir, runtime)
    fit(s, resume=resume)
    return finish(s)


def resume_run(run_dir: str | Path, *, threads: int | None = None) -> Path:
    """Continue an interrupted run from its last checkpoint, to the same final step.

    On CPU in fp32 (and with the same --threads) the final weights are bitwise those of the
    uninterrupted run: the checkpoint holds the model, optimizer, scheduler, grad scaler, RNG
    states and the position in the epoch's batch order, which is a function of (seed, epoch).

    Raises:
        ConfigError: `run_dir` is not a training run, or has nothing to resume.
        CheckpointError: the checkpoint is unreadable or was saved with other settings.

    >>> from summarist import resume
    >>> resume("runs/dialogsum")  # doctest: +SKIP
    PosixPath('runs/dialogsum')
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ConfigError(f"--resume {run_dir}: no such directory", "check the run directory")
    if not (run_dir / CONFIG).is_file():
        raise ConfigError(f"{run_dir} is not a training run (no {CONFIG})", "check --resume")
    try:
        raw = read_yaml(run_dir / CONFIG)
    except Exception as err:  # yaml.YAMLError and friends: one line, not a traceback
        raise ConfigError(f"{run_dir / CONFIG}: not valid YAML ({type(err).__name__})") from None
    if not isinstance(raw, dict) or raw.get("kind") != "train":
        kind = raw.get("kind") if isinstance(raw, dict) else None
        raise ConfigError(f"{run_dir} holds a '{kind}' run, not a training run", "check --resume")
    cfg = TrainConfig.from_dict(raw)
    cfg.output_dir = str(run_dir)
    # fp32 sums depend on the thread count (1 vs 2 threads: weights 3e-6 apart after 4 steps of
    # the tiny T5), so the count the run used, not the cores free now, keeps resume bitwise.
    recorded = (raw.get("resolved") or {}).get("threads")
    if threads is not None and recorded and threads != recorded:
        log.warning(
            "resuming with %d threads where the run used %d: the final weights can differ "
            "from an uninterrupted run's in the last bits", threads, recorded,
        )  # fmt: skip
    cfg.threads = threads or cfg.threads or recorded
    return train(cfg, resume=True)


def _check_run_dir(run_dir: Path, resume: bool) -> None:
    check_output_dir(run_dir, "--output-dir", owns=(CONFIG, CHECKPOINT, MODEL_DIR))
    kind = (read_yaml(run_dir / CONFIG) or {}).get("kind") if (run_dir / CONFIG).is_file() else None
    if kind not in (None, "train"):
        raise ConfigError(
            f"--output-dir {run_dir} already holds a '{kind}' run",
            "choose another --output-dir for the training run",
        )
    if resume:
        checkpoint = (run_dir / CHECKPOINT).exists()
        # The card comes after metrics.json; a kept checkpoint (--keep-checkpoint) stays.
        if (run_dir / METRICS).exists() and (not checkpoint or (run_dir / CARD).exists()):
            raise ConfigError(
                f"{run_dir} already finished training (it has {METRICS}): nothing to resume",
                f"re-score it with `summarist evaluate {run_dir}`, or train anew in another "
                "--output-dir",
            )
        if checkpoint:
            return
        again = f"start it again with `summarist train --config {run_dir / CONFIG}`"
        if (run_dir / MODEL_DIR).exists():
            again = f"delete {run_dir / MODEL_DIR} and {again}"
        raise ConfigError(
            f"{run_dir} has no {CHECKPOINT} to resume from: it stopped before its first "
            "checkpoint (--save-every)", again,
        )  # fmt: skip
    if (run_dir / CHECKPOINT).exists() or (run_dir / MODEL_DIR).exists():
        raise ConfigError(
            f"{run_dir} already holds a training run",
            f"continue it with --resume {run_dir}, or choose another --output-dir",
        )


# ---------------------------------------------------------------------------------- setup


def setup(cfg: TrainConfig, run_dir: Path, runtime: Runtime | None = None) -> TrainingRun:
    from summarist.data.loading import cache_root_of, load_corpus
    from summarist.data.tokens import token_store
    from summarist.models.dropout import set_dropout
    from summarist.models.loading import add_tokens, load_for_training
    from summarist.training.collate import Seq2SeqEncoder
    from summarist.training.memory import check_memory
    from summarist.training.prepare import prepare_model

    runtime = runtime or Runtime.create(cfg.precision, cfg.threads)
    _seed_everything(cfg.seed)  # the same on every rank: new layers start identical
    with runtime.main_process_first():  # one rank fills the data cache, the others map it
        corpus = load_corpus(cfg.data)
        train_split = corpus.split("train")
        tags = _speaker_tags(train_split, cache_root_of(cfg.data)) if cfg.speaker_tokens else []
    eval_split = _optional_split(corpus, "validation")
    memory = check_memory(cfg, train_split, tags)  # before any weight is read: fits, or not
    loaded = load_for_training(cfg.model, lang=cfg.lang)
    if cfg.dropout is not None:
        set_dropout(loaded.model, cfg.dropout)
    cfg.max_source_length = source_length(cfg, loaded)
    runtime.check(loaded.family)  # a precision the family cannot train in fails before any work
    added = add_tokens(loaded, tags) if cfg.speaker_tokens else []
    lora = prepare_model(loaded, cfg, added)  # --lora, --gradient-checkpointing
    if cfg.learning_rate is None:
        cfg.learning_rate = loaded.family.learning_rate
    prefix = cfg.prefix if cfg.prefix is not None else loaded.family.prefix
    prompt = None
    if loaded.family.causal:  # one prompt builder: the same prompt at training and inference
        from summarist.models.prompt import PromptBuilder
        from summarist.training.causal import CausalEncoder

        prefix, prompt = "", PromptBuilder(loaded.tokenizer, cfg.prompt, loaded.family)
        encoder: Any = CausalEncoder(prompt, cfg.max_source_length, cfg.max_target_length)
    else:
        encoder = Seq2SeqEncoder(loaded.tokenizer, prefix, cfg.max_source_length,
                                 cfg.max_target_length, _start_id(loaded))  # fmt: skip
    examples: TokenStore | StreamedTrainSet
    if cfg.data.streaming:  # read and tokenized as training goes: nothing stored
        examples = StreamedTrainSet(
            train_split, encoder, seed=cfg.seed, buffer=cfg.data.shuffle_buffer,
            rank=runtime.rank, world=runtime.world, batch_size=cfg.batch_size,
            group_by_length=cfg.group_by_length,
        )  # fmt: skip
        label_lengths = examples.label_length_sample(cfg.data.data_workers)
    else:
        with runtime.main_process_first():  # tokenized once, by one rank, on every core
            examples, _ = token_store(train_split, encoder, cache_root_of(cfg.data),
                                      workers=cfg.data.data_workers)  # fmt: skip
        label_lengths = examples.label_lengths
    # Labels end with EOS, which generation does not count as a new token.
    settings = cfg.resolve_generation(default_max_new_tokens(label_lengths))
    loaded.model.generation_config = settings.to_hf(loaded.model.generation_config)
    micro_per_epoch = math.ceil(len(examples) / (cfg.batch_size * runtime.world))
    steps_per_epoch = max(1, math.ceil(micro_per_epoch / cfg.grad_accum))
    total = cfg.max_steps or max(1, math.ceil(cfg.epochs * steps_per_epoch))
    eval_every = cfg.eval_every if cfg.eval_every is not None else max(1, total // 5)
    save_every = cfg.save_every or eval_every or max(1, total // 5)
    for name in cfg.eval_splits:
        if canonical_split(name) is None and name not in corpus.splits:
            corpus.split(name)  # the error names the splits there are, with a "did you mean"
    splits = {name: sp for name in cfg.eval_splits if (sp := _optional_split(corpus, name))}
    if not splits and corpus.single_file:
        log.warning(
            "%s is one file without splits: training uses all %d examples and the run will "
            "have no metrics; split it with --split-ratios 0.8,0.1,0.1 (seed --seed, default "
            "42) to evaluate on validation and test", corpus.source, len(train_split),
        )  # fmt: skip
    elif not splits:
        log.warning(
            "no %s split to evaluate on: the run will have no metrics; add one, or train on "
            "one file split with --split-ratios 0.8,0.1,0.1",
            " or ".join(cfg.eval_splits),
        )
    s = TrainingRun(cfg, run_dir, loaded, runtime, train_split, eval_split, examples, settings, prefix,
              total, eval_every, save_every, added, splits, lora=lora, memory=memory,
              prompt=prompt)  # fmt: skip
    if runtime.is_main:
        _write_config(s)
    log.info(
        "%d training examples, %d steps (%d per epoch), max_new_tokens=%d",
        len(examples), total, steps_per_epoch, settings.max_new_tokens,
    )  # fmt: skip
    return s


def source_length(cfg: TrainConfig, loaded: LoadedModel) -> int:
    """Source tokens kept: the encoder's limit (seq2seq), or the prompt's share of a
    decoder-only model's context (prompt + summary must fit it)."""
    from summarist.models.registry import check_context, check_source_length

    config, family = loaded.model.config, loaded.family
    if family.causal:
        return check_context(cfg.max_source_length, cfg.max_target_length, config, family)
    return check_source_length(cfg.max_source_length, config, family)


def _speaker_tags(split: Split, root: Path) -> list[str]:
    """`models.loading.speaker_tags` of the split's texts, counted once per cached split."""
    from summarist.data.cache import cache_key, remember
    from summarist.models.loading import SPEAKER_TAG, rank_speaker_tags

    fp = split.fingerprint()
    if fp is None:
        return rank_speaker_tags(split.count_matches(SPEAKER_TAG.pattern))
    counts = remember(root, cache_key("matches", fp, SPEAKER_TAG.pattern),
                      lambda: split.count_matches(SPEAKER_TAG.pattern))  # fmt: skip
    return rank_speaker_tags(counts)


def _optional_split(corpus: Any, name: str) -> Split | None:
    try:
        split = corpus.split(name)
    except SummaristError:
        return None
    if corpus.single_file and name != "train":
        return None
    return split


def _start_id(loaded: LoadedModel) -> int | None:
    """The decoder start token, stripped from the front of labels for every family.

    Hub T5/BART/PEGASUS labels never begin with it, but a BERT tokenizer's do ([CLS]), both in
    BERT2BERT and in any other model given a BERT vocabulary: kept, the model learns to emit its
    start token again, and backends disagree on whether the start token counts for
    `no_repeat_ngram_size` (transformers counts it, CTranslate2 does not).
    """
    return loaded.model.config.decoder_start_token_id


def _seed_everything(seed: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _write_config(s: TrainingRun) -> None:
    from summarist import __version__

    out = {"kind": "train", "summarist_version": __version__, **s.cfg.to_dict()}
    out["generation"] = s.settings.to_dict()
    out["resolved"] = {
        "family": s.loaded.family.name,
        "prefix": s.prefix,
        "total_steps": s.total_steps,
        "eval_every": s.eval_every,
        "save_every": s.save_every,
        "precision": s.runtime.precision,
        "threads": s.runtime.threads,
        "device": str(s.runtime.device),
        **s.runtime.describe(),
        "per_rank_batch": s.cfg.batch_size,
        "global_batch": s.cfg.batch_size * s.runtime.world * s.cfg.grad_accum,
        "added_tokens": s.added_tokens,
        "prompt": _prompt_record(s),
        "train_examples": len(s.examples),
        "lora": s.lora.to_dict() if s.lora else None,
        "memory_estimate": s.memory.to_dict() if s.memory else None,
    }
    write_yaml(s.run_dir / CONFIG, out)


def _prompt_record(s: TrainingRun) -> dict[str, Any] | None:
    """config.yaml's record of a decoder-only run's prompt: settings, mode, the rendered text."""
    if s.prompt is None:
        return None
    return {**s.prompt.to_dict(), "overhead_tokens": s.prompt.overhead,
            "rendered": s.prompt.render("{text}")}  # fmt: skip


# ------------------------------------------------------------------------------------ fit


def build_optimizer(model: Any, cfg: TrainConfig) -> Any:
    """AdamW; no decay on biases/LayerNorm; warm-start's fresh layers at a higher rate."""
    import torch

    from summarist.models.bert2bert import new_parameter_names

    fresh = new_parameter_names(model)
    lr = cfg.learning_rate or 5e-5
    groups: dict[tuple[bool, bool], list[Any]] = {}
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        no_decay = param.ndim < 2 or "LayerNorm" in name or "layer_norm" in name
        groups.setdefault((name in fresh, no_decay), []).append(param)
    param_groups = [
        {
            "params": params,
            "lr": lr * (cfg.new_params_lr_scale if is_new else 1.0),
            "weight_decay": 0.0 if no_decay else cfg.weight_decay,
        }
        for (is_new, no_decay), params in sorted(groups.items())
    ]
    # The fused kernel updates all tensors in one pass: ~4x faster steps than the per-tensor loop
    # on CPU (0.08 s vs 0.31 s for a 49M-parameter BERT2BERT on one thread).
    return torch.optim.AdamW(param_groups, lr=lr, fused=True)


def build_scheduler(optimizer: Any, total_steps: int, warmup_ratio: float) -> Any:
    import torch

    warmup = int(total_steps * warmup_ratio)

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / (warmup + 1)
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def fit(s: TrainingRun, *, resume: bool = False) -> Progress:
    """Train to `s.total_steps` (from the checkpoint's step when resuming); the final progress."""
    from summarist.training.collate import length_grouped_batches

    cfg, runtime = s.cfg, s.runtime
    optimizer = build_optimizer(s.loaded.model, cfg)
    model, optimizer = runtime.prepare(s.loaded.model, optimizer, cfg.batch_size)
    s.trained = model
    scheduler = build_scheduler(optimizer, s.total_steps, cfg.warmup_ratio)
    train_log = TrainLog(s.run_dir)
    progress = _resume_or_start(s, optimizer, scheduler, resume)
    if runtime.is_main:
        train_log.truncate_after(progress.step)
    if progress.step >= s.total_steps:
        return progress
    collate = make_collator(s)
    streamed = isinstance(s.examples, StreamedTrainSet)
    lengths = None if streamed else s.examples.source_lengths  # offsets: no example is read
    trackers = Trackers(cfg.report_to if runtime.is_main else [], s.run_dir, cfg.to_dict())
    eval_subset = _eval_subset(s)
    model.train()
    window, clock = LossWindow(), Clock.resume(progress)
    try:
        with ProgressBar(s.total_steps, progress.step, enabled=runtime.is_main) as bar:
            loop = Loop(s, model, optimizer, scheduler, collate, progress, eval_subset,
                        train_log, trackers, bar, window, clock)  # fmt: skip
            while progress.step < s.total_steps:
                if streamed:  # this rank's own batches, read from its shards as they come
                    batches: Any = s.examples.epoch(progress.epoch)
                else:
                    batches = length_grouped_batches(
                        lengths, cfg.batch_size * runtime.world, seed=cfg.seed,
                        epoch=progress.epoch, group_by_length=cfg.group_by_length,
                    )  # fmt: skip
                loop.run_epoch(batches)
    except KeyboardInterrupt:
        log.warning(
            "interrupted at step %d; the last checkpoint is intact: "
            "continue with `summarist train --resume %s`", progress.step, s.run_dir,
        )  # fmt: skip
        raise
    finally:
        trackers.close()
    return progress


def _resume_or_start(s: TrainingRun, optimizer: Any, scheduler: Any, resume: bool) -> Progress:
    """The checkpoint's progress (model, optimizer, scheduler and RNG restored), or step 0."""
    from summarist.training import checkpoint as ckpt

    runtime = s.runtime
    state = ckpt.load_checkpoint(s.run_dir) if resume else None
    if state is not None:
        ckpt.check_world_size(state, runtime.world)
        if "settings" in state["extra"]:  # checkpoints before 0.x have none to compare
            ckpt.check_settings(state["extra"]["settings"], _trajectory_settings(s))
        progress = ckpt.restore(state, s.loaded.model, optimizer, scheduler, runtime.scaler,
                                rank=runtime.rank)  # fmt: skip
        log.info("resuming from step %d of %d", progress.step, s.total_steps)
        return progress
    if runtime.world > 1:
        # Dropout differs per rank (same seed everywhere made every rank draw the same masks).
        import torch

        torch.manual_seed(s.cfg.seed + 1_000 * runtime.rank)
    return Progress()


def make_collator(s: TrainingRun) -> Any:
    """The batch maker of the run's model: left-padded prompt + summary for decoder-only
    models (loss on the summary only), source/labels padded apart for seq2seq."""
    pad = s.loaded.tokenizer.pad_token_id
    if s.loaded.family.causal:
        from summarist.training.causal import CausalCollator

        return CausalCollator(pad)
    return Seq2SeqCollator(pad)


def forward_loss(model: Any, batch: dict[str, Any], causal: bool) -> Any:
    """The batch's token-mean loss: `training.causal.causal_loss` on the summary tokens of a
    decoder-only model, the model's own loss on the labels of a seq2seq one."""
    if causal:
        from summarist.training.causal import causal_loss

        return causal_loss(model, batch)
    return model(**batch).loss


@dataclass
class LossWindow:
    """Losses and tokens since the last log line, and when the window opened."""

    losses: list[float] = field(default_factory=list)
    tokens: int = 0
    start: float = field(default_factory=time.perf_counter)


@dataclass
class Clock:
    """Wall and CPU seconds of training: the checkpoint's, plus this session's so far."""

    seconds_before: float
    cpu_before: float
    start: float = field(default_factory=time.perf_counter)
    cpu_start: float = field(default_factory=time.process_time)

    @classmethod
    def resume(cls, progress: Progress) -> Clock:
        return cls(progress.train_seconds, progress.cpu_seconds)

    def update(self, progress: Progress, now: float) -> None:
        progress.train_seconds = self.seconds_before + now - self.start
        progress.cpu_seconds = self.cpu_before + time.process_time() - self.cpu_start


@dataclass
class Loop:
    """The moving parts of `fit`: one optimizer step at a time, then logging, evaluation,
    budgets and checkpoints, in that order."""

    s: TrainingRun
    model: Any
    """The model as the runtime wrapped it (torch module)."""
    optimizer: Any
    scheduler: Any
    collate: Any
    """Examples -> a padded batch (`make_collator`)."""
    progress: Progress
    eval_subset: Split | None
    train_log: TrainLog
    trackers: Trackers
    bar: ProgressBar
    window: LossWindow
    clock: Clock

    def run_epoch(self, batches: list[list[int]]) -> None:
        """The epoch's remaining steps (from `progress.batch_in_epoch`), up to the last step."""
        p = self.progress
        while p.batch_in_epoch < len(batches) and p.step < self.s.total_steps:
            self.step(batches)
        if p.batch_in_epoch >= len(batches):
            p.epoch += 1
            p.batch_in_epoch = 0

    def step(self, batches: list[list[int]]) -> None:
        s, p = self.s, self.progress
        micro = batches[p.batch_in_epoch : p.batch_in_epoch + s.cfg.grad_accum]
        loss, tokens = _train_step(s, self.model, micro, self.collate, self.optimizer)
        self.scheduler.step()
        p.step += 1
        p.batch_in_epoch += len(micro)
        p.tokens_seen += tokens
        self.window.losses.append(loss)
        self.window.tokens += tokens
        now = time.perf_counter()
        self.clock.update(p, now)
        self.bar.update(p.step, loss=loss)
        epoch = p.epoch + p.batch_in_epoch / len(batches)
        if self.due(s.cfg.log_every):
            self.log(now, epoch)
        if self.eval_subset is not None and self.due(s.eval_every):
            self.evaluate(self.eval_subset, epoch)
        self.stop_or_checkpoint()
        _debug_kill(p.step)
        if p.step % 64 == 0:
            s.examples.release()  # token pages read so far leave this process's RSS

    def due(self, every: int) -> bool:
        """Every `every` steps (never when 0) and at the last step."""
        step = self.progress.step
        return bool(every) and (step % every == 0 or step == self.s.total_steps)

    def log(self, now: float, epoch: float) -> None:
        """A train_log.jsonl row (and trackers) for the window, which then starts again."""
        p, w = self.progress, self.window
        if self.s.runtime.is_main:
            row = {
                "step": p.step,
                "epoch": round(epoch, 4),
                "loss": round(float(np.mean(w.losses)), 5),
                "learning_rate": self.scheduler.get_last_lr()[0],
                "tokens_per_second": round(w.tokens / max(now - w.start, 1e-9), 1),
                "elapsed_s": round(p.train_seconds, 2),
                "cpu_s": round(p.cpu_seconds, 2),
            }
            self.train_log.write(row)
            self.trackers.log(p.step, {"train/loss": row["loss"],
                                       "train/learning_rate": row["learning_rate"]})  # fmt: skip
        self.window = LossWindow()

    def evaluate(self, subset: Split, epoch: float) -> None:
        """Greedy evaluation on the fixed validation sample (every rank decodes a shard)."""
        scores = evaluate_greedy(self.s, subset)
        if self.s.runtime.is_main:
            step = self.progress.step
            self.train_log.write({"step": step, "epoch": round(epoch, 4), "eval": scores})
            self.trackers.log(step, {f"eval/{k}": v for k, v in scores.items()})
            self.bar.update(step, rouge=scores["rougeL"])
        self.model.train()

    def stop_or_checkpoint(self) -> None:
        """Stop at a time budget any rank reached; else a checkpoint every --save-every steps."""
        s, p = self.s, self.progress
        budget = _agreed_budget(s, p)
        if budget:
            log.warning("stopping at step %d: %s reached", p.step, budget)
            s.total_steps = p.step
        if p.step % s.save_every == 0 and p.step < s.total_steps:
            _save_checkpoint(s, self.model, self.optimizer, self.scheduler, p)


def _save_checkpoint(
    s: TrainingRun, model: Any, optimizer: Any, scheduler: Any, progress: Progress
) -> None:
    """Every rank's RNG state, the rest from the main rank (DDP replicas are identical)."""
    from summarist.training import checkpoint as ckpt

    if s.runtime.sharded:
        log.warning("no checkpoint under %s yet: a killed run restarts from step 0",
                    s.runtime.strategy)  # fmt: skip
        return
    rng_ranks = s.runtime.gather([ckpt.rng_state()])
    if not s.runtime.is_main:
        return
    extra = {"scaler": s.runtime.scaler_state(), "settings": _trajectory_settings(s),
             "world_size": s.runtime.world, "rng_ranks": rng_ranks}  # fmt: skip
    ckpt.save_checkpoint(s.run_dir, s.loaded.model, optimizer, scheduler, progress, extra)


# Settings that change nothing before the step a run resumes at: where and how fast it runs,
# what it reports, and budgets (which only decide when to stop).
_RESUMABLE_CHANGES = frozenset({"output_dir", "threads", "report", "report_to", "push_to_hub",
                                "keep_checkpoint", "max_minutes", "max_cpu_minutes"})  # fmt: skip


def _trajectory_settings(s: TrainingRun) -> dict[str, Any]:
    """The resolved settings a checkpoint's training path depends on (saved with it)."""
    import json
    from dataclasses import asdict

    out = {k: v for k, v in s.cfg.to_dict().items() if k not in _RESUMABLE_CHANGES}
    # Generation as resolved (max_new_tokens from the references' p99, when it was asked for):
    # the run saves the resolved value to config.yaml, which a resume reads back.
    out.pop("max_new_tokens_from_references", None)
    out = {**out, "generation": asdict(s.settings)}
    out = {**out, "precision": s.runtime.precision, "total_steps": s.total_steps}
    return json.loads(json.dumps(out))  # tuples as lists, as config.yaml gives them back


def _out_of_budget(cfg: TrainConfig, progress: Progress) -> str | None:
    if cfg.max_minutes is not None and progress.train_seconds >= cfg.max_minutes * 60:
        return f"--max-minutes {cfg.max_minutes}"
    if cfg.max_cpu_minutes is not None and progress.cpu_seconds >= cfg.max_cpu_minutes * 60:
        return f"--max-cpu-minutes {cfg.max_cpu_minutes}"
    return None


def _agreed_budget(s: TrainingRun, progress: Progress) -> str | None:
    """The budget reached, when any rank reached it: ranks' clocks differ, and a rank that
    stopped alone would leave the others waiting in the next step's all-reduce."""
    budget = _out_of_budget(s.cfg, progress)
    if s.runtime.world == 1 or (s.cfg.max_minutes is None and s.cfg.max_cpu_minutes is None):
        return budget
    if s.runtime.any(budget is not None):
        return budget or "another rank's time budget"
    return None


def _train_step(
    s: TrainingRun, model: Any, micro: list[list[int]], collate: Any, optimizer: Any
) -> tuple[float, int]:
    """One optimizer step over this rank's share of `micro` (global batches).

    The loss is weighted by each piece's label tokens over the step's label tokens on ALL
    ranks; DDP averages gradients over ranks, so each rank scales by the world size to make the
    average the sum. Gradients are all-reduced once, at the step's last backward.
    """
    from summarist.training.collate import rank_share, split_by_tokens
    from summarist.training.streamed import RankBatches

    runtime, world = s.runtime, s.runtime.world
    budget = s.cfg.max_batch_tokens
    causal = s.loaded.family.causal
    # A streamed epoch's batches are this rank's already (training/streamed.py).
    mine = (
        micro
        if isinstance(micro, RankBatches)
        else [rank_share(b, runtime.rank, world) for b in micro]
    )
    pieces = [piece for b in mine if b
              for piece in split_by_tokens(b, s.examples, budget, count_labels=not causal)]  # fmt: skip
    weighted = bool(pieces)
    if not weighted:  # the epoch's last batch left nothing for this rank: a forward that
        pieces = [[micro[-1][0]]]  # counts zero keeps it in step with the gradient all-reduce
    batches = [collate([s.examples[i] for i in b]) for b in pieces]
    label_tokens = [int((b["labels"] != -100).sum()) * weighted for b in batches]
    # real tokens processed: source + labels (seq2seq); the sequence (decoder-only), which
    # already holds the labels
    real_tokens = (0 if causal else sum(label_tokens)) + weighted * sum(
        int(b["attention_mask"].sum()) for b in batches
    )
    total_labels = runtime.sum([sum(label_tokens)])[0]
    loss_sum = 0.0
    for k, (batch, n) in enumerate(zip(batches, label_tokens, strict=True)):
        with runtime.accumulating(model, last=k == len(batches) - 1):
            with runtime.autocast(), warnings.catch_warnings():
                # EncoderDecoderModel warns on every call with labels about a v4.12 change.
                warnings.filterwarnings("ignore", "Version v4.12.0", FutureWarning)
                piece_loss = forward_loss(model, runtime.to_device(batch), causal)
            loss = piece_loss * (n * world / total_labels)  # token-weighted mean over the step
            runtime.backward(loss)
        # n == 0 (the stand-in forward) must not turn a NaN into the reported loss
        loss_sum += float(piece_loss.detach()) * n / total_labels if n else 0.0
    loss_sum, real_tokens = runtime.sum([loss_sum, real_tokens])
    if not math.isfinite(loss_sum):  # the same sum on every rank: all stop together
        _diverged(s, "loss", loss_sum)
    norm = runtime.clip(model, optimizer, s.cfg.max_grad_norm)
    if norm is not None and not math.isfinite(norm) and runtime.scaler is None:
        _diverged(s, "gradient norm", norm)
    runtime.step(optimizer)
    return loss_sum, int(real_tokens)


def _diverged(s: TrainingRun, what: str, value: float) -> None:
    where = (
        f"the last good checkpoint is {s.run_dir / CHECKPOINT}"
        if (s.run_dir / CHECKPOINT).exists()
        else "no checkpoint was written yet"
    )
    raise TrainingDiverged(
        f"training stopped: the {what} became {value} ({where})",
        "lower --learning-rate, use --precision fp32 (or bf16), or check the data for empty "
        "references; continue with --resume RUN_DIR",
    )


def _debug_kill(step: int) -> None:
    """Tests simulate `kill -9` at a given step (SUMMARIST_TEST_KILL_AT_STEP)."""
    import os

    at = os.environ.get("SUMMARIST_TEST_KILL_AT_STEP")
    if at and int(at) == step:
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


def _eval_subset(s: TrainingRun) -> Split | None:
    """A fixed, seeded sample of at most --eval-samples validation examples."""
    if s.eval_split is None or s.cfg.eval_samples == 0 or len(s.eval_split) == 0:
        return None
    n = min(s.cfg.eval_samples, len(s.eval_split))
    idx = sorted(random.Random(s.cfg.seed).sample(range(len(s.eval_split)), n))
    return s.eval_split.select(idx)


def evaluate_greedy(s: TrainingRun, split: Split) -> dict[str, float]:
    """Cheap evaluation during training: greedy decoding, ROUGE without bootstrap.

    Next to the model: the constant baseline's ROUGE-1, the distinct-prediction share and the
    swap probe, with a warning when the model looks like it ignores its input.
    """
    from summarist.evaluation import ScoringConfig
    from summarist.evaluation.model_eval import evaluate_split
    from summarist.training.final import generate, training_constant

    settings = s.settings.for_eval()
    main = s.runtime.is_main
    got = evaluate_split(
        lambda texts: generate(s, texts, settings),  # sharded over ranks, gathered in order
        split, ScoringConfig(lang=s.cfg.lang, bootstrap=0), max_new_tokens=settings.max_new_tokens,
        constant=training_constant(s) if main else None, swap_seed=s.cfg.seed,
        warn_where="evaluation during training", main_rank=main,
    )  # fmt: skip
    if got is None:
        return {}  # ROUGE once, on the main rank
    metrics = got.metrics
    scores = {k: round(v["fmeasure"]["mid"], 3) for k, v in metrics["rouge"].items()}
    scores["constant_rouge1"] = round(
        metrics["baselines"]["constant"]["rouge1"]["fmeasure"]["mid"], 3
    )
    scores["hit_cap_share"] = round(got.hit_cap_share, 4)
    scores["distinct_share"] = metrics["diagnostics"]["distinct_share"]
    if (unchanged := metrics["diagnostics"]["swap_probe"]["unchanged_share"]) is not None:
        scores["swap_unchanged_share"] = unchanged
    scores["degenerate"] = int(metrics["degenerate"]["flagged"])
    scores["n"] = len(got.rows)
    return scores


def finish(s: TrainingRun) -> Path:
    from summarist.evaluation.run_io import maybe_write_report
    from summarist.training.final import final_evaluation, write_card
    from summarist.training.save import save_model

    model_dir = save_model(s)
    metrics = final_evaluation(s)
    if s.runtime.is_main:
        write_card(s, metrics)
        if not s.cfg.keep_checkpoint:
            (s.run_dir / CHECKPOINT).unlink(missing_ok=True)
        if s.cfg.report:
            maybe_write_report(s.run_dir)  # a report never fails a finished run
        if s.cfg.push_to_hub:
            _push(model_dir, s.cfg.push_to_hub)
    s.runtime.barrier()  # no rank exits (and no launcher reports success) before the card
    return s.run_dir


def _push(model_dir: Path, repo_id: str) -> None:
    from summarist.data.hub import hub_reachable
    from summarist.errors import OfflineError

    if not hub_reachable():
        raise OfflineError(
            f"--push-to-hub {repo_id}: the Hugging Face Hub is not reachable",
            f"the model is saved in {model_dir}; upload it later with `hf upload`",
        )
    from huggingface_hub import HfApi

    api = HfApi()
    api.create_repo(repo_id, exist_ok=True)
    api.upload_folder(folder_path=str(model_dir), repo_id=repo_id)
