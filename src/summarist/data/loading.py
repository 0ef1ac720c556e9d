"""Turn `--data` specs (files, split directories, hub ids) into a prepared `Corpus`."""

from __future__ import annotations

import logging
import random
import re
from pathlib import Path
from typing import Any

from summarist.config.data import DataConfig
from summarist.data.columns import Preset, find_preset, get_preset, resolve_columns
from summarist.data.corpus import Corpus, Split, canonical_split
from summarist.data.prepare import prepare
from summarist.data.readers import EXTENSIONS, Row, read_table
from summarist.errors import DataError

log = logging.getLogger(__name__)

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?(:[\w.-]+)?$")
_SCALAR = (str, int, float, bool, type(None))


def load_corpus(cfg: DataConfig) -> Corpus:
    """Load every source in `cfg.data`, concatenate them, and clean them as configured.

    >>> corpus = load_corpus(DataConfig(data=["train.jsonl"]))  # doctest: +SKIP
    >>> corpus["train"].texts[0]  # doctest: +SKIP
    """
    parts = []
    for i, spec in enumerate(cfg.data):
        language = cfg.languages[i] if cfg.languages else None
        parts.append(load_source(spec, cfg, language=language, tag=len(cfg.data) > 1))
    corpus = parts[0] if len(parts) == 1 else concatenate(parts, seed=cfg.seed)
    return prepare(corpus, cfg)


def load_source(
    spec: str, cfg: DataConfig, *, language: str | None = None, tag: bool = False
) -> Corpus:
    """Load one source into a Corpus with resolved columns (no cleaning yet)."""
    raw, single_file = read_source(spec, cfg)
    preset = _pick_preset(spec, cfg)
    splits = {}
    for name, rows in raw.items():
        split = rows_to_split(name, rows, cfg, preset, where=f"{spec} [{name}]")
        if tag:
            split.extra["source"] = [spec] * len(split)
        if language:
            split.extra["language"] = [language] * len(split)
        splits[name] = split
    return Corpus(splits, source=spec, single_file=single_file)


def read_source(spec: str, cfg: DataConfig) -> tuple[dict[str, list[Row]], bool]:
    """Raw rows per split, and whether they came from one un-split file."""
    path = Path(spec).expanduser()
    names = _header_names(spec, cfg)
    header = cfg.header and names is None
    if path.is_dir():
        return _read_split_dir(path, cfg, header, names), False
    if path.is_file():
        split = canonical_split(path.stem) or "train"
        rows = read_table(path, encoding=cfg.encoding, header=header, names=names)
        return {split: rows}, canonical_split(path.stem) is None
    if _looks_like_path(spec) or not _HUB_ID.match(spec):
        raise DataError(f"file not found: {spec}", "check the path given to --data")
    from summarist.data.hub import load_hub_dataset

    return load_hub_dataset(spec), False


def _read_split_dir(
    path: Path, cfg: DataConfig, header: bool, names: list[str] | None
) -> dict[str, list[Row]]:
    found: dict[str, Path] = {}
    for file in sorted(path.iterdir()):
        split = canonical_split(file.stem)
        if split and file.suffix.lower() in EXTENSIONS:
            if split in found:
                raise DataError(
                    f"{path} has two files for split '{split}': {found[split].name}, {file.name}",
                    "keep one file per split",
                )
            found[split] = file
    if not found:
        listing = ", ".join(sorted(f.name for f in path.iterdir())[:8]) or "(empty)"
        raise DataError(
            f"no split files in directory {path} (found: {listing})",
            "name them train.jsonl, validation.jsonl (or dev/val), test.jsonl (any of "
            + "/".join(EXTENSIONS)
            + ")",
        )
    order = ["train", "validation", "test"]
    return {
        s: read_table(found[s], encoding=cfg.encoding, header=header, names=names)
        for s in order
        if s in found
    }


