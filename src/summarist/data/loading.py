"""Turn `--data` specs (files, split directories, hub ids) into a prepared `Corpus`.

Each source is read once into the data cache (`data.cache`): its splits as Arrow tables in
canonical columns with their per-row keys, keyed on the files' fingerprint and the reading
settings. The cleaning decisions (which rows each split keeps, and the report) are cached
too, keyed also on the cleaning settings. A second load of the same data maps the cached
tables and reads back the kept rows' positions: no parsing, no decisions, nothing loaded.
"""

from __future__ import annotations

import logging
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from summarist.config.data import DataConfig
from summarist.data import cache
from summarist.data.columns import Preset, find_preset, get_preset
from summarist.data.corpus import Corpus, Part, RowStore, Split, canonical_split
from summarist.data.ingest import (
    Layout,
    Retype,
    head_rows,
    iter_blocks_lenient,
    resolve_layout,
    table_blocks,
    to_canonical,
)
from summarist.data.keys import RowKeys, row_keys
from summarist.data.mapped import MappedTable, TableWriter
from summarist.data.prepare import EVAL_SPLITS, prepare
from summarist.data.readers import EXTENSIONS
from summarist.errors import ConfigError, DataError

log = logging.getLogger(__name__)

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?(:[\w.-]+)?$")
_DECISIONS = ("min_summary_words", "max_source_words", "dedupe", "drop_leaked", "split_ratios",
              "seed", "languages")  # fmt: skip
_READING = ("preset", "text_column", "summary_columns", "encoding", "header", "require_summary")


def cache_root_of(cfg: DataConfig) -> Path:
    """The cache folder `cfg` uses (a temporary one with `cache=False`)."""
    return cache.cache_root(cfg.cache_dir) if cfg.cache else cache.TemporaryCache.root()


def load_corpus(cfg: DataConfig) -> Corpus:
    """Load every source in `cfg.data`, concatenate them, and clean them as configured.

    >>> corpus = load_corpus(DataConfig(data=["train.jsonl"]))  # doctest: +SKIP
    >>> corpus["train"].texts[0]  # doctest: +SKIP
    """
    root = cache_root_of(cfg)
    sources = [read_source(spec, cfg, root) for spec in cfg.data]
    key = cache.cache_key(
        "prepared", [s.key for s in sources], {k: getattr(cfg, k) for k in _DECISIONS}
    )
    entry = root / "prepared" / key
    made: dict[str, Corpus] = {}

    def build(tmp: Path) -> None:
        raw = assemble(sources, cfg)
        corpus = prepare(raw, cfg)
        (only,) = raw.splits if cfg.split_ratios is not None else (None,)
        for name, split in corpus.splits.items():
            np.save(tmp / f"{name}.rows.npy", split.index)
        cache.write_meta(tmp, {
            "describes": " + ".join(cfg.data), "splits": list(corpus.splits),
            "origin": {n: only or n for n in corpus.splits}, "report": corpus.report,
            "source": corpus.source, "single_file": corpus.single_file,
        })  # fmt: skip
        made["corpus"] = corpus

    entry, built = cache.build_once(entry, build)
    corpus = made["corpus"] if built else _cached_corpus(entry, assemble(sources, cfg), cfg)
    corpus.key = key
    return corpus


def _cached_corpus(entry: Path, raw: Corpus, cfg: DataConfig) -> Corpus:
    """The prepared corpus from its cached rows (the first load's warnings said again)."""
    meta = cache.read_meta(entry)
    splits = {
        name: Split(name, store=raw.splits[meta["origin"][name]].store,
                    rows=np.load(entry / f"{name}.rows.npy"))
        for name in meta["splits"]
    }  # fmt: skip
    report = meta["report"]
    for name in EVAL_SPLITS:
        leaked = (report.get(name) or {}).get("leaked", 0)
        if leaked and not cfg.drop_leaked:
            log.warning(
                "%d %s examples also appear in train (leakage); --drop-leaked removes them",
                leaked,
                name,
            )
    return Corpus(splits, source=meta["source"], report=report, single_file=meta["single_file"])


