"""Cleaning: drop empty pairs, remove duplicates, length filters, ratio splits, leakage report.

Everything removed is counted in `corpus.report[split]`, which `data stats` shows, so nothing
disappears silently. Every decision is numpy on the per-row keys of `data.keys` (hashes of the
normalized texts, word counts), never a Python loop over the rows; the rules are the ones
below, unchanged (tests compare them with a pinned copy of the row-by-row original).
"""

from __future__ import annotations

import logging
import random
import re

import numpy as np

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
        train_keys = np.unique(splits["train"].keys().text_hash)
        for name in EVAL_SPLITS:
            if name not in splits:
                continue
            leaked = np.isin(splits[name].keys().text_hash, train_keys)
            count = int(leaked.sum())
            report[name]["leaked"] = count
            if cfg.drop_leaked and count:
                splits[name] = splits[name].select(np.flatnonzero(~leaked))
                report[name]["kept"] = len(splits[name])
            elif count:
                log.warning(
                    "%d %s examples also appear in train (leakage); --drop-leaked removes them",
                    count,
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


def _surplus(hashes: np.ndarray) -> int:
    """How many rows repeat an earlier row's hash."""
    return int(len(hashes) - len(np.unique(hashes)))


def _first_occurrences(hashes: np.ndarray) -> np.ndarray:
    """Positions of the first row of each distinct hash, in row order."""
    _, first = np.unique(hashes, return_index=True)
    return np.sort(first)


def clean_split(split: Split, cfg: DataConfig) -> tuple[Split, dict[str, int]]:
    """Drop empty pairs, duplicates and filtered examples from one split; count each.

    In row order: an empty source (or, in a labelled split, no non-empty reference) is
    `empty`; a row whose dedupe key an earlier non-empty row had is a removed duplicate (the
    earlier one counts even if a length filter drops it later); then the summary and source
    length filters.
    """
    k = split.keys()
    n = len(split)
    labeled = bool((np.asarray(k.n_refs) > 0).any())
    text_empty = np.asarray(k.text_empty, dtype=bool)
    has_text = ~text_empty
    report = {
        "rows": n,
        "empty": 0,
        "duplicate_sources": _surplus(np.asarray(k.text_hash)[has_text]),
        "duplicate_pairs": _surplus(np.asarray(k.pair_hash)[has_text]),
        "removed_duplicates": 0,
        "short_summary": 0,
        "long_source": 0,
    }
    empty = text_empty | (labeled & ~np.asarray(k.refs_nonempty, dtype=bool))
    rows = np.flatnonzero(~empty)
    report["empty"] = int(empty.sum())
    if cfg.dedupe != "none":
        key = np.asarray(k.pair_hash if cfg.dedupe == "pair" else k.text_hash)[rows]
        kept = rows[_first_occurrences(key)]
        report["removed_duplicates"] = int(len(rows) - len(kept))
        rows = kept
    if labeled:
        short = np.asarray(k.max_ref_words)[rows] < cfg.min_summary_words
        report["short_summary"] = int(short.sum())
        rows = rows[~short]
    if cfg.max_source_words is not None:
        long = np.asarray(k.source_words)[rows] > cfg.max_source_words
        report["long_source"] = int(long.sum())
        rows = rows[~long]
    if report["empty"]:
        log.info("%s: dropped %d empty examples", split.name, report["empty"])
    report["kept"] = len(rows)
    return (split if len(rows) == n else split.select(rows)), report


def split_by_ratio(split: Split, ratios: tuple[float, float, float], seed: int) -> dict[str, Split]:
    """Deterministic train/validation/test split; identical sources stay in the same split.

    Groups of identical (normalized) sources, in order of first appearance, are shuffled with
    `random.Random(seed)` and cut by the ratios; each split keeps its rows in corpus order.
    """
    hashes = np.asarray(split.keys().text_hash)
    _, first, inverse = np.unique(hashes, return_index=True, return_inverse=True)
    by_appearance = np.argsort(first, kind="stable")  # group ids in order of first appearance
    group_of_row = np.empty(len(first), dtype=np.int64)
    group_of_row[by_appearance] = np.arange(len(first))
    group_of_row = group_of_row[inverse.reshape(-1)]
    n = len(first)
    order = list(range(n))
    random.Random(seed).shuffle(order)  # the same permutation as shuffling the groups
    position = np.empty(n, dtype=np.int64)
    position[np.asarray(order, dtype=np.int64)] = np.arange(n)
    cut1 = round(n * ratios[0])
    cut2 = cut1 + round(n * ratios[1])
    bounds = {"train": (0, cut1), "validation": (cut1, cut2), "test": (cut2, n)}
    pos_of_row = position[group_of_row]
    out = {}
    for name, (lo, hi) in bounds.items():
        idx = np.flatnonzero((pos_of_row >= lo) & (pos_of_row < hi))
        if len(idx):
            out[name] = split.select(idx).renamed(name)
    return out


def _describe(report: dict[str, int]) -> str:
    parts = [f"{k}={v}" for k, v in report.items() if v and k != "kept"]
    return ", ".join(parts) or "no rows"
