"""The data cache: where corpora read into Arrow, their cleaning decisions and token ids live.

Layout under the cache root (`--data-cache-dir`, else `$SUMMARIST_CACHE`, else
`$XDG_CACHE_HOME/summarist` or `~/.cache/summarist`):

    corpora/KEY/    one source read into Arrow (`SPLIT.arrow`) + per-row keys (`SPLIT.*.npy`)
    prepared/KEY/   the rows each split keeps after cleaning, and the cleaning report
    tokens/KEY/     token ids of a prepared split (flat int32 arrays + offsets)
    streams/KEY/    `--streaming`: only the keys and decisions, no copy of the text

A KEY hashes everything its entry depends on: the source files (path, size, modification
time), the data settings, the tokenizer and the code's format version. An entry is built in a
temporary folder beside its final name and renamed into place when complete, under a file lock:
a build cut short (Ctrl-C, `kill -9`) leaves no entry behind, and a second process (another
rank, another run) waits for the first and then maps what it built. `summarist data cache`
lists entries with their sizes; `--clear` removes them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

CACHE_ENV = "SUMMARIST_CACHE"
FORMAT_VERSION = 1
"""Bumped whenever what a cache entry holds (or how it is decided) changes."""
KINDS = ("corpora", "prepared", "tokens", "streams")
META = "meta.json"


def cache_root(cache_dir: str | Path | None = None) -> Path:
    """The cache folder: `cache_dir`, else $SUMMARIST_CACHE, else ~/.cache/summarist."""
    if cache_dir:
        return Path(cache_dir).expanduser()
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or "~/.cache").expanduser() / "summarist"


def cache_key(*parts: Any) -> str:
    """A short stable hash of `parts` (JSON-able), with the format version mixed in."""
    blob = json.dumps([FORMAT_VERSION, *parts], sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:24]


def file_fingerprint(path: Path) -> dict[str, Any]:
    """What identifies a file's content cheaply: resolved path, size, modification time."""
    st = Path(path).stat()
    return {"path": str(Path(path).resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _remove_debris(entry: Path) -> None:
    """Temp folders of earlier builds of `entry` that were cut short (we hold its lock)."""
    for old in entry.parent.glob(f".{entry.name}.*.tmp"):
        shutil.rmtree(old, ignore_errors=True)


def build_once(entry: Path, build: Callable[[Path], None]) -> tuple[Path, bool]:
    """`entry`, built by `build(tmp_folder)` unless it exists; (entry, whether it was built now).

    The folder appears complete or not at all. Concurrent callers (ranks, runs) wait on a
    lock file beside it; the first builds, the others find it built.
    """
    if (entry / META).is_file():
        _touch(entry)
        log.debug("data cache: mapped %s/%s", entry.parent.name, entry.name)
        return entry, False
    with _lock(entry.parent / f".{entry.name}.lock"):
        if (entry / META).is_file():  # another process built it while this one waited
            _touch(entry)
            log.debug("data cache: mapped %s/%s (built by another process)",
                      entry.parent.name, entry.name)  # fmt: skip
            return entry, False
        _remove_debris(entry)
        if entry.exists():  # a folder without its meta file was never finished
            shutil.rmtree(entry)
        tmp = Path(tempfile.mkdtemp(prefix=f".{entry.name}.", suffix=".tmp", dir=entry.parent))
        try:
            build(tmp)
            if not (tmp / META).is_file():
                raise RuntimeError(f"cache build of {entry} wrote no {META}")
            for file in tmp.iterdir():
                if file.is_file():
                    with open(file, "rb") as fh:
                        os.fsync(fh.fileno())
            os.rename(tmp, entry)
            log.debug("data cache: built %s/%s", entry.parent.name, entry.name)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return entry, True


def remember(root: Path, key: str, compute: Callable[[], Any]) -> Any:
    """A small JSON-able fact about cached data (e.g. a split's speaker tags), computed once."""
    path = root / "facts" / f"{key}.json"
    if path.is_file():
        return json.loads(path.read_text("utf-8"))
    value = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(value, fh, ensure_ascii=False)
    os.replace(tmp, path)
    return value


def write_meta(folder: Path, meta: dict[str, Any]) -> None:
    (folder / META).write_text(json.dumps(meta, indent=1, ensure_ascii=False), "utf-8")


def read_meta(folder: Path) -> dict[str, Any]:
    return json.loads((folder / META).read_text("utf-8"))


def _touch(entry: Path) -> None:
    """Mark `entry` as used now (`clear_cache(older_than_days=...)` goes by it)."""
    with contextlib.suppress(OSError):
        os.utime(entry / META)


@dataclass
class CacheEntry:
    kind: str
    key: str
    path: Path
    bytes: int
    last_used: float
    describes: str


def list_cache(root: Path) -> list[CacheEntry]:
    """Every complete entry under `root`, largest first."""
    out = []
    for kind in KINDS:
        for entry in sorted((root / kind).glob("*")) if (root / kind).is_dir() else []:
            if entry.name.startswith(".") or not (entry / META).is_file():
                continue
            size = sum(f.stat().st_size for f in entry.rglob("*") if f.is_file())
            meta = read_meta(entry)
            out.append(CacheEntry(kind, entry.name, entry, size, (entry / META).stat().st_mtime,
                                  str(meta.get("describes", ""))))  # fmt: skip
    return sorted(out, key=lambda e: -e.bytes)


def clear_cache(root: Path, older_than_days: float | None = None) -> tuple[int, int]:
    """Remove entries (all, or those unused for `older_than_days`): (entries, bytes) freed.

    Leftovers of interrupted builds go too. Entries another process is mapping stay readable
    for it (the files are unlinked, not overwritten).
    """
    cutoff = time.time() - older_than_days * 86400 if older_than_days is not None else None
    removed = freed = 0
    for entry in list_cache(root):
        if cutoff is None or entry.last_used < cutoff:
            shutil.rmtree(entry.path, ignore_errors=True)
            removed, freed = removed + 1, freed + entry.bytes
    if cutoff is None:
        shutil.rmtree(root / "facts", ignore_errors=True)  # `remember`'s small facts
        for kind in KINDS:
            for debris in (root / kind).glob(".*") if (root / kind).is_dir() else []:
                if debris.is_dir():
                    shutil.rmtree(debris, ignore_errors=True)
                else:
                    debris.unlink(missing_ok=True)
    return removed, freed


class TemporaryCache:
    """`--no-data-cache`: a private cache folder removed when the process exits."""

    _root: Path | None = None

    @classmethod
    def root(cls) -> Path:
        if cls._root is None:
            import atexit

            cls._root = Path(tempfile.mkdtemp(prefix="summarist-cache-"))
            atexit.register(shutil.rmtree, cls._root, True)
        return cls._root


def cache_report(cfg: Any) -> dict[str, Any]:
    """`summarist data cache` (a `config.cache.CacheConfig`): the cache's folder and entries,
    after removing them when `cfg.clear` says so."""
    root = cache_root(cfg.cache_dir)
    out: dict[str, Any] = {"cache_dir": str(root)}
    if cfg.clear:
        removed, freed = clear_cache(root, cfg.older_than_days)
        out["removed"] = {"entries": removed, "bytes": freed}
    entries = list_cache(root)
    out["entries"] = [
        {"kind": e.kind, "key": e.key, "bytes": e.bytes, "describes": e.describes,
         "last_used": time.strftime("%Y-%m-%d %H:%M", time.localtime(e.last_used))}
        for e in entries
    ]  # fmt: skip
    out["total_bytes"] = sum(e.bytes for e in entries)
    return out


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} TB"  # pragma: no cover


def render_cache(report: dict[str, Any]) -> Any:
    """A rich Table of `cache_report`'s entries."""
    from rich.table import Table

    title = f"summarist data cache: {report['cache_dir']} ({_size(report['total_bytes'])})"
    if "removed" in report:
        r = report["removed"]
        title += f"; removed {r['entries']} entries, {_size(r['bytes'])}"
    table = Table(title=title, title_justify="left")
    for name, justify in (("kind", "left"), ("key", "left"), ("size", "right"),
                          ("last used", "left"), ("describes", "left")):  # fmt: skip
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for e in report["entries"]:
        table.add_row(e["kind"], e["key"], _size(e["bytes"]), e["last_used"], e["describes"])
    return table