# ----------------------------------------------------------------------------- one source


@dataclass
class SourceTables:
    """One source in the cache: a table (and keys) per split."""

    spec: str
    key: str
    tables: dict[str, tuple[MappedTable, RowKeys]]
    single_file: bool


def read_source(spec: str, cfg: DataConfig, root: Path) -> SourceTables:
    """Read one source into the cache (unless it is there already) and map it."""
    files, single_file, hub = _locate(spec, cfg)
    preset = _pick_preset(spec, cfg)
    if hub is not None:
        fingerprint: Any = {s: getattr(d, "_fingerprint", None) for s, d in hub.items()}
    else:
        fingerprint = {s: cache.file_fingerprint(p) for s, p in files.items()}
    if cfg.streaming:
        if hub is not None:
            raise ConfigError(
                f"--streaming reads local files; {spec} is a hub dataset",
                "drop --streaming (hub datasets are memory-mapped by `datasets` already)",
            )
        return _stream_source(spec, files, single_file, fingerprint, cfg, preset, root)
    key = cache.cache_key(
        "corpus", spec, fingerprint, {k: getattr(cfg, k) for k in _READING},
        preset.__dict__ if preset else None,
    )  # fmt: skip
    entry = root / "corpora" / key
    names = _header_names(spec, cfg)
    header = cfg.header and names is None

    def build(tmp: Path) -> None:
        rows = {}
        for split in hub or files:
            where = f"{spec} [{split}]"
            if hub is not None:
                blocks: Any = lambda split=split: table_blocks(hub[split].data.table)  # noqa: E731
            else:
                path = files[split]
                blocks = lambda path=path: iter_blocks_lenient(  # noqa: E731
                    path, encoding=cfg.encoding, header=header, names=names
                )
            rows[split] = write_split(tmp, split, blocks, cfg, preset, where)
        cache.write_meta(tmp, {"describes": spec, "splits": list(rows), "rows": rows,
                               "single_file": single_file})  # fmt: skip

    entry, built = cache.build_once(entry, build)
    if built:
        log.debug("read %s into the data cache (%s)", spec, entry)
    meta = cache.read_meta(entry)
    tables = {
        s: (MappedTable(entry / f"{s}.arrow"), RowKeys.load(entry, s)) for s in meta["splits"]
    }
    return SourceTables(spec, key, tables, meta["single_file"])


def _stream_source(
    spec: str, files: dict[str, Path], single_file: bool, fingerprint: Any, cfg: DataConfig,
    preset: Preset | None, root: Path,
) -> SourceTables:  # fmt: skip
    """`--streaming`: the source indexed in the cache (keys and shards, no text), read in place."""
    from summarist.data.shards import ShardedFile, index_split

    key = cache.cache_key(
        "stream", spec, fingerprint, {k: getattr(cfg, k) for k in _READING},
        preset.__dict__ if preset else None,
    )  # fmt: skip
    entry = root / "streams" / key

    def build(tmp: Path) -> None:
        rows = {s: index_split(tmp, s, p, cfg, preset, f"{spec} [{s}]") for s, p in files.items()}
        cache.write_meta(tmp, {"describes": f"{spec} (--streaming)", "splits": list(rows),
                               "rows": rows, "single_file": single_file})  # fmt: skip

    entry, built = cache.build_once(entry, build)
    if built:
        log.debug("indexed %s for --streaming (%s)", spec, entry)
    meta = cache.read_meta(entry)
    tables = {s: (ShardedFile(entry, s), RowKeys.load(entry, s)) for s in meta["splits"]}
    return SourceTables(spec, key, tables, meta["single_file"])  # type: ignore[arg-type]


