"""End of a training run: evaluate once with beam search, write the model card (the model is
saved first, by `training.save`)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from summarist.baselines.constant import ConstantSummary
from summarist.config.generation import GenerationSettings
from summarist.rundir import CARD, MODEL_DIR, read_yaml, write_text_atomic
from summarist.training.state import TrainingRun

log = logging.getLogger(__name__)


def final_evaluation(s: TrainingRun) -> dict[str, Any]:
    """Beam-search evaluation of each eval split next to lead and constant baselines; writes the run.

    Each split also gets the swap probe (a few examples generated again with another example's
    source) and the degenerate-output verdict (`evaluation.model_eval.evaluate_split`).
    """
    from summarist.baselines import lead_baseline_name
    from summarist.evaluation import ScoringConfig, write_run
    from summarist.evaluation.model_eval import evaluate_split

    metrics_by_split: dict[str, Any] = {}
    rows: list[dict[str, Any]] = []
    main = s.runtime.is_main
    baselines = [lead_baseline_name(s.train_split.texts)] if main else []
    constant = training_constant(s) if main else None
    zero_shot = zero_shot_system(s)
    for name, split in s.splits.items():
        if s.cfg.final_eval_samples:
            split = split.select(range(min(len(split), s.cfg.final_eval_samples)))
        log.info("final evaluation on %s (%d examples, %d beams)", name, len(split),
                 s.settings.num_beams)  # fmt: skip
        got = evaluate_split(
            lambda texts: generate(s, texts, s.settings),  # every rank decodes a shard
            split, ScoringConfig(lang=s.cfg.lang, faithfulness_baselines=True),
            max_new_tokens=s.settings.max_new_tokens,
            baselines=baselines, constant=constant, swap_seed=s.cfg.seed,
            warn_where=f"final evaluation ({name})", main_rank=main, systems=zero_shot,
        )  # fmt: skip
        if got is None:
            continue  # ROUGE once, on the main rank, which has every prediction
        metrics_by_split[name] = got.metrics
        rows.extend(got.rows)
    if not main:
        return metrics_by_split
    config = read_yaml(s.run_dir / "config.yaml")
    write_run(
        s.run_dir, kind="train", name=Path(s.run_dir).name, config=config,
        metrics_by_split=metrics_by_split, prediction_rows=rows,
    )  # fmt: skip
    return metrics_by_split


ZERO_SHOT = "zero-shot"
"""The baseline name of a decoder-only fine-tune's base model, prompted the same way."""


def zero_shot_system(s: TrainingRun) -> dict[str, Any] | None:
    """{"zero-shot": generate} for a decoder-only run with `zero_shot_baseline`: the model it
    started from (loaded again, its own tokenizer: no added tokens), the run's prompt settings
    and decoding. None otherwise."""
    if s.prompt is None or not s.cfg.zero_shot_baseline:
        return None
    from summarist.models.loading import load_for_inference
    from summarist.models.prompt import PromptBuilder

    model, tokenizer = load_for_inference(s.cfg.model)
    model.to(s.runtime.device)
    prompt = PromptBuilder(tokenizer, s.cfg.prompt, s.loaded.family)

    def run(texts: list[str]) -> tuple[list[str], list[int]]:
        log.info("zero-shot baseline: %s before fine-tuning (%d texts)", s.cfg.model, len(texts))
        return generate(s, texts, s.settings, model=model, tokenizer=tokenizer, prompt=prompt)

    return {ZERO_SHOT: run}


