"""Evaluation details seen on real data: the split a single file is scored as, --no-stemmer,
sentence ends in Chinese and Japanese, and one function choosing the ROUGE tokenizer."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from summarist import rundir
from tests.conftest import write_jsonl
from tests.integration.test_bad_inputs import run_cli

ROWS = [
    {"dialogue": f"The cats were running {i}. Then they slept.", "summary": f"cats run {i}"}
    for i in range(6)
]


@pytest.mark.parametrize("split", ["test", "validation"])
def test_a_single_file_is_scored_and_labelled_as_the_split_named(
    split: str, tmp_path: Path
) -> None:
    data = write_jsonl(tmp_path / "mine.jsonl", ROWS)  # no split in its name: read as "train"
    preds = tmp_path / "preds.txt"
    preds.write_text("".join(f"cats running {i}\n" for i in range(6)), "utf-8")
    for argv in (
        ["evaluate", "--predictions", str(preds), "--data", str(data), "--split", split],
        ["baseline", "lead-1", "--data", str(data), "--split", split],
    ):
        out = tmp_path / argv[0]
        code, _, err = run_cli([*argv, "-o", str(out), "--no-report", "--bootstrap", "0"])
        assert code == 0, err
        assert list(rundir.read_json(out / rundir.METRICS)["splits"]) == [split]
        assert {r["split"] for r in rundir.read_jsonl(out / rundir.PREDICTIONS)} == {split}


def test_a_single_file_without_split_is_scored_as_test(tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "mine.jsonl", ROWS)
    code, _, err = run_cli(["baseline", "lead-1", "--data", str(data), "-o", str(tmp_path / "b"),
                            "--no-report", "--bootstrap", "0"])  # fmt: skip
    assert code == 0, err
    assert list(rundir.read_json(tmp_path / "b" / rundir.METRICS)["splits"]) == ["test"]


def test_no_stemmer_scores_surface_forms_and_says_so(tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "test.jsonl", ROWS)
    preds = tmp_path / "preds.txt"
    preds.write_text("".join(f"cat running {i}\n" for i in range(6)), "utf-8")
    scores = {}
    for flag in ("--stemmer", "--no-stemmer"):
        out = tmp_path / flag
        code, _, err = run_cli(["evaluate", "--predictions", str(preds), "--data", str(data),
                                "-o", str(out), "--no-report", "--bootstrap", "0", flag])  # fmt: skip
        assert code == 0, err
        test = rundir.read_json(out / rundir.METRICS)["splits"]["test"]
        assert test["rouge_settings"]["stemmer"] is (flag == "--stemmer")
        scores[flag] = test["rouge"]["rouge1"]["fmeasure"]["mid"]
    # "cat running 3" vs "cats run 3": stemmed, all three words match; unstemmed only the number
    assert scores["--stemmer"] == pytest.approx(100.0)
    assert scores["--no-stemmer"] == pytest.approx(100 / 3, abs=0.01)


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        ("提出了一种新的设计方法.仿真结果表明,控制器响应较快.",
         ["提出了一种新的设计方法.", "仿真结果表明,控制器响应较快."]),
        ("价格是3.5元。很好！真的？是的", ["价格是3.5元。", "很好！", "真的？", "是的"]),
        ("東京へ行きました.とても楽しかった.", ["東京へ行きました.", "とても楽しかった."]),
        ("采用MRP方法.仿真表明v2.0更好", ["采用MRP方法.", "仿真表明v2.0更好"]),
        ("We use v2.0 here. It works.", ["We use v2.0 here.", "It works."]),
        ("模型的精度为0.95,优于基线", ["模型的精度为0.95,优于基线"]),
    ],
)  # fmt: skip
def test_cjk_sentence_ends(text: str, sentences: list[str]) -> None:
    from summarist.metrics.sentences import split_sentences

    assert split_sentences(text) == sentences
    assert split_sentences(text, "pysbd") == sentences


def test_lead_1_on_csl_takes_the_first_sentence(shared_data: Path) -> None:
    """Measured: lead-1 on CSL dev had rouge1 recall 85.5, precision 12.5 before (the whole
    abstract, as "." between CJK characters ended no sentence), 70.3 / 26.1 after."""
    from summarist.baselines import run_baseline
    from summarist.data.readers import read_table
    from summarist.metrics import compute_rouge

    rows = read_table(shared_data / "csl_zh" / "dev.tsv", header=False)[:200]
    abstracts, titles = [r["col1"] for r in rows], [[r["col2"]] for r in rows]
    lead = run_baseline("lead-1", abstracts)
    assert sum(len(p) for p in lead) < 0.5 * sum(len(a) for a in abstracts)
    r1 = compute_rouge(lead, titles, bootstrap=0).summary()["rouge1"]
    assert r1["precision"]["mid"] > 20 and r1["recall"]["mid"] < 80, r1


@pytest.mark.parametrize(
    ("lang", "tokenizer"),
    [(None, "rouge-score"), ("auto", "rouge-score"), ("en", "rouge-score"),
     ("en_XX", "rouge-score"), ("en-GB", "rouge-score"), ("english", "rouge-score"),
     ("zh", "unicode"), ("zh_CN", "unicode"), ("ja_XX", "unicode"), ("de_DE", "unicode"),
     ("unicode", "unicode"), ("rouge-score", "rouge-score")],
)  # fmt: skip
def test_one_function_chooses_the_rouge_tokenizer(lang: str | None, tokenizer: str) -> None:
    from summarist.data.corpus import Split
    from summarist.evaluation.scoring import score_split
    from summarist.metrics import compute_rouge
    from summarist.metrics.tokenizers import tokenizer_for_lang

    english = ["the cat sat on the mat"]
    assert tokenizer_for_lang(lang, english) == tokenizer
    # and every scoring path asks it: compute_rouge, score_split (evaluate, baseline, final
    # evaluation in training, compare --data)
    assert compute_rouge(english, [english], lang=lang, bootstrap=0).tokenizer == tokenizer
    metrics, _ = score_split(english, Split("test", english, [english]), lang=lang, bootstrap=0)
    assert metrics["rouge_settings"]["tokenizer"] == tokenizer


def test_no_module_but_tokenizers_decides_the_rouge_tokenizer() -> None:
    """compare once stripped the region (`en_XX` -> `en`) itself, while training passed
    `en_XX` on: each path must hand `--lang` unchanged to `tokenizer_for_lang`."""
    src = Path(__file__).resolve().parents[2] / "src" / "summarist"
    offenders = []
    for path in src.rglob("*.py"):
        text = path.read_text("utf-8")
        if path.name != "tokenizers.py" and re.search(r"lang\w*\.split\(|detect_tokenizer\(", text):
            offenders.append(path.relative_to(src).as_posix())
    assert offenders == []


def test_compare_and_training_hand_the_mbart_code_on_unchanged(tmp_path: Path) -> None:
    from summarist.config.train import TrainConfig
    from summarist.evaluation import ScoringConfig

    assert ScoringConfig(lang="en_XX").lang == "en_XX"
    assert TrainConfig.from_dict({"data": ["d/"], "lang": "en_XX"}).lang == "en_XX"
    code, _, err = run_cli(["evaluate", str(tmp_path), "--lang", "klingon"])
    assert code == 2 and "unknown --lang 'klingon'" in err