def write_split(
    folder: Path, split: str, blocks: Any, cfg: DataConfig, preset: Preset | None, where: str
) -> int:
    """One split's blocks → `folder/SPLIT.arrow` + its keys; the number of rows written."""
    types: dict[str, Any] = {}
    for _ in range(8):  # each retry fixes one more column's type
        try:
            return _write_split_once(folder, split, blocks(), cfg, preset, where, types)
        except Retype as change:
            types.update(change.types)
    raise DataError(f"{where}: column types keep changing between rows", "check the file")


def _write_split_once(
    folder: Path, split: str, blocks: Any, cfg: DataConfig, preset: Preset | None, where: str,
    types: dict[str, Any],
) -> int:  # fmt: skip
    writer = None
    keys = []
    layout: Layout | None = None
    try:
        for block in blocks:
            if layout is None:
                layout = resolve_layout(head_rows(block), cfg, preset, where)
                layout.types.update({k: v for k, v in types.items() if k in layout.extras})
            batch = to_canonical(block, layout, where)
            if writer is None:
                writer = TableWriter(folder / f"{split}.arrow", layout.schema())
            writer.write(batch)
            keys.append(row_keys(batch))
    finally:
        if writer is not None:
            writer.close()
    if layout is None:  # an empty file: no columns to find (the same error as ever)
        layout = resolve_layout([], cfg, preset, where)
    if writer is None:
        TableWriter(folder / f"{split}.arrow", layout.schema()).close()
        keys = [row_keys(layout.schema().empty_table())]
    RowKeys.concat(keys).save(folder, split)
    return writer.rows if writer is not None else 0


def _locate(spec: str, cfg: DataConfig) -> tuple[dict[str, Path], bool, dict[str, Any] | None]:
    """(files per split, whether one un-split file, hub splits when it is a hub dataset)."""
    path = Path(spec).expanduser()
    if path.is_dir():
        return _split_files(path), False, None
    if path.is_file():
        split = canonical_split(path.stem) or "train"
        return {split: path}, canonical_split(path.stem) is None, None
    if _looks_like_path(spec) or not _HUB_ID.match(spec):
        raise DataError(f"file not found: {spec}", "check the path given to --data")
    from summarist.data.hub import load_hub_splits

    return {}, False, load_hub_splits(spec)


def _split_files(path: Path) -> dict[str, Path]:
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
    return {s: found[s] for s in ("train", "validation", "test") if s in found}


# ------------------------------------------------------------------- sources into a corpus


def assemble(sources: list[SourceTables], cfg: DataConfig) -> Corpus:
    """The raw (uncleaned) corpus of `sources`: one source as it is, several concatenated."""
    tag = len(sources) > 1
    parts = []
    for i, source in enumerate(sources):
        tags: dict[str, Any] = {}
        if tag:
            tags["source"] = source.spec
        if cfg.languages:
            tags["language"] = cfg.languages[i]
        splits = {
            name: Split(name, store=RowStore([Part(table, keys, tags)]))
            for name, (table, keys) in source.tables.items()
        }
        parts.append(Corpus(splits, source=source.spec, single_file=source.single_file))
    return parts[0] if len(parts) == 1 else concatenate(parts, seed=cfg.seed)


def concatenate(parts: list[Corpus], seed: int) -> Corpus:
    """Concatenate corpora split by split, then shuffle each split with `seed`."""
    names: list[str] = []
    for part in parts:
        names += [n for n in part.splits if n not in names]
    splits = {}
    for name in names:
        pieces = [p.splits[name] for p in parts if name in p.splits]
        store = RowStore([q for piece in pieces for q in piece.store.parts])
        total = sum(len(piece) for piece in pieces)
        order = list(range(total))
        random.Random(seed).shuffle(order)
        splits[name] = Split(name, store=store, rows=np.asarray(order, dtype=np.int64))
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


def _looks_like_path(spec: str) -> bool:
    return (
        spec.startswith((".", "/", "~"))
        or "\\" in spec
        or Path(spec).suffix.lower() in EXTENSIONS
        or spec.count("/") > 1
    )
