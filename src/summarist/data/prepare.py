"""Cleaning: drop empty pairs, remove duplicates, length filters, ratio splits, leakage report.

Everything removed is counted in `corpus.report[split]`, which `data stats` shows, so nothing
disappears silently.
"""

from __future__ import annotations

import logging
import random
import re
from collections import Counter

from summarist.config.data import DataConfig
from summarist.data.corpus import Corpus, Split
from summarist.errors import ConfigError, DataError

log = logging.getLogger(__name__)

EVAL_SPLITS = ("validation", "test")
# Han, kana, hangul: scripts written without spaces, where one character ~ one word.
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_CJK_OR_WORD = re.compile(
    r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]"
    r"|[^\s\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+"
)


def count_words(text: str) -> int:
    """Whitespace words; in CJK text each character counts as a word."""
    if _CJK.search(text):
        return len(_CJK_OR_WORD.findall(text))
    return len(text.split())


def normalize(text: str) -> str:
    """Key for exact-duplicate and leakage detection: the text itself, minus outer whitespace.

    Line endings were already unified on loading (SAMSum mixes \r\n and \n).
    """
    return text.strip()


def prepare(corpus: Corpus, cfg: DataConfig) -> Corpus:
    """Clean every split, optionally split by ratio, and record a report per split."""
    splits: dict[str, Split] = {}
    report: dict[str, dict[str, int]] = {}
    for name, split in corpus.splits.items():
        splits[name], report[name] = clean_split(split, cfg)
    if cfg.split_ratios is not None:
        if len(splits) != 1:
            raise ConfigError(
                f"--split-ratios needs a single un-split source, but {corpus.source} has splits "
                f"{', '.join(splits)}",
                "drop --split-ratios to use the existing splits",
            )
        (only,) = splits.values()
        splits = split_by_ratio(only, cfg.split_ratios, cfg.seed)
        base = next(iter(report.values()))
        report = {n: {**base, "kept": len(s)} for n, s in splits.items()}
    for name in splits:
        report[name].setdefault("leaked", 0)
    if cfg.drop_leaked and "train" not in splits:
        raise ConfigError(
            f"--drop-leaked compares against train, but {corpus.source} has no train split "
            f"(only {', '.join(splits)})",
            "pass the folder with train.* as well, or drop --drop-leaked",
        )
    if "train" in splits:
        train_keys = {normalize(t) for t in splits["train"].texts}
        for name in EVAL_SPLITS:
            if name not in splits:
                continue
            leaked = [i for i, t in enumerate(splits[name].texts) if normalize(t) in train_keys]
            report[name]["leaked"] = len(leaked)
            if cfg.drop_leaked and leaked:
                drop = set(leaked)
                splits[name] = splits[name].select(
                    [i for i in range(len(splits[name])) if i not in drop]
                )
                report[name]["kept"] = len(splits[name])
            elif leaked:
                log.warning(
                    "%d %s examples also appear in train (leakage); --drop-leaked removes them",
                    len(leaked),
                    name,
                )
    for name, split in splits.items():
        if len(split) == 0:
            raise DataError(
                f"split '{name}' of {corpus.source} is empty after filtering "
                f"({_describe(report[name])})",
                "relax --min-summary-words / --max-source-words or check the columns",
            )
    # A single file split by --split-ratios has real splits now: it is no longer "one file whose
    # every split is itself" (Corpus.split), so validation and test are evaluated, not skipped.
    single_file = corpus.single_file and cfg.split_ratios is None
    return Corpus(splits, source=corpus.source, report=report, single_file=single_file)


def clean_split(split: Split, cfg: DataConfig) -> tuple[Split, dict[str, int]]:
    """Drop empty pairs, duplicates and filtered examples from one split; count each."""
    labeled = any(split.references)
    keys = [normalize(t) for t in split.texts]
    source_counts = Counter(keys)
    pair_keys = [(k, tuple(normalize(r) for r in refs)) for k, refs in zip(keys, split.references)]
    report = {
        "rows": len(split),
        "empty": 0,
        "duplicate_sources": sum(c - 1 for k, c in source_counts.items() if k),
        "duplicate_pairs": sum(c - 1 for k, c in Counter(pair_keys).items() if k[0]),
        "removed_duplicates": 0,
        "short_summary": 0,
        "long_source": 0,
    }
    seen: set[object] = set()
    keep: list[int] = []
    for i, text in enumerate(split.texts):
        refs = split.references[i]
        if not keys[i] or (labeled and not any(r.strip() for r in refs)):
            report["empty"] += 1
            continue
        dedupe_key = {"pair": pair_keys[i], "source": keys[i], "none": i}[cfg.dedupe]
        if dedupe_key in seen:
            report["removed_duplicates"] += 1
            continue
        seen.add(dedupe_key)
        if labeled and max(count_words(r) for r in refs) < cfg.min_summary_words:
            report["short_summary"] += 1
            continue
        if cfg.max_source_words is not None and count_words(text) > cfg.max_source_words:
            report["long_source"] += 1
            continue
        keep.append(i)
    if report["empty"]:
        log.info("%s: dropped %d empty examples", split.name, report["empty"])
    report["kept"] = len(keep)
    return (split if len(keep) == len(split) else split.select(keep)), report


def split_by_ratio(split: Split, ratios: tuple[float, float, float], seed: int) -> dict[str, Split]:
    """Deterministic train/validation/test split; identical sources stay in the same split."""
    groups: dict[str, list[int]] = {}
    for i, text in enumerate(split.texts):
        groups.setdefault(normalize(text), []).append(i)
    order = list(groups.values())
    random.Random(seed).shuffle(order)
    n = len(order)
    cut1 = round(n * ratios[0])
    cut2 = cut1 + round(n * ratios[1])
    bounds = {"train": (0, cut1), "validation": (cut1, cut2), "test": (cut2, n)}
    out = {}
    for name, (lo, hi) in bounds.items():
        idx = sorted(i for group in order[lo:hi] for i in group)
        if idx:
            out[name] = Split(name, *_columns(split.select(idx)))
    return out


def _columns(split: Split) -> tuple:
    return split.texts, split.references, split.extra


def _describe(report: dict[str, int]) -> str:
    parts = [f"{k}={v}" for k, v in report.items() if v and k != "kept"]
    return ", ".join(parts) or "no rows"
