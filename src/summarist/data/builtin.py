"""Small corpora the project may redistribute, for the demo and for offline tries.

`aclsum` (MIT, PyPI package `aclsum`): 247 ACL papers, each with challenge / approach / outcome
summaries written by experts. We export abstract → aspect summary as split jsonl files.
"""

from __future__ import annotations

import json
from pathlib import Path

from summarist.errors import DataError
from summarist.rundir import write_jsonl

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
