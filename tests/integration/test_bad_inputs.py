"""Every command, driven through the CLI with the inputs a careless user produces.

Each case is one row of a table: the command line (with `{placeholders}` for the shared
workspace), the files to create first, and a fragment the error must contain. For every row:
exit code 2, exactly one line on stderr (`error: what is wrong; how to fix it`), no traceback,
and nothing written or changed, neither in the shared workspace nor in the case's own folder.

The CLI runs in-process (`summarist.cli.main(argv)`, the console script's own entry point), so
the whole table costs one torch import. `serve` joins the table once it exists: add its rows
to `SERVE_CASES`.
"""

from __future__ import annotations

import io
import json
import os
import random
import shutil
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

import pytest

from tests.conftest import write_jsonl

ROWS = [
    {
        "id": f"d{i}",
        "dialogue": f"Anna: Did you get the keys {i}?\nBen: Yes, I got them today. See you at {i}.",
        "summary": f"Ben got the keys {i}. They meet at {i}.",
    }
    for i in range(30)
]


def _bytes(n: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(n)


def _jsonl(rows: list[dict]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()


# Files a case can ask for, by name: written into the case's own folder before it runs.
FILES: dict[str, bytes] = {
    "empty.jsonl": b"",
    "empty.txt": b"",
    "blank.txt": b"   \n\t\n  ",
    "random.jsonl": _bytes(4096),
    "random.parquet": _bytes(4096, 1),
    "random.txt": _bytes(4096, 2),
    "random.csv": _bytes(4096, 3),
    "random.yaml": _bytes(512, 4),
    "latin1.jsonl": '{"dialogue": "caf\u00e9 ol\u00e9", "summary": "s"}\n'.encode("latin-1"),
    "latin1.txt": "Ren\u00e9e est all\u00e9e au caf\u00e9.".encode("latin-1"),
    "csv_in.jsonl": b"dialogue,summary\nhello there,hi\n",
    "dict_text.jsonl": _jsonl([{"dialogue": {"a": 1}, "summary": "s"}] * 3),
    "number_text.jsonl": _jsonl([{"dialogue": 12345, "summary": "s"}] * 3),
    "list_row.jsonl": b'["a", "b"]\n',
    "nosummary.jsonl": _jsonl([{"dialogue": r["dialogue"]} for r in ROWS[:5]]),
    "notext.jsonl": _jsonl([{"summary": r["summary"]} for r in ROWS[:5]]),
    "ambiguous.jsonl": _jsonl([{"alpha": "one text", "beta": "other text"}] * 3),
    "truncated.json": b'[{"dialogue": "a b c", "summary": "a"},',
    "scalar.json": b"42\n",
    "extra_field.csv": b"dialogue,summary\nhello,hi,there\n",
    "unterminated.csv": b'dialogue,summary\n"hello, said Anna,hi\nsecond,row\nthird,row\n',
    "empty_texts.jsonl": _jsonl([{"dialogue": t, "summary": "s"} for t in ["", "  ", "\n"]]),
    "empty_refs.jsonl": _jsonl([{"dialogue": "a text here", "summary": "  "}] * 3),
    "bad.yaml": b"model: [t5-small\nmax_steps: 3\n",
    "unknown_key.yaml": b"modle: t5-small\nmax_steps: 3\n",
    "list.yaml": b"- model\n- t5-small\n",
    "wrong_type.yaml": b"max_steps: many\n",
    "preds_short.txt": b"one prediction\ntwo predictions\n",
    "preds_latin1.txt": "caf\u00e9\n".encode("latin-1") * 10,
    "preds_numbers.jsonl": b"1\n2\n3\n",
    "preds_nofield.jsonl": _jsonl([{"guess": "x"}] * 10),
    "notes.txt": b"not a model\n",
    "table.csv": b"text\nfirst document\n",
    "halfrun/config.yaml": b"kind: train\n",  # a training run that never saved model/
    "adapter/adapter_config.json": b'{"base_model_name_or_path": "t5-small", "r": 8}\n',
}
DIRS = ("emptydir", "otherdir", "filedir")  # otherdir holds a photo; filedir a text file


@dataclass(frozen=True)
class Case:
    id: str
    argv: str
    """Command line, split on spaces after formatting ({tmp}, {corpus}, {model}, ...)."""
    expect: str
    """A fragment of the error line (case-insensitive)."""
    files: tuple[str, ...] = ()
    stdin: str = ""
    chmod: dict[str, int] = field(default_factory=dict)


def C(id: str, argv: str, expect: str, *files: str, stdin: str = "") -> Case:
    return Case(id, argv, expect, files, stdin)


MISSING = "{tmp}/no/such/file.jsonl"

# Reading a corpus: the same readers serve data stats, baseline, evaluate --data, train, compare.
DATA_INPUTS = [
    ("missing", MISSING, "not found"),
    ("empty-file", "{tmp}/empty.jsonl", "empty.jsonl"),
    ("empty-dir", "{tmp}/emptydir", "no split files"),
    ("other-dir", "{tmp}/otherdir", "no split files"),
    ("random-jsonl", "{tmp}/random.jsonl", "binary"),
    ("random-parquet", "{tmp}/random.parquet", "parquet"),
    ("random-csv", "{tmp}/random.csv", "binary"),
    ("latin1", "{tmp}/latin1.jsonl", "--encoding"),
    ("csv-in-jsonl", "{tmp}/csv_in.jsonl", "malformed json"),
    ("dict-text", "{tmp}/dict_text.jsonl", "not text"),
    ("number-text", "{tmp}/number_text.jsonl", "not text"),
    ("list-row", "{tmp}/list_row.jsonl", "expected a json object"),
    ("no-summary", "{tmp}/nosummary.jsonl", "summary"),
    ("no-text", "{tmp}/notext.jsonl", "text"),
    ("ambiguous", "{tmp}/ambiguous.jsonl", "--text-column"),
    ("truncated-json", "{tmp}/truncated.json", "malformed json"),
    ("scalar-json", "{tmp}/scalar.json", "json object"),
    ("extra-field", "{tmp}/extra_field.csv", "3 fields"),
    ("unterminated-quote", "{tmp}/unterminated.csv", "quote"),
    ("empty-texts", "{tmp}/empty_texts.jsonl", "empty"),
    ("a-file-as-model-dir", "{tmp}/notes.txt", "extension"),
]

DATA_STATS = [
    C(f"data-stats-{name}", f"data stats --data {path}", expect, *_files)
    for name, path, expect in DATA_INPUTS
    for _files in [tuple(f for f in FILES if f"/{f}" in path)]
] + [
    C("data-stats-preset-typo", "data stats --data {corpus} --preset dialogsun", "did you mean"),
    C("data-stats-column-typo", "data stats --data {corpus} --text-column dialog", "did you mean"),
    C("data-stats-negative-min", "data stats --data {corpus} --min-summary-words -1", ">= 0"),
    C("data-stats-zero-max", "data stats --data {corpus} --max-source-words 0", ">= 1"),
    C("data-stats-ratios-sum", "data stats --data {corpus} --split-ratios 0.5,0.5,0.5", "sum to 1"),
    C("data-stats-ratios-junk", "data stats --data {corpus} --split-ratios a,b,c", "numbers"),
    C("data-stats-ratios-two", "data stats --data {corpus} --split-ratios 0.5,0.5", "three"),
    C("data-stats-dedupe", "data stats --data {corpus} --dedupe pairs", "did you mean"),
    C("data-stats-encoding", "data stats --data {corpus} --encoding utf-9", "encoding"),
    C(
        "data-stats-languages",
        "data stats --data {corpus} --language en --language de",
        "--language",
    ),
    C("data-stats-plot-dir", "data stats --data {corpus} --plot {tmp}/otherdir", "directory"),
    C("data-stats-plot-suffix", "data stats --data {corpus} --plot {tmp}/plot.txt", ".png"),
    C("data-stats-model-missing", "data stats --data {corpus} --model {tmp}/emptydir", "model"),
    C("data-stats-max-len-zero", "data stats --data {corpus} --max-source-length 0", ">= 1"),
    C(
        "data-stats-drop-leaked-no-train",
        "data stats --data {corpus}/test.jsonl --drop-leaked",
        "train",
    ),
]

EVALUATE = [
    C(
        "evaluate-entity-method",
        "evaluate --predictions {tmp}/preds_short.txt --data {corpus} -o {tmp}/o "
        "--entity-method spacy",
        "--entity-method",
        "preds_short.txt",
    ),
    C(
        "evaluate-entity-types",
        "evaluate --predictions {tmp}/preds_short.txt --data {corpus} -o {tmp}/o "
        "--entity-types person;org",
        "--entity-types",
        "preds_short.txt",
    ),
    C(
        "evaluate-spacy-model",
        "evaluate --predictions {tmp}/preds_short.txt --data {corpus} -o {tmp}/o "
        "--spacy-model xx_no_such_pipeline",
        "not installed",
        "preds_short.txt",
    ),
    C(
        "evaluate-missing-preds",
        f"evaluate --predictions {MISSING} --data {{corpus}} -o {{tmp}}/o",
        "not found",
    ),
    C(
        "evaluate-preds-dir",
        "evaluate --predictions {tmp}/otherdir --data {corpus} -o {tmp}/o",
        "directory",
    ),
    C(
        "evaluate-preds-empty",
        "evaluate --predictions {tmp}/empty.txt --data {corpus} -o {tmp}/o",
        "no predictions",
        "empty.txt",
    ),
    C(
        "evaluate-preds-random",
        "evaluate --predictions {tmp}/random.txt --data {corpus} -o {tmp}/o",
        "binary",
        "random.txt",
    ),
    C(
        "evaluate-preds-random-jsonl",
        "evaluate --predictions {tmp}/random.jsonl --data {corpus} -o {tmp}/o",
        "binary",
        "random.jsonl",
    ),
    C(
        "evaluate-preds-latin1",
        "evaluate --predictions {tmp}/preds_latin1.txt --data {corpus} -o {tmp}/o",
        "utf-8",
        "preds_latin1.txt",
    ),
    C(
        "evaluate-preds-count",
        "evaluate --predictions {tmp}/preds_short.txt --data {corpus} -o {tmp}/o",
        "2 predictions",
        "preds_short.txt",
    ),
    C(
        "evaluate-preds-numbers",
        "evaluate --predictions {tmp}/preds_numbers.jsonl --data {corpus} -o {tmp}/o",
        "not a json object or string",
        "preds_numbers.jsonl",
    ),
    C(
        "evaluate-preds-nofield",
        "evaluate --predictions {tmp}/preds_nofield.jsonl --data {corpus} -o {tmp}/o",
        "no prediction field",
        "preds_nofield.jsonl",
    ),
    C(
        "evaluate-preds-no-output",
        "evaluate --predictions {run}/predictions.jsonl --data {corpus}",
        "--output-dir",
    ),
    C("evaluate-nothing", "evaluate", "--predictions"),
    C("evaluate-run-missing", "evaluate {tmp}/no-run", "not found"),
    C("evaluate-run-empty", "evaluate {tmp}/emptydir", "not a run directory"),
    C("evaluate-run-other", "evaluate {tmp}/otherdir", "not a run directory"),
    C("evaluate-run-is-file", "evaluate {tmp}/notes.txt", "not a run directory", "notes.txt"),
    C("evaluate-two-runs", "evaluate {run} {run}", "--compare"),
    C("evaluate-compare-one", "evaluate --compare {run}", "two run directories"),
    C("evaluate-compare-empty", "evaluate --compare {run} {tmp}/emptydir", "not a run directory"),
    C("evaluate-bootstrap", "evaluate {run} --bootstrap -1", ">= 0"),
    C("evaluate-confidence", "evaluate {run} --confidence 1.5", "between 0 and 1"),
    C("evaluate-multi-ref", "evaluate {run} --multi-ref maxx", "did you mean"),
    C("evaluate-splitter", "evaluate {run} --sentence-splitter pysdb", "did you mean"),
    C("evaluate-lang", "evaluate {run} --lang klingon", "--lang"),
    C("evaluate-workers", "evaluate {run} --workers 0", ">= 1"),
    C(
        "evaluate-baseline-typo",
        "evaluate --predictions {run}/predictions.jsonl --data {corpus} -o {tmp}/o --baseline lead3",
        "did you mean",
    ),
    C(
        "evaluate-split-typo",
        "evaluate --predictions {run}/predictions.jsonl --data {corpus} -o {tmp}/o --split tset",
        "did you mean",
    ),
    C(
        "evaluate-output-is-file",
        "evaluate --predictions {run}/predictions.jsonl --data {corpus} -o {tmp}/notes.txt",
        "not a directory",
        "notes.txt",
    ),
    C(
        "evaluate-output-other-dir",
        "evaluate --predictions {run}/predictions.jsonl --data {corpus} -o {tmp}/otherdir",
        "holds other files",
    ),
    C(
        "evaluate-empty-refs",
        "evaluate --predictions {tmp}/preds_short.txt --data {tmp}/empty_refs.jsonl -o {tmp}/o",
        "empty after filtering",
        "preds_short.txt",
        "empty_refs.jsonl",
    ),
]

BASELINE = [
    C("baseline-typo", "baseline lead3 --data {corpus} -o {tmp}/o", "did you mean 'lead-3'"),
    C("baseline-unknown", "baseline summarizer --data {corpus} -o {tmp}/o", "choose one of"),
    C("baseline-k-zero", "baseline lead-0 --data {corpus} -o {tmp}/o", ">= 1"),
    C("baseline-k-on-longest", "baseline longest-utterance-2 --data {corpus} -o {tmp}/o", "no k"),
    C("baseline-missing-data", f"baseline lead-3 --data {MISSING} -o {{tmp}}/o", "not found"),
    C(
        "baseline-empty-data",
        "baseline lead-3 --data {tmp}/empty.jsonl -o {tmp}/o",
        "empty.jsonl",
        "empty.jsonl",
    ),
    C(
        "baseline-split-typo",
        "baseline lead-3 --data {corpus} --split tset -o {tmp}/o",
        "did you mean",
    ),
    C(
        "baseline-output-is-file",
        "baseline lead-3 --data {corpus} -o {tmp}/notes.txt",
        "not a directory",
        "notes.txt",
    ),
    C(
        "baseline-output-other-dir",
        "baseline lead-3 --data {corpus} -o {tmp}/otherdir",
        "holds other files",
    ),
    C("baseline-bootstrap", "baseline lead-3 --data {corpus} -o {tmp}/o --bootstrap -5", ">= 0"),
    C("baseline-no-data", "baseline lead-3", "--data"),
]

REPORT = [
    C("report-missing", "report {tmp}/no-run", "not found"),
    C("report-empty-dir", "report {tmp}/emptydir", "not a run directory"),
    C("report-other-dir", "report {tmp}/otherdir", "not a run directory"),
    C("report-file", "report {tmp}/notes.txt", "not a run directory", "notes.txt"),
    C("report-out-is-dir", "report {run} --out {tmp}/otherdir", "directory"),
    C(
        "report-out-under-file",
        "report {run} --out {tmp}/notes.txt/report.html",
        "not a directory",
        "notes.txt",
    ),
    C("report-no-args", "report", "missing argument"),
]

TRAIN = [
    C("train-config-missing", "train --config {tmp}/no.yaml", "not found"),
    C("train-config-dir", "train --config {tmp}/otherdir", "directory"),
    C("train-config-malformed", "train --config {tmp}/bad.yaml", "yaml", "bad.yaml"),
    C("train-config-random", "train --config {tmp}/random.yaml", "yaml", "random.yaml"),
    C(
        "train-config-unknown-key",
        "train --config {tmp}/unknown_key.yaml",
        "did you mean 'model'",
        "unknown_key.yaml",
    ),
    C("train-config-list", "train --config {tmp}/list.yaml", "mapping", "list.yaml"),
    C(
        "train-config-wrong-type",
        "train --config {tmp}/wrong_type.yaml --data {corpus}",
        "max_steps",
        "wrong_type.yaml",
    ),
    C("train-no-data", "train --model {model} --output-dir {tmp}/o", "--data"),
    C(
        "train-missing-data",
        f"train --data {MISSING} --model {{model}} --output-dir {{tmp}}/o",
        "not found",
    ),
    C(
        "train-model-typo",
        "train --data {corpus} --model minilm-bartt --output-dir {tmp}/o",
        "did you mean",
    ),
    C(
        "train-model-empty-dir",
        "train --data {corpus} --model {tmp}/emptydir --output-dir {tmp}/o",
        "no model",
    ),
    C(
        "train-model-run-dir",
        "train --data {corpus} --model {run} --output-dir {tmp}/o",
        "no model",
    ),
    C(
        "train-precision-typo",
        "train --data {corpus} --model {model} --precision bf61 --output-dir {tmp}/o",
        "did you mean",
    ),
    C(
        "train-batch-zero",
        "train --data {corpus} --model {model} --batch-size 0 --output-dir {tmp}/o",
        "--batch-size",
    ),
    C(
        "train-lr-negative",
        "train --data {corpus} --model {model} --learning-rate -1 --output-dir {tmp}/o",
        "--learning-rate",
    ),
    C(
        "train-max-steps-negative",
        "train --data {corpus} --model {model} --max-steps -3 --output-dir {tmp}/o",
        "--max-steps",
    ),
    C(
        "train-warmup",
        "train --data {corpus} --model {model} --warmup-ratio 2 --output-dir {tmp}/o",
        "--warmup-ratio",
    ),
    C(
        "train-dropout",
        "train --data {corpus} --model {model} --dropout 1.5 --output-dir {tmp}/o",
        "--dropout",
    ),
    C(
        "train-threads",
        "train --data {corpus} --model {model} --threads 0 --output-dir {tmp}/o",
        "--threads",
    ),
    C(
        "train-source-len",
        "train --data {corpus} --model {model} --max-source-length 0 --output-dir {tmp}/o",
        "--max-source-length",
    ),
    C(
        "train-eval-split-typo",
        "train --data {corpus} --model {model} --eval-split tset --output-dir {tmp}/o",
        "did you mean",
    ),
    C(
        "train-output-is-file",
        "train --data {corpus} --model {model} --output-dir {tmp}/notes.txt",
        "not a directory",
        "notes.txt",
    ),
    C(
        "train-output-other-run",
        "train --data {corpus} --model {model} --output-dir {run}",
        "already holds",
    ),
    C("train-resume-empty", "train --resume {tmp}/emptydir", "resume"),
    C(
        "train-lora-r-zero",
        "train --data {corpus} --model {model} --lora --lora-r 0 --output-dir {tmp}/o",
        "--lora-r",
    ),
    C(
        "train-lora-dropout",
        "train --data {corpus} --model {model} --lora --lora-dropout 1.5 --output-dir {tmp}/o",
        "--lora-dropout",
    ),
    C(
        "train-lora-targets-typo",
        "train --data {corpus} --model {model} --lora --lora-targets wii --output-dir {tmp}/o",
        "did you mean 'wi'",
    ),
    C(
        "train-lora-targets-without-lora",
        "train --data {corpus} --model {model} --lora-targets q --output-dir {tmp}/o",
        "without --lora",
    ),
    C(
        "train-lora-on-adapter",
        "train --data {corpus} --model {tmp}/adapter --lora --output-dir {tmp}/o",
        "lora adapter",
        "adapter/adapter_config.json",
    ),
    C(
        "train-memory-too-small",
        "train --data {corpus} --model {model} --memory-budget-gb 0.01 --output-dir {tmp}/o",
        "gb short",
    ),
    C(
        "train-beams-zero",
        "train --data {corpus} --model {model} --num-beams 0 --output-dir {tmp}/o",
        "num_beams",
    ),
]

MODELS = [
    ("missing", "{tmp}/no-model", "not found"),
    ("empty-dir", "{tmp}/emptydir", "no model"),
    ("other-dir", "{tmp}/otherdir", "no model"),
    ("scored-run", "{run}", "no model"),
    ("file", "{tmp}/notes.txt", "not a model directory"),
    ("typo", "minilm-bartt", "did you mean"),
]

SUMMARIZE = [
    C(
        f"summarize-model-{name}",
        f"summarize --model {m} {{tmp}}/table.csv",
        expect,
        "table.csv",
        "notes.txt",
    )
    for name, m, expect in MODELS
] + [
    C("summarize-input-missing", "summarize --model {model} {tmp}/none.txt", "not found"),
    C("summarize-input-empty", "summarize --model {model} {tmp}/empty.txt", "empty", "empty.txt"),
    C("summarize-input-blank", "summarize --model {model} {tmp}/blank.txt", "empty", "blank.txt"),
    C("summarize-stdin-blank", "summarize --model {model} -", "empty", stdin="  \n "),
    C(
        "summarize-input-random",
        "summarize --model {model} {tmp}/random.txt",
        "binary",
        "random.txt",
    ),
    C(
        "summarize-input-latin1",
        "summarize --model {model} {tmp}/latin1.txt",
        "--encoding",
        "latin1.txt",
    ),
    C("summarize-input-dir-no-txt", "summarize --model {model} {tmp}/otherdir", "no .txt"),
    C(
        "summarize-input-empty-table",
        "summarize --model {model} {tmp}/empty.jsonl",
        "no rows",
        "empty.jsonl",
    ),
    C(
        "summarize-input-dict-column",
        "summarize --model {model} {tmp}/dict_text.jsonl --text-column dialogue",
        "not text",
        "dict_text.jsonl",
    ),
    C(
        "summarize-column-typo",
        "summarize --model {model} {tmp}/table.csv --text-column txt",
        "did you mean",
        "table.csv",
    ),
    C(
        "summarize-backend-typo",
        "summarize --model {model} {tmp}/table.csv --backend ctranslate",
        "did you mean",
        "table.csv",
    ),
    C(
        "summarize-quantize-typo",
        "summarize --model {model} {tmp}/table.csv --quantize int7",
        "did you mean",
        "table.csv",
    ),
    C(
        "summarize-format-typo",
        "summarize --model {model} {tmp}/table.csv --format jsonll",
        "did you mean",
        "table.csv",
    ),
    C(
        "summarize-long-typo",
        "summarize --model {model} {tmp}/table.csv --long chunks",
        "did you mean",
        "table.csv",
    ),
    C(
        "summarize-batch-zero",
        "summarize --model {model} {tmp}/table.csv --batch-size 0",
        ">= 1",
        "table.csv",
    ),
    C(
        "summarize-beams-zero",
        "summarize --model {model} {tmp}/table.csv --num-beams 0",
        "num_beams",
        "table.csv",
    ),
    C(
        "summarize-max-new-zero",
        "summarize --model {model} {tmp}/table.csv --max-new-tokens 0",
        "max_new_tokens",
        "table.csv",
    ),
    C(
        "summarize-min-over-max",
        "summarize --model {model} {tmp}/table.csv --min-new-tokens 30 --max-new-tokens 10",
        "min_new_tokens",
        "table.csv",
    ),
    C(
        "summarize-output-dir",
        "summarize --model {model} {tmp}/table.csv -o {tmp}/otherdir",
        "directory",
        "table.csv",
    ),
    C(
        "summarize-output-under-file",
        "summarize --model {model} {tmp}/table.csv -o {tmp}/notes.txt/out.jsonl",
        "not a directory",
        "table.csv",
        "notes.txt",
    ),
    C(
        "summarize-source-len",
        "summarize --model {model} {tmp}/table.csv --max-source-length 0",
        ">= 1",
        "table.csv",
    ),
    C(
        "summarize-device",
        "summarize --model {model} {tmp}/table.csv --device gpu9",
        "--device",
        "table.csv",
    ),
]

EXPORT = [
    C(f"export-model-{name}", f"export --model {m} -o {{tmp}}/ct2", expect, "notes.txt")
    for name, m, expect in MODELS
] + [
    C(
        "export-format-typo",
        "export --model {model} -o {tmp}/ct2 --format ctranslate",
        "did you mean",
    ),
    C(
        "export-quantize-typo",
        "export --model {model} -o {tmp}/ct2 --quantize int7",
        "did you mean",
    ),
    C(
        "export-output-is-file",
        "export --model {model} -o {tmp}/notes.txt",
        "not a directory",
        "notes.txt",
    ),
    C("export-output-other-dir", "export --model {model} -o {tmp}/otherdir", "holds other files"),
    C("export-output-is-model", "export --model {model} -o {model}", "holds other files"),
    C("export-no-output", "export --model {model}", "--output"),
]

COMPARE = [
    C(
        f"compare-model-{name}",
        f"compare --models {{model}},{m} --input {{tmp}}/table.csv",
        expect,
        "table.csv",
        "notes.txt",
    )
    for name, m, expect in MODELS
] + [
    C("compare-nothing-to-compare", "compare --models {model}", "nothing to compare on"),
    C(
        "compare-model-twice",
        "compare --models {model},{model} --input {tmp}/table.csv",
        "twice",
        "table.csv",
    ),
    C(
        "compare-both-inputs",
        "compare --models {model} --input {tmp}/table.csv --data {corpus} --split test",
        "--input and --data",
        "table.csv",
    ),
    C("compare-input-missing", "compare --models {model} --input {tmp}/none.txt", "not found"),
    C(
        "compare-input-blank",
        "compare --models {model} --input {tmp}/blank.txt",
        "empty",
        "blank.txt",
    ),
    C(
        "compare-data-missing",
        f"compare --models {{model}} --data {MISSING} --split test",
        "not found",
    ),
    C(
        "compare-split-typo",
        "compare --models {model} --data {corpus} --split tset -o {tmp}/o",
        "did you mean",
    ),
    C(
        "compare-limit-zero",
        "compare --models {model} --data {corpus} --split test --limit 0",
        ">= 1",
    ),
    C(
        "compare-bootstrap",
        "compare --models {model} --data {corpus} --split test --bootstrap -1",
        ">= 0",
    ),
    C(
        "compare-backend-typo",
        "compare --models {model} --input {tmp}/table.csv --backend torh",
        "did you mean",
        "table.csv",
    ),
    C(
        "compare-output-is-file",
        "compare --models {model} --data {corpus} --split test -o {tmp}/notes.txt",
        "not a directory",
        "notes.txt",
    ),
]

CLICK = [
    C("click-unknown-command", "sumarize", "no such command"),
    C("click-unknown-option", "data stats --data {corpus} --colour", "no such option"),
    C("click-not-a-number", "baseline lead-3 --data {corpus} --bootstrap lots", "valid integer"),
    C("click-missing-value", "evaluate {run} --split", "requires an argument"),
]

# `serve` must fail before it binds a port: models load in the app's lifespan, after uvicorn
# has taken the port, so every path and option is checked first.
SERVE_CASES = [
    C(f"serve-model-{name}", f"serve --model {m}", expect, "notes.txt")
    for name, m, expect in MODELS
    if name != "typo"  # a name that is not a path may be a hub id: only loading can tell
] + [
    C("serve-run-without-model", "serve --model {tmp}/halfrun", "no model/", "halfrun/config.yaml"),
    C("serve-named-missing", "serve --model t5={tmp}/no-model", "not found"),
    C("serve-named-no-path", "serve --model t5=", "names no path"),
    C("serve-bad-name", "serve --model .hidden={model}", "not a usable model name"),
    C("serve-duplicate-name", "serve --model a={model} --model a={run}", "two models"),
    C("serve-same-model-twice", "serve --model {model} --model {model}", "two models"),
    C("serve-backend-typo", "serve --model {model} --backend torh", "did you mean"),
    C("serve-quantize-typo", "serve --model {model} --quantize int7", "did you mean"),
    C("serve-device", "serve --model {model} --device gpu9", "--device"),
    C("serve-port-high", "serve --model {model} --port 70000", "not a tcp port"),
    C("serve-port-negative", "serve --model {model} --port -1", "not a tcp port"),
    C("serve-host-with-port", "serve --model {model} --host 127.0.0.1:8000", "--host"),
    C("serve-host-url", "serve --model {model} --host http://0.0.0.0", "--host"),
    C("serve-host-bad-ip", "serve --model {model} --host 300.1.2.3", "--host"),
    C("serve-max-queue-zero", "serve --model {model} --max-queue 0", ">= 1"),
    C("serve-timeout-zero", "serve --model {model} --timeout-s 0", "--timeout-s"),
    C("serve-drain-negative", "serve --model {model} --drain-s -1", "--drain-s"),
    C("serve-not-a-port", "serve --model {model} --port http", "valid integer"),
]

CASES = DATA_STATS + EVALUATE + BASELINE + REPORT + TRAIN + SUMMARIZE + EXPORT + COMPARE + CLICK
CASES += SERVE_CASES


def test_the_table_is_large_and_its_ids_unique() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))
    assert len(CASES) > 60
    commands = {c.argv.split()[0] if c.argv.split()[0] != "data" else "data" for c in CASES}
    assert {
        "data",
        "evaluate",
        "baseline",
        "report",
        "train",
        "summarize",
        "export",
        "compare",
        "serve",
    } <= commands