def rows_to_split(
    name: str, rows: list[Row], cfg: DataConfig, preset: Preset | None, where: str
) -> Split:
    """Map raw rows to (text, references, extra) using the resolved columns."""
    columns = _columns_of(rows)
    if preset and not cfg.preset and not _preset_fits(preset, columns):
        preset = None  # guessed from a name, but this file has its own layout
    cmap = resolve_columns(
        columns,
        text_column=cfg.text_column,
        summary_columns=cfg.summary_columns,
        preset=preset,
        where=where,
        require_summary=cfg.require_summary,
    )
    for col in (cmap.text, *cmap.summaries):
        _check_text_column(rows, col, where)
    texts = [_as_text(r.get(cmap.text)) for r in rows]
    references = []
    for r in rows:
        refs: list[str] = []
        for col in cmap.summaries:
            value = r.get(col)
            if isinstance(value, list):
                refs.extend(_as_text(v) for v in value)
            elif value is not None:
                refs.append(_as_text(value))
        references.append(refs)
    used = {cmap.text, *cmap.summaries}
    extra = {
        c: [r.get(c) for r in rows]
        for c in columns
        if c not in used and all(isinstance(r.get(c), _SCALAR) for r in rows[:100])
    }
    return Split(name, texts, references, extra)


def concatenate(parts: list[Corpus], seed: int) -> Corpus:
    """Concatenate corpora split by split, then shuffle each split with `seed`."""
    names: list[str] = []
    for part in parts:
        names += [n for n in part.splits if n not in names]
    splits = {}
    for name in names:
        pieces = [p.splits[name] for p in parts if name in p.splits]
        keys = sorted({k for piece in pieces for k in piece.extra})
        texts, refs, extra = [], [], {k: [] for k in keys}  # type: ignore[var-annotated]
        for piece in pieces:
            texts += piece.texts
            refs += piece.references
            for k in keys:
                extra[k] += piece.extra.get(k, [None] * len(piece))
        order = list(range(len(texts)))
        random.Random(seed).shuffle(order)
        splits[name] = Split(name, texts, refs, extra).select(order)
    return Corpus(splits, source=" + ".join(p.source for p in parts))


def _pick_preset(spec: str, cfg: DataConfig) -> Preset | None:
    if cfg.preset:
        return get_preset(cfg.preset)
    if cfg.text_column and cfg.summary_columns:
        return None
    found = find_preset(spec) or find_preset(str(Path(spec).expanduser().resolve().parent))
    return found[1] if found else None


def _header_names(spec: str, cfg: DataConfig) -> list[str] | None:
    """Column names for header-less files of a preset (e.g. CSL's tsv)."""
    if cfg.preset:
        preset: Preset | None = get_preset(cfg.preset)
    else:
        path = Path(spec).expanduser()
        hit = find_preset(spec) or (
            find_preset(str(path.resolve().parent)) if path.exists() else None
        )
        preset = hit[1] if hit else None
    return list(preset.names) if preset and preset.names else None


def _preset_fits(preset: Preset, columns: list[str]) -> bool:
    from summarist.data.columns import reference_group

    has_summary = preset.summary in columns or bool(reference_group(columns, preset.summary))
    return preset.text in columns and has_summary


def _columns_of(rows: list[Row]) -> list[str]:
    cols: dict[str, None] = {}
    for r in rows[:1000]:
        cols.update(dict.fromkeys(r))
    return list(cols)


def _check_text_column(rows: list[Row], column: str, where: str) -> None:
    """Text columns hold strings (or lists of strings, or nothing): a number or an object
    there means the wrong column was picked or the file is not what it seems."""
    for i, row in enumerate(rows):
        value = row.get(column)
        items = value if isinstance(value, list) else [value]
        bad = next((v for v in items if v is not None and not isinstance(v, str)), None)
        if bad is not None:
            raise DataError(
                f"{where}: column '{column}' holds {type(bad).__name__} values, not text "
                f"(row {i + 1}: {str(bad)[:40]!r})",
                "pick the text columns with --text-column / --summary-column, or fix the file",
            )


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "\n".join(_as_text(v) for v in value)
    return str(value).replace("\r\n", "\n").replace("\r", "\n")


def _looks_like_path(spec: str) -> bool:
    return (
        spec.startswith((".", "/", "~"))
        or "\\" in spec
        or Path(spec).suffix.lower() in EXTENSIONS
        or spec.count("/") > 1
    )
