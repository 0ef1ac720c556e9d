"""Small corpora the project may redistribute, for the demo and for offline tries.

- `debian` (shipped inside summarist, `data/corpora/`): 6,400 Debian 12 package descriptions,
  long description → one-line synopsis, from Debian main (DFSG-free; each description is under
  its package's licence). Built by `tools/build_debian_corpus.py`, which documents the filters.
  The demo's corpus: short outputs, thousands of examples, learnable on a CPU in minutes.
- `aclsum` (MIT, PyPI package `aclsum`): 247 ACL papers, each with challenge / approach / outcome
  summaries written by experts. We export abstract → aspect summary as split jsonl files.
"""

from __future__ import annotations

import json
import lzma
from importlib import resources
from pathlib import Path

from summarist.errors import DataError
from summarist.rundir import write_jsonl

DEBIAN_CORPUS = "debian_descriptions.jsonl.xz"
DEBIAN_SPLITS = ("train", "validation", "test")
ACLSUM_SPLITS = {"train": "train", "val": "validation", "test": "test"}
ASPECTS = ("challenge", "approach", "outcome")


def export_aclsum(out_dir: Path, aspect: str = "outcome", section: str = "abstract") -> Path:
    """Write `out_dir/{train,validation,test}.jsonl` with `text` (paper section) and `summary`."""
    if aspect not in ASPECTS:
        raise DataError(f"unknown ACLSum aspect '{aspect}'", f"use one of {', '.join(ASPECTS)}")
    try:
        import aclsum
    except ImportError:
        raise DataError(
            "the demo corpus needs the 'aclsum' package", "pip install aclsum"
        ) from None
    src = Path(aclsum.__file__).parent / "dataset"
    out_dir = Path(out_dir)
    for file_split, split in ACLSUM_SPLITS.items():
        rows = []
        for line in (src / f"{file_split}.jsonl").read_text(encoding="utf-8").splitlines():
            paper = json.loads(line)
            text = " ".join(paper["sentences"][section])
            rows.append({"id": paper["id"], "text": text, "summary": paper["summary"][aspect]})
        write_jsonl(out_dir / f"{split}.jsonl", rows)
    return out_dir


def export_debian_descriptions(out_dir: Path) -> Path:
    """Write `out_dir/{train,validation,test}.jsonl` (`id`, `text`, `summary`) from the shipped file.

    >>> export_debian_descriptions(Path("data/debian"))  # doctest: +SKIP
    PosixPath('data/debian')
    """
    packed = resources.files("summarist.data") / "corpora" / DEBIAN_CORPUS
    try:
        lines = lzma.decompress(packed.read_bytes()).decode("utf-8").splitlines()
    except (FileNotFoundError, OSError, lzma.LZMAError) as e:
        raise DataError(
            f"the shipped Debian corpus is missing or damaged ({e})",
            "reinstall summarist (pip install --force-reinstall summarist)",
        ) from None
    splits: dict[str, list[dict[str, str]]] = {split: [] for split in DEBIAN_SPLITS}
    for line in lines:
        row = json.loads(line)
        splits[row.pop("split")].append(row)
    out_dir = Path(out_dir)
    for split, rows in splits.items():
        write_jsonl(out_dir / f"{split}.jsonl", rows)
    return out_dir