def run_cli(argv: list[str], stdin: str = "") -> tuple[int, str, str]:
    """`summarist ARGV` in this process: (exit code, stdout, stderr)."""
    from summarist import cli
    from summarist.cli import root

    out, err = io.StringIO(), io.StringIO()
    with (
        redirect_stdout(out),
        redirect_stderr(err),
        mock.patch.object(sys, "stdin", io.StringIO(stdin)),
        mock.patch.dict(root.STATE, {"debug": False}),
    ):
        try:
            cli.main(argv)
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else int(exit_.code is not None)
    return code, out.getvalue(), err.getvalue()


LOG_LEVELS = ("INFO ", "WARNING ")


def snapshot(*folders: Path) -> dict[str, str]:
    """Every file and folder under `folders` → a digest of its bytes ("dir" for folders)."""
    import hashlib

    out = {}
    for folder in folders:
        for p in sorted(folder.rglob("*")):
            key = str(p)
            if p.is_symlink():
                out[key] = "link:" + os.readlink(p)
            elif p.is_dir():
                out[key] = "dir"
            else:
                out[key] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Shared, read-only inputs: a corpus, a scored run, a tiny model and a training run."""
    from summarist import rundir
    from tests.tiny_models import tiny_model

    root = tmp_path_factory.mktemp("bad-inputs")
    corpus = root / "corpus"
    write_jsonl(corpus / "train.jsonl", ROWS[:20])
    write_jsonl(corpus / "validation.jsonl", ROWS[20:25])
    write_jsonl(corpus / "test.jsonl", ROWS[25:])
    run = root / "run"
    code, _, err = run_cli(
        [
            "baseline",
            "lead-1",
            "--data",
            str(corpus),
            "-o",
            str(run),
            "--no-report",
            "--bootstrap",
            "0",
        ]
    )
    assert code == 0, err
    model = root / "model"
    shutil.copytree(tiny_model("t5"), model)
    train_run = root / "trainrun"
    shutil.copytree(model, train_run / rundir.MODEL_DIR)
    rundir.write_yaml(train_run / rundir.CONFIG, {"kind": "train"})
    return {"corpus": corpus, "run": run, "model": model, "trainrun": train_run, "root": root}


def _prepare(case: Case, tmp: Path) -> None:
    for name in case.files:
        (tmp / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp / name).write_bytes(FILES[name])
    (tmp / "emptydir").mkdir()
    (tmp / "otherdir").mkdir()
    (tmp / "otherdir" / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + _bytes(64))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(
    case: Case, workspace: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _prepare(case, tmp_path)
    monkeypatch.chdir(tmp_path)  # default outputs (runs/NAME, report.html) land here
    argv = case.argv.format(tmp=tmp_path, **{k: str(v) for k, v in workspace.items()}).split()
    before = snapshot(workspace["root"], tmp_path)
    code, out, err = run_cli(argv, case.stdin)
    # Progress logged before the failure may stay (INFO/WARNING lines); the error is one line.
    lines = [line for line in err.strip().splitlines() if not line.startswith(LOG_LEVELS)]
    assert code == 2, f"exit {code}\nstdout: {out}\nstderr: {err}"
    assert "Traceback" not in err + out
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert case.expect.lower() in lines[0].lower(), lines[0]
    assert "; " in lines[0], f"no hint on how to fix it: {lines[0]}"
    assert snapshot(workspace["root"], tmp_path) == before, "something was written or changed"


# Careless but valid: these must work, not fail.
TOLERATED = [
    ("bom", "\ufeffdialogue,summary\nhello there Anna,hi\nsecond text here,row\n", "utf-8"),
    ("crlf", "dialogue,summary\r\nhello there Anna,hi\r\nsecond text here,row\r\n", "utf-8"),
    ("bom-crlf", "\ufeffdialogue,summary\r\nhello there Anna,hi\r\nsecond text,row\r\n", "utf-8"),
    ("latin1-declared", "dialogue,summary\ncaf\u00e9 ol\u00e9 ok,hi\nsecond text,row\n", "latin-1"),
]


@pytest.mark.parametrize(("name", "text", "encoding"), TOLERATED, ids=[t[0] for t in TOLERATED])
def test_careless_but_valid_tables_are_read(
    name: str, text: str, encoding: str, tmp_path: Path
) -> None:
    path = tmp_path / "train.csv"
    path.write_bytes(text.encode(encoding))
    code, out, err = run_cli(
        ["data", "stats", "--data", str(path), "--json", "--encoding", encoding]
    )
    assert code == 0, err
    stats = json.loads(out)
    assert stats["splits"]["train"]["rows"] == 2, stats


def test_a_multi_megabyte_text_is_read_whole(tmp_path: Path) -> None:
    big = " ".join(f"word{i % 977}" for i in range(600_000))  # ~5 MB
    write_jsonl(tmp_path / "train.jsonl", [{"dialogue": big, "summary": "short"}] * 2)
    code, out, err = run_cli(["data", "stats", "--data", str(tmp_path / "train.jsonl"), "--json"])
    assert code == 0, err
    assert json.loads(out)["splits"]["train"]["rows"] >= 1
