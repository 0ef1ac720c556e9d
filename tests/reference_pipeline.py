"""A pinned copy of summarist's data path as it was before issue 28 (row-by-row Python).

Reading (`readers.py`), column mapping, concatenation, cleaning, ratio splits, leakage
(`loading.py`, `prepare.py`) and tokenization (`training/batches.py` `tokenize_pairs`), copied
verbatim from `main` at 24feee1 (only imports and two names changed), so that the tests can
keep proving that the Arrow path decides and tokenizes exactly as this did, after the old code
is gone. Do not "fix" anything here: it is the reference.
"""

# ruff: noqa
from __future__ import annotations

import csv
import io
import json
import logging
import random
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from summarist.config.data import DataConfig
from summarist.data.columns import Preset, find_preset, get_preset, resolve_columns
from summarist.data.corpus import canonical_split
from summarist.errors import ConfigError, DataError, did_you_mean

log = logging.getLogger(__name__)


# ---- readers.py
Row = dict[str, Any]

EXTENSIONS = (".jsonl", ".json", ".csv", ".tsv", ".parquet")
# csv.field_size_limit defaults to 128 KiB; long documents (BillSum, arXiv) exceed it.
csv.field_size_limit(2**31 - 1)


def read_table(
    path: Path, *, encoding: str = "utf-8", header: bool = True, names: list[str] | None = None
) -> list[Row]:
    """Read `path` into rows.

    Args:
        path: a .jsonl, .json (array or JSON lines), .csv, .tsv or .parquet file.
        encoding: text encoding for the text formats (a UTF-8 BOM is always accepted).
        header: whether csv/tsv files start with a header row.
        names: column names for header-less csv/tsv (default `col0, col1, ...`).
    """
    if not path.exists():
        raise DataError(f"file not found: {path}", "check the path given to --data")
    if path.is_dir():
        raise DataError(f"{path} is a directory", "use it as --data DIR with train.*/test.* files")
    suffix = path.suffix.lower()
    if suffix not in EXTENSIONS:
        raise DataError(
            f"unknown file extension '{suffix or path.name}' for {path}",
            f"use one of {', '.join(EXTENSIONS)} or a Hugging Face dataset id",
        )
    if suffix == ".parquet":
        return _read_parquet(path)
    text = decode_file(path, encoding)
    if suffix == ".jsonl":
        return _read_json_lines(text, path)
    if suffix == ".json":
        stripped = text.lstrip()
        if stripped.startswith("["):
            return _read_json_document(text, path)
        if stripped.startswith("{") and _is_single_document(stripped):
            return _read_json_document(text, path)
        return _read_json_lines(text, path)
    return _read_delimited(text, path, "\t" if suffix == ".tsv" else ",", header, names)


def decode_file(path: Path, encoding: str) -> str:
    """The text of `path` in `encoding` (a UTF-8 BOM dropped); one-line errors for unreadable,
    binary or wrongly-encoded files."""
    try:
        data = path.read_bytes()
    except OSError as err:
        raise DataError(f"cannot read {path}: {err.strerror or err}") from err
    if b"\x00" in data[:8192]:
        raise DataError(f"{path} looks binary, not text", "pass a .txt, .jsonl or .csv file")
    enc = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
    try:
        return data.decode(enc)
    except UnicodeDecodeError as err:
        raise DataError(
            f"{path} is not valid {encoding}: undecodable byte 0x{data[err.start]:02x} "
            f"at byte offset {err.start}",
            "pass the file's encoding with --encoding (e.g. --encoding latin-1)",
        ) from err
    except LookupError as err:
        raise DataError(f"unknown encoding '{encoding}'", "use e.g. utf-8 or latin-1") from err


def _is_single_document(text: str) -> bool:
    """True when a '{'-leading .json file is one object rather than JSON lines."""
    first_line = text.split("\n", 1)[0].strip()
    try:
        json.loads(first_line)
    except json.JSONDecodeError:
        return True
    return text.count("\n") == 0 or not text.split("\n", 1)[1].strip()


def _read_json_lines(text: str, path: Path) -> list[Row]:
    rows: list[Row] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise DataError(
                f"{path}:{lineno}: malformed JSON line ({err.msg} at column {err.colno})",
                "fix or remove that line; each line must be one JSON object",
            ) from err
        if not isinstance(row, dict):
            raise DataError(
                f"{path}:{lineno}: expected a JSON object, got {type(row).__name__}",
                'write one object per line, e.g. {"text": ..., "summary": ...}',
            )
        rows.append(row)
    return rows


def _read_json_document(text: str, path: Path) -> list[Row]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as err:
        raise DataError(
            f"{path}:{err.lineno}: malformed JSON ({err.msg} at column {err.colno})",
            "fix the file, or write one JSON object per line as .jsonl",
        ) from err
    if isinstance(doc, dict):
        lists = [v for v in doc.values() if isinstance(v, list)]
        if "data" in doc and isinstance(doc["data"], list):
            doc = doc["data"]
        elif len(lists) == 1:
            doc = lists[0]
        else:
            raise DataError(
                f"{path}: a JSON object must hold exactly one list of rows (e.g. under 'data')",
                "write a JSON array of objects or JSON lines instead",
            )
    bad = next((i for i, r in enumerate(doc) if not isinstance(r, dict)), None)
    if bad is not None:
        raise DataError(f"{path}: item {bad} of the JSON array is not an object", "fix that item")
    return list(doc)


