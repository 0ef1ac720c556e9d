"""The corpora summarist ships: the Debian descriptions the demo trains on, and their builder."""

from __future__ import annotations

import importlib.util
import json
import lzma
from pathlib import Path

from summarist.data.builtin import export_debian_descriptions

ROOT = Path(__file__).parents[2]


def read(path: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_debian_export_has_three_disjoint_splits(tmp_path: Path) -> None:
    out = export_debian_descriptions(tmp_path / "debian")
    splits = {name: read(out / f"{name}.jsonl") for name in ("train", "validation", "test")}
    assert {k: len(v) for k, v in splits.items()} == {"train": 6000, "validation": 200, "test": 200}
    ids = [row["id"] for rows in splits.values() for row in rows]
    texts = [row["text"] for rows in splits.values() for row in rows]
    assert len(set(ids)) == len(ids) and len(set(texts)) == len(texts)  # no leak across splits
    for rows in splits.values():
        for row in rows:
            assert set(row) == {"id", "text", "summary"}
            assert 25 <= len(row["text"].split()) <= 200 and len(row["summary"].split()) >= 3
    # A real summarization task: the synopsis is far shorter than the text and not its opening.
    test = splits["test"]
    assert sum(not r["text"].startswith(r["summary"]) for r in test) > 0.9 * len(test)
    assert len({r["summary"] for r in test}) > 0.95 * len(test)


def load_builder():  # tools/ is not a package: load the maintainer script by path
    spec = importlib.util.spec_from_file_location("build", ROOT / "tools/build_debian_corpus.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


STANZAS = """Package: quickgrep
Description-md5: 0
Description-en: fast recursive search for text patterns
 quickgrep is a fast search tool that recursively searches directories for text
 patterns, skipping hidden files and binary files by default and printing every
 match with its line number and the name of the file it was found in.
 .
 This package contains the command-line program.

Package: quickgrep-doc
Description-md5: 1
Description-en: fast recursive search for text patterns - documentation
 quickgrep is a fast search tool that recursively searches directories for text
 patterns, skipping hidden files and binary files by default and printing every
 match with its line number and the name of the file it was found in.
 .
 This package contains the manual.

Package: oldthing
Description-md5: 2
Description-en: transitional package for newthing
 This is a transitional package that pulls in newthing; it can safely be removed
 once nothing depends on it any more, and it contains no files of its own at all.

Package: vaguething
Description-md5: 3
Description-en: swiss army knife of cloud orchestration
 This program reads a configuration file and runs the commands it lists, one after
 the other, stopping at the first command that fails and printing what it was doing
 so that the operator can see at a glance where the run went wrong.
"""


def test_builder_filters_duplicates_transitional_and_unlearnable_synopses(tmp_path: Path) -> None:
    build = load_builder()
    rows = build.select(build.parse(STANZAS))
    # -doc repeats quickgrep's first paragraph (one kept, the shorter name); transitional
    # dropped; "swiss army knife of cloud orchestration" shares no word with its text.
    assert [r["id"] for r in rows] == ["quickgrep"]
    assert rows[0]["summary"] == "fast recursive search for text patterns"
    assert rows[0]["text"].endswith("This package contains the command-line program.")
    assert build.coverage("swiss army knife", "a knife") == 1 / 3


def test_builder_output_is_byte_identical_on_rebuild(tmp_path: Path, monkeypatch) -> None:
    build = load_builder()
    source = tmp_path / "Translation-en.xz"
    source.write_bytes(lzma.compress(STANZAS.encode()))
    outs = []
    for name in ("a.jsonl.xz", "b.jsonl.xz"):
        out = tmp_path / name
        monkeypatch.setattr("sys.argv", ["build", "--source", str(source), "--out", str(out)])
        build.main()
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
