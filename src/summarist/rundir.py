"""The run-directory contract shared by train / evaluate / baseline / report / serve.

A run directory holds:
    config.yaml        the resolved configuration: {"kind": "train"|"baseline"|"evaluate",
                       "summarist_version": ..., "data": {DataConfig fields}, ...kind-specific}
    metrics.json       {"kind", "name", "data", "splits": {split: SplitMetrics}}
    predictions.jsonl  one object per scored example: {"split", "index", "id"?, "source",
                       "prediction", "references": [...], "scores": {"rouge1": F1*100, "rouge2",
                       "rougeL", "rougeLsum"}, "new_tokens"?, "hit_cap"?}
    train_log.jsonl    training runs only, one line per log/eval step: {"step", "epoch", "loss",
                       "learning_rate", "tokens_per_second", "elapsed_s"} or
                       {"step", "epoch", "eval": {"rouge1", "rouge2", "rougeL", "rougeLsum",
                       "hit_cap_share", "n"}}
    model/             training runs only: weights (safetensors) + tokenizer +
                       generation_config.json, loadable by plain transformers
    adapter/           --lora training runs only: the peft adapter (adapter_config.json,
                       adapter_model.safetensors), tokenizer, generation config and
                       summarist_adapter.json (base model, added tokens); model/ then holds
                       the merged weights
    README.md          training runs only: the model card
    report.html        written by `summarist report` (and at the end of train/evaluate)

SplitMetrics (ROUGE on a 0-100 scale, each with a seeded bootstrap 95% CI):
    {"n": 500,
     "rouge": {"rouge1": {"fmeasure": {"low", "mid", "high"}, "precision": {...},
                          "recall": {...}}, "rouge2": ..., "rougeL": ..., "rougeLsum": ...},
     "rouge_settings": {"multi_ref": "max"|"avg"|"pooled", "stemmer": true,
                        "tokenizer": "rouge-score"|"unicode", "sentence_splitter": "punkt",
                        "bootstrap": 1000, "confidence": 0.95, "seed": 0},
     "diagnostics": {...},             # prediction lengths, novel n-grams, repetition, ...
     "baselines": {"lead-3": {"rouge1": {...}, ...}}   # optional, same split, same settings
    }
Every file is written to a temporary name beside it (`.NAME.*.tmp`), fsynced and renamed over
it, and model/ is filled as a temp folder and swapped in whole, so an interrupted write leaves
the previous complete file. Only `kill -9` (or power loss) mid-write leaves the temp file:
readers never open it, and the next `summarist train` into the directory deletes it.
train_log.jsonl alone is appended to; its readers skip a torn last line.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import yaml

CONFIG = "config.yaml"
METRICS = "metrics.json"
PREDICTIONS = "predictions.jsonl"
TRAIN_LOG = "train_log.jsonl"
MODEL_DIR = "model"
ADAPTER_DIR = "adapter"
CARD = "README.md"


@contextmanager
def atomic_writer(path: Path, mode: str = "w") -> Iterator[IO[Any]]:
    """Open a temp file beside `path`; on success fsync and rename it over `path`.

    An exception (or Ctrl-C) removes the temp file and leaves any previous `path` intact.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        encoding = None if "b" in mode else "utf-8"
        with os.fdopen(fd, mode, encoding=encoding) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