def _parse_delimited(text: str, path: Path, delimiter: str) -> list[list[str]]:
    """Rows of a csv/tsv text. A quote that is never closed is an error (the lenient parser
    would silently make the rest of the file one field); other stray quotes, common in real
    tsv files (CSL), are read leniently as before."""
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True))
    except csv.Error as err:
        if "end of data" in str(err):
            raise DataError(
                f'{path}: a quote (") opened in a field is never closed, so the rest of the '
                "file would be one field",
                'close the quote, or write a literal quote inside a quoted field as ""',
            ) from err
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return list(reader)
    except csv.Error as err:
        raise DataError(
            f"{path}:{reader.line_num}: malformed {delimiter!r} row ({err})",
            'quote fields that contain the delimiter; write a quote inside one as ""',
        ) from err


def _read_delimited(
    text: str, path: Path, delimiter: str, header: bool, names: list[str] | None
) -> list[Row]:
    records = _parse_delimited(text, path, delimiter)
    records = [r for r in records if any(cell.strip() for cell in r)]
    if not records:
        return []
    if header and names is None:
        columns, records = records[0], records[1:]
    else:
        width = max(len(r) for r in records)
        columns = list(names) if names else [f"col{i}" for i in range(width)]
    rows = []
    for lineno, record in enumerate(records, start=2 if header else 1):
        if len(record) > len(columns):
            raise DataError(
                f"{path}:{lineno}: row has {len(record)} fields but the header has {len(columns)}",
                "quote fields that contain the delimiter, or fix the header",
            )
        rows.append(dict(zip(columns, record + [""] * (len(columns) - len(record)), strict=True)))
    return rows


def _read_parquet(path: Path) -> list[Row]:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as err:  # pyarrow raises several unrelated types for broken files
        raise DataError(
            f"{path}: cannot read parquet ({err})", "check the file is complete"
        ) from err
    return table.to_pylist()


# ---- corpus.py
@dataclass
class Split:
    """One split. `references[i]` holds every reference summary of example `i` (maybe several)."""

    name: str
    texts: list[str]
    references: list[list[str]]
    extra: dict[str, list[Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = len(self.texts)
        if len(self.references) != n or any(len(v) != n for v in self.extra.values()):
            raise ValueError(f"split {self.name}: columns have different lengths")

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def summaries(self) -> list[str]:
        """The first reference of each example ('' when there is none), as training uses."""
        return [refs[0] if refs else "" for refs in self.references]

    def select(self, indices: Sequence[int]) -> Split:
        return Split(
            self.name,
            [self.texts[i] for i in indices],
            [self.references[i] for i in indices],
            {k: [v[i] for i in indices] for k, v in self.extra.items()},
        )

    def rows(self) -> Iterator[dict[str, Any]]:
        for i in range(len(self)):
            row: dict[str, Any] = {"text": self.texts[i], "references": self.references[i]}
            row.update({k: v[i] for k, v in self.extra.items()})
            yield row


@dataclass
class Corpus:
    """Named splits plus where they came from and what preparation removed."""

    splits: dict[str, Split]
    source: str = ""
    report: dict[str, dict[str, int]] = field(default_factory=dict)
    single_file: bool = False

    def __getitem__(self, name: str) -> Split:
        return self.split(name)

    def split(self, name: str) -> Split:
        """Return split `name` (aliases like `dev` work), with a helpful error when absent."""
        canon = canonical_split(name) or name
        if canon in self.splits:
            return self.splits[canon]
        if name in self.splits:
            return self.splits[name]
        if self.single_file and len(self.splits) == 1:
            # One file without a split layout: whatever the caller asks for is that file, and
            # it is scored and labelled as the split asked for (`--split test`), not as "train".
            return replace(next(iter(self.splits.values())), name=canon)
        raise DataError(
            f"split '{name}' not found in {self.source or 'the data'}"
            f"{did_you_mean(name, self.splits)}",
            f"available splits: {', '.join(self.splits) or '(none)'}",
        )

    def names(self) -> list[str]:
        return list(self.splits)


# ---- loading.py
log = logging.getLogger(__name__)

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?(:[\w.-]+)?$")
_SCALAR = (str, int, float, bool, type(None))


def reference_load_corpus(cfg: DataConfig) -> Corpus:
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
    raise AssertionError("the reference reads local files only")


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


# ---- prepare.py
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
    return Corpus(splits, source=corpus.source, report=report, single_file=corpus.single_file)


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


# ---- training/batches.py
@dataclass
class Example:
    input_ids: list[int]
    labels: list[int]


def reference_tokenize_pairs(
    tokenizer: Any,
    texts: Sequence[str],
    summaries: Sequence[str],
    *,
    prefix: str = "",
    max_source_length: int = 512,
    max_target_length: int = 128,
    decoder_start_token_id: int | None = None,
    batch_size: int = 1000,
) -> list[Example]:
    """Tokenize (source, summary) pairs; sources get `prefix`, both sides are truncated.

    Labels never start with the decoder start token: the model prepends it itself when it
    shifts labels right (BERT tokenizers add [CLS], which is BERT2BERT's start token).
    """
    out: list[Example] = []
    for start in range(0, len(texts), batch_size):
        src = [prefix + t for t in texts[start : start + batch_size]]
        tgt = list(summaries[start : start + batch_size])
        enc = tokenizer(src, text_target=tgt, max_length=max_source_length, truncation=True)
        labels = enc["labels"]
        if max_target_length != max_source_length:
            labels = tokenizer(text_target=tgt, max_length=max_target_length, truncation=True)[
                "input_ids"
            ]
        for ids, lab in zip(enc["input_ids"], labels, strict=True):
            if decoder_start_token_id is not None and lab and lab[0] == decoder_start_token_id:
                lab = lab[1:]
            out.append(Example(list(ids), list(lab)))
    return out