def generate(
    s: TrainingRun,
    texts: list[str],
    settings: GenerationSettings,
    *,
    model: Any = None,
    tokenizer: Any = None,
    prompt: Any = None,
) -> tuple[list[str], list[int]]:
    """Every rank decodes its contiguous shard of `texts`; all get every output, in order.

    `model`, `tokenizer` and `prompt` default to the run's (another model: the zero-shot base).

    Shards differ in size by at most one and are gathered by rank, so nothing is padded and
    nothing comes back twice. Under ZeRO-3 and FSDP every rank must run as many generate calls
    as the others, so short shards are topped up with a copy of their last text, dropped after.
    """
    from summarist.distributed import shard_bounds
    from summarist.inference.batching import generate_batched

    rt = s.runtime
    start, end = shard_bounds(len(texts), rt.rank, rt.world)
    mine = list(texts[start:end])
    if rt.synced_generate:  # ranks generate in lock step: equal shards
        longest = -(-len(texts) // rt.world)
        mine += (mine or list(texts[:1]))[-1:] * (longest - len(mine))
    preds, counts = generate_batched(
        model or s.loaded.model, tokenizer or s.loaded.tokenizer, mine, settings,
        batch_size=s.cfg.eval_batch_size, prefix=s.prefix,
        max_source_length=s.cfg.max_source_length, device=rt.device,
        synced_gpus=rt.synced_generate, prompt=prompt or s.prompt,
    )  # fmt: skip
    if rt.world == 1:
        return preds, counts
    pairs = rt.gather(list(zip(preds[: end - start], counts[: end - start], strict=True)))
    return [p for p, _ in pairs], [c for _, c in pairs]


def _fmt(metrics: dict[str, Any], key: str) -> str:
    r = metrics.get(key, {}).get("fmeasure", {})
    if not r:
        return "-"
    return f"{r['mid']:.2f} [{r['low']:.2f}, {r['high']:.2f}]"


def write_card(s: TrainingRun, metrics_by_split: dict[str, Any]) -> Path:
    """The model card (`README.md`): data, settings, scores next to the baseline, intended use."""
    from summarist.evaluation.faithfulness import card_lines

    cfg, settings = s.cfg, s.settings
    lines = [
        "---",
        "library_name: transformers",
        "pipeline_tag: summarization",
        "tags: [summarization, summarist]",
        "---",
        f"# {Path(s.run_dir).name}",
        "",
        f"A `{s.loaded.family.name}` summarization model fine-tuned with summarist from "
        f"`{cfg.model}` on {', '.join(cfg.data.data)} ({len(s.examples)} training examples).",
        "",
        "## Scores (ROUGE F1, 0-100, mean with 95% bootstrap interval)",
        "",
        "| split | system | n | ROUGE-1 | ROUGE-2 | ROUGE-L | ROUGE-Lsum |",
        "|---|---|---|---|---|---|---|",
    ]
    for split, m in metrics_by_split.items():
        keys = ("rouge1", "rouge2", "rougeL", "rougeLsum")
        lines.append(f"| {split} | this model | {m.get('n', '-')} | "
                     + " | ".join(_fmt(m["rouge"], k) for k in keys) + " |")  # fmt: skip
        for name, b in m.get("baselines", {}).items():
            lines.append(f"| {split} | {name} | {m.get('n', '-')} | "
                         + " | ".join(_fmt(b, k) for k in keys) + " |")  # fmt: skip
    lines += card_lines(metrics_by_split)
    for split, m in metrics_by_split.items():
        for other, paired in (m.get("paired") or {}).items():
            r1 = paired["rouge1"]
            lines += ["", f"Against the {other} baseline on {split} (paired bootstrap, 95%): "
                      f"ROUGE-1 {r1['diff']:+.2f} [{r1['low']:+.2f}, {r1['high']:+.2f}], "
                      f"p = {r1['p_value']:.3f}"]  # fmt: skip
    for split, m in metrics_by_split.items():
        verdict = m.get("degenerate") or {}
        if verdict.get("flagged"):
            lines += ["", f"> **Warning ({split}):** {verdict['message']}"]
    lines += [
        "",
        "## Training settings",
        "",
        f"- steps: {s.total_steps} (batch {cfg.batch_size} x {cfg.grad_accum} accumulation), "
        f"learning rate {cfg.learning_rate}, warm-up {cfg.warmup_ratio}, seed {cfg.seed}",
        f"- max source length {cfg.max_source_length}, max target length "
        f"{cfg.max_target_length}, input prefix {s.prefix!r}",
        *_prompt_lines(s),
        f"- precision {s.runtime.precision} on {s.runtime.device} ({s.runtime.threads} threads)",
        f"- added tokens: {', '.join(s.added_tokens) or 'none'}",
        *_lora_lines(s),
        f"- generation: {settings.to_dict()} (saved as `generation_config.json`)",
        "",
        "## Use",
        "",
        "```python",
        "from summarist import Summarizer",
        f'Summarizer.from_pretrained("{Path(s.run_dir) / MODEL_DIR}").summarize(["..."])',
        "```",
        "",
        *_plain_use(s),
        "",
        "## Intended use and limits",
        "",
        "Research and prototyping on text like the training data. Summaries can state things the "
        "source does not say; check them before relying on them. Scores above are on the "
        "splits listed, with the decoding settings listed, and say nothing about other domains.",
        "",
    ]
    return write_text_atomic(Path(s.run_dir) / CARD, "\n".join(lines))


def _plain_use(s: TrainingRun) -> list[str]:
    if s.prompt is None:
        return [
            "Plain transformers works too (`AutoModelForSeq2SeqLM.from_pretrained`); prepend "
            "the prefix stored in `config.task_specific_params['summarization']`."
        ]
    how = "`tokenizer.apply_chat_template`" if s.prompt.mode == "chat" else "the plain template"
    return [
        "Plain transformers works too (`AutoModelForCausalLM.from_pretrained`): build the "
        f"prompt with {how} as recorded in `config.task_specific_params['summarization']"
        "['prompt']`, generate, and keep the new tokens only."
    ]


def _prompt_lines(s: TrainingRun) -> list[str]:
    """A decoder-only card's prompt: settings, and the prompt as the model reads it."""
    if s.prompt is None:
        return []
    shown = s.prompt.render("{text}").replace("\n", "\\n")
    return [
        f"- prompt ({s.prompt.mode} template, {s.prompt.overhead} tokens around the text): "
        f"instruction {s.cfg.prompt.instruction!r}, system prompt {s.cfg.prompt.system_prompt!r}"
        f"; the model reads `{shown}` (saved in `config.task_specific_params['summarization']"
        "['prompt']`; the loss was on the summary tokens only)"
    ]


def _lora_lines(s: TrainingRun) -> list[str]:
    """The card's LoRA line: rank, layers, what trained, and that model/ is merged."""
    if s.lora is None:
        return []
    lora, cfg = s.lora, s.cfg
    full = f"; trained in full: {', '.join(lora.modules_to_save)}" if lora.modules_to_save else ""
    return [
        f"- LoRA (peft): r={cfg.lora_r}, alpha={cfg.lora_alpha}, dropout={cfg.lora_dropout} "
        f"on {', '.join(lora.targets)}{full}; {lora.trainable_params:,} of "
        f"{lora.total_params:,} parameters trained. These weights are the adapter merged "
        "into the base; the adapter alone is in `adapter/` of the run directory."
    ]


def training_constant(s: TrainingRun) -> ConstantSummary:
    """The constant baseline of this run, chosen from the training split once and reused by
    every evaluation (the choice is deterministic in the split and the seed)."""
    if s.constant is None:
        from summarist.evaluation.scoring import constant_for

        s.constant = constant_for(s.train_split, s.train_split, seed=s.cfg.seed)
    return s.constant