@contextmanager
def atomic_dir(path: Path) -> Iterator[Path]:
    """Yield an empty temp folder beside `path`; on success it replaces `path` in one rename.

    For writers that fill a folder with several files (`save_pretrained`): an exception, Ctrl-C
    or `kill -9` while they write leaves the previous complete `path` in place. Where the
    kernel can swap two names at once (Linux renameat2) no moment lacks `path`; elsewhere the
    old folder is renamed aside first, for the instant between two renames.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        yield tmp
        for file in tmp.rglob("*"):
            if file.is_file():
                with open(file, "rb") as fh:
                    os.fsync(fh.fileno())
        if not path.exists():
            os.rename(tmp, path)
        elif not _exchange(tmp, path):
            aside = Path(
                tempfile.mkdtemp(prefix=f".{path.name}.old.", suffix=".tmp", dir=path.parent)
            )
            os.rename(path, aside / path.name)
            os.rename(tmp, path)
            tmp = aside
        _fsync_dir(path.parent)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # the failed attempt, or the old folder


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    return renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0


def _fsync_dir(path: Path) -> None:
    """Make a rename in `path` durable (a no-op where folders cannot be opened, e.g. Windows)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def remove_temp_files(run_dir: Path) -> list[Path]:
    """Delete the temp files and folders (`.NAME.*.tmp`) a write cut by `kill -9` left behind.

    Readers never open them (they read fixed names); call this only from the run's one writer.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        return []
    debris = sorted(run_dir.glob(".*.tmp"))
    for path in debris:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return debris


def write_text_atomic(path: Path, text: str) -> Path:
    """Write `text` to `path` via a temp file in the same directory and an atomic rename."""
    with atomic_writer(path) as fh:
        fh.write(text)
    return Path(path)


def write_json(path: Path, obj: Any) -> Path:
    return write_text_atomic(path, json.dumps(obj, indent=2, ensure_ascii=False) + "\n")


def write_yaml(path: Path, obj: Any) -> Path:
    return write_text_atomic(path, yaml.safe_dump(obj, sort_keys=False, allow_unicode=True))


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> Path:
    """JSON lines, written as `rows` yields them (atomically: all of them or none)."""
    with atomic_writer(path) as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    return Path(path)


def append_jsonl(path: Path, row: dict[str, Any]) -> None:
    """Append one line (used for logs, where a torn last line is tolerated by readers)."""
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def read_json(path: Path) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def read_yaml(path: Path) -> Any:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Read JSON lines, skipping a torn final line (a log cut by kill -9)."""
    rows = []
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            if i == len(lines) - 1:
                break
            raise
    return rows


RUN_FILES = (CONFIG, METRICS, PREDICTIONS)
"""Any one of these marks a folder as a run directory that a new run may overwrite."""


def _file_in_the_way(path: Path) -> Path | None:
    """The existing file among `path`'s parents (a folder cannot be made below it), if any."""
    for parent in Path(path).absolute().parents:
        if parent.exists():
            return parent if not parent.is_dir() else None
    return None


def check_output_dir(
    path: Path, flag: str, owns: tuple[str, ...] = RUN_FILES, *, of_runs: bool = False
) -> Path:
    """Refuse, before any work, an output folder that is a file or holds someone else's files.

    A folder is ours to overwrite when it is empty or holds one of the `owns` names (a run
    directory for run writers, `model.bin` for a CTranslate2 export), or with `of_runs` when
    everything in it is a run directory (`compare --data` writes one per model).
    """
    from summarist.errors import ConfigError

    path = Path(path)
    blocker = path if path.exists() and not path.is_dir() else _file_in_the_way(path)
    if blocker is not None:
        raise ConfigError(
            f"{flag} {path}: {blocker} is a file, not a directory",
            f"pass a new or empty directory to {flag}",
        )
    if path.is_dir():
        names = sorted(p.name for p in path.iterdir())
        ours = any((path / name).exists() for name in owns) or (
            of_runs and all(any((path / n / f).exists() for f in RUN_FILES) for n in names)
        )
        if names and not ours:
            listing = ", ".join(names[:4]) + (", ..." if len(names) > 4 else "")
            raise ConfigError(
                f"{flag} {path} holds other files ({listing})",
                f"pass a new or empty directory to {flag}, or remove what is there",
            )
    return path


def check_output_file(path: Path, flag: str, suffixes: tuple[str, ...] = ()) -> Path:
    """Refuse, before any work, an output file path that is a folder, lies below a file, or has
    the wrong suffix."""
    from summarist.errors import ConfigError

    path = Path(path)
    if path.is_dir():
        raise ConfigError(
            f"{flag} {path} is a directory", f"pass a file name, e.g. {flag} {path / 'out'}"
        )
    blocker = _file_in_the_way(path)
    if blocker is not None:
        raise ConfigError(
            f"{flag} {path}: {blocker} is a file, not a directory", f"pick another {flag} path"
        )
    if suffixes and path.suffix.lower() not in suffixes:
        raise ConfigError(
            f"{flag} {path} must end in {' or '.join(suffixes)}",
            f"e.g. {flag} {path.with_suffix(suffixes[0])}",
        )
    return path
