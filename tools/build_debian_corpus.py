"""Build `src/summarist/data/corpora/debian_descriptions.jsonl.xz`, the demo's corpus.

Debian package descriptions: every package in Debian 12 "bookworm" main has a one-line synopsis
and a long description written for people choosing software ("ripgrep: Recursively searches
directories for a regex pattern" over a paragraph on what ripgrep does). Summarizing the long
description into the synopsis is a real, short-output summarization task with tens of thousands of
examples, and Debian main holds only DFSG-free software, so the texts may be redistributed (each
description belongs to its package's `debian/control` and is under that package's licence).

Run by maintainers, not at run time (it downloads; the demo and tests never do):

    python tools/build_debian_corpus.py            # fetches Translation-en.xz from deb.debian.org
    python tools/build_debian_corpus.py --source Translation-en.xz

Filters, each for a reason a user would give:
- one stanza per package and one package per description: `-dev`, `-doc` and library packages of one source repeat the
  same first paragraph (kept: the shortest name), so near-duplicates cannot leak across splits;
- no transitional, dummy, meta or debug-symbol packages (their text says nothing of the synopsis);
- long description of 25-200 words and a synopsis of at least 3 words;
- at least 75% of the synopsis' content words occur in the long description: a synopsis that
  relies on what the text never says cannot be learnt from the text (this keeps 15k of 30k).
Splits are fixed by a hash of the package name (test 200, validation 200, train 6,000).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import lzma
import re
import urllib.request
from collections import defaultdict
from pathlib import Path

URL = "http://deb.debian.org/debian/dists/bookworm/main/i18n/Translation-en.xz"
OUT = Path(__file__).parents[1] / "src/summarist/data/corpora/debian_descriptions.jsonl.xz"
SPLITS = (("test", 200), ("validation", 200), ("train", 6000))
SKIP = re.compile(r"transitional|dummy|metapackage|meta-package|debug symbols", re.I)
STOP = {
    "a", "an", "the", "of", "for", "and", "or", "to", "in", "on", "with", "from", "by", "is", "are",
    "this", "that", "it", "as", "at", "be", "module", "library", "package", "tool", "files", "file",
}  # fmt: skip


def parse(text: str) -> list[dict[str, object]]:
    """Translation-en stanzas -> {package, synopsis, paragraphs}."""
    records = []
    for stanza in text.split("\n\n"):
        package, synopsis, body = None, None, []
        lines = stanza.split("\n")
        for i, line in enumerate(lines):
            if line.startswith("Package: "):
                package = line[len("Package: ") :].strip()
            elif line.startswith("Description-en: "):
                synopsis = line[len("Description-en: ") :].strip()
                body = lines[i + 1 :]
                break
        if not package or not synopsis:
            continue
        paragraphs, current = [], []
        for line in body:
            if not line.startswith(" "):
                break
            if line.strip() == ".":  # Debian's paragraph break
                if current:
                    paragraphs.append(" ".join(current))
                current = []
            else:
                current.append(line.strip())
        if current:
            paragraphs.append(" ".join(current))
        records.append({"package": package, "synopsis": synopsis, "paragraphs": paragraphs})
    return records


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def coverage(summary: str, text: str) -> float:
    content = {w for w in words(summary) if w not in STOP}
    if not content:
        return 0.0
    present = set(words(text))
    return sum(w in present for w in content) / len(content)


def select(records: list[dict[str, object]]) -> list[dict[str, str]]:
    groups: dict[str, list[dict[str, object]]] = defaultdict(list)
    seen: set[str] = set()
    for r in records:  # a package may have several stanzas (versions): keep its first
        paragraphs = r["paragraphs"]
        if paragraphs and str(r["package"]) not in seen:
            seen.add(str(r["package"]))
            key = " ".join(words(str(paragraphs[0])))[:200]  # type: ignore[index]
            groups[key].append(r)
    rows, texts = [], set()
    for members in groups.values():
        r = min(members, key=lambda m: (len(str(m["package"])), str(m["package"])))
        text = re.sub(r"\s+", " ", " ".join(r["paragraphs"])).strip()  # type: ignore[arg-type]
        summary = str(r["synopsis"])
        if SKIP.search(summary) or SKIP.search(text[:200]):
            continue
        if not 25 <= len(text.split()) <= 200 or len(summary.split()) < 3:
            continue
        if coverage(summary, text) < 0.75 or text in texts:
            continue
        texts.add(text)
        rows.append({"id": str(r["package"]), "text": text, "summary": summary})
    rows.sort(key=lambda row: hashlib.sha256(row["id"].encode()).hexdigest())
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, help="a local Translation-en.xz")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    if args.source:
        raw = args.source.read_bytes()
    else:
        with urllib.request.urlopen(URL, timeout=120) as response:
            raw = response.read()
    sha = hashlib.sha256(raw).hexdigest()
    rows = select(parse(lzma.decompress(raw).decode("utf-8")))
    out, start = [], 0
    for split, n in SPLITS:
        out += [{**row, "split": split} for row in rows[start : start + n]]
        start += n
    args.out.parent.mkdir(parents=True, exist_ok=True)
    payload = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in out)
    # xz holds no name or time, so rebuilds from the same source are byte-identical; it packs the
    # 6,400 rows in 0.8 MB where gzip needed 1.1.
    args.out.write_bytes(lzma.compress(payload.encode("utf-8"), preset=9 | lzma.PRESET_EXTREME))
    print(f"{len(rows)} usable of {args.source or URL} (sha256 {sha}); wrote {len(out)} rows")
    print(f"-> {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
