"""The HTML report: numbers equal metrics.json, missing pieces become notes, runs are compared."""

from __future__ import annotations

import html
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from summarist import rundir
from summarist.cli import app
from summarist.errors import DataError
from summarist.reports import analysis, plots, write_report
from summarist.reports.html import highlight_overlap
from tests.unit._report_runs import write_run

ROUGE = ("rouge1", "rouge2", "rougeL", "rougeLsum")


class Cells(HTMLParser):
    """Collects every element's data-* attributes with its text, and all tag/attr pairs."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[tuple[dict[str, str], str]] = []
        self.tags: list[tuple[str, dict[str, str]]] = []
        self._stack: list[tuple[dict[str, str], list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.tags.append((tag, a))
        if tag in ("td", "tr"):
            self._stack.append(({k[5:]: v for k, v in a.items() if k.startswith("data-")}, []))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "tr") and self._stack:
            data, text = self._stack.pop()
            if data:
                self.cells.append((data, "".join(text).strip()))
            if self._stack:
                self._stack[-1][1].extend(text)

    def handle_data(self, data: str) -> None:
        if self._stack:
            self._stack[-1][1].append(data)


def parse(path: Path) -> Cells:
    parser = Cells()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


@pytest.fixture
def trained(tmp_path: Path) -> Path:
    return write_run(tmp_path / "ft", name="t5-ft", kind="train", quality=0.8, seed=1)


@pytest.fixture
def baseline(tmp_path: Path) -> Path:
    return write_run(tmp_path / "lead", name="lead-3", kind="baseline", quality=0.4, seed=9,
                     train_log=False, baselines=False)  # fmt: skip


def test_metric_cells_equal_metrics_json_as_rounded(trained: Path, tmp_path: Path) -> None:
    out = write_report([trained], tmp_path / "r.html")
    metrics = rundir.read_json(trained / rundir.METRICS)
    cells = {
        (d["split"], d["system"], d["metric"]): (d, text)
        for d, text in parse(out).cells
        if "metric" in d and "system" in d
    }
    expected = 0
    for split, entry in metrics["splits"].items():
        systems = {"model": entry["rouge"], **entry.get("baselines", {})}
        for system, scores in systems.items():
            for key in ROUGE:
                ci = scores[key]["fmeasure"]
                data, text = cells[(split, system, key)]
                assert text == f"{ci['mid']:.1f} ({ci['low']:.1f}–{ci['high']:.1f})"
                assert float(data["mid"]) == ci["mid"]
                expected += 1
    assert len(cells) == expected == 2 * 2 * 4  # 2 splits x (model + lead-3) x 4 ROUGE keys
    n_cells = [text for d, text in parse(out).cells if d.get("field") == "n"]
    assert n_cells == [str(metrics["splits"][s]["n"]) for s in ("test", "validation")]


def test_page_is_self_contained_and_written_atomically(trained: Path, tmp_path: Path) -> None:
    out = write_report([trained], tmp_path / "page" / "report.html")
    tags = parse(out).tags
    images = [a for t, a in tags if t == "img"]
    assert len(images) == 4  # training curves, length histograms, scatter, ROUGE by length
    assert all(a["src"].startswith("data:image/png;base64,") for a in images)
    assert not [t for t, _ in tags if t in ("script", "link", "iframe", "object")]
    urls = [v for _, a in tags for k, v in a.items() if k in ("src", "href")]
    assert all(u.startswith(("data:", "#")) for u in urls)
    assert [p.name for p in out.parent.iterdir()] == ["report.html"]
    assert 20_000 < out.stat().st_size < 600_000


def test_text_from_runs_is_escaped(trained: Path, tmp_path: Path) -> None:
    rows = rundir.read_jsonl(trained / rundir.PREDICTIONS)
    for r in rows:
        r["source"] += "\nEve: <script>alert('x')</script> R&D <notes>"
        r["references"] = [r["references"][0] + " <em>&</em>"]
    rundir.write_jsonl(trained / rundir.PREDICTIONS, rows)
    text = write_report([trained], tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<script>" not in text and "<notes>" not in text and "<em>" not in text
    # 9 example cards (best, worst, random), each showing its source and its reference
    assert (
        text.count("&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; R&amp;D &lt;notes&gt;") == 9
    )
    assert text.count("&lt;em&gt;&amp;&lt;/em&gt;") == 9


def test_baseline_without_train_log_gets_a_note(baseline: Path, tmp_path: Path) -> None:
    text = write_report([baseline], tmp_path / "r.html").read_text(encoding="utf-8")
    assert "No training curves: train_log.jsonl not found" in text
    assert "expected for a baseline" in text
    assert text.count("<img") == 3  # lengths, scatter, buckets still drawn


def test_run_with_only_a_config_renders_notes(tmp_path: Path) -> None:
    run = tmp_path / "interrupted"
    rundir.write_yaml(run / rundir.CONFIG, {"kind": "train", "name": "half-done", "lr": 3e-4})
    text = write_report([run], tmp_path / "r.html").read_text(encoding="utf-8")
    assert "metrics.json not found" in text
    assert "No prediction analysis: predictions.jsonl not found" in text
    assert "half-done" in text and "0.0003" in text


def test_unreadable_metrics_is_a_note_not_a_crash(trained: Path, tmp_path: Path) -> None:
    (trained / rundir.METRICS).write_text("{not json", encoding="utf-8")
    text = write_report([trained], tmp_path / "r.html").read_text(encoding="utf-8")
    assert "metrics.json unreadable (JSONDecodeError)" in text
    assert '<section id="examples"><h2>Examples</h2>' in text


@pytest.mark.parametrize("make", ["missing", "empty"])
def test_not_a_run_directory_is_a_data_error(tmp_path: Path, make: str) -> None:
    path = tmp_path / "x"
    if make == "empty":
        path.mkdir()
    with pytest.raises(DataError, match="run directory"):
        write_report([path], tmp_path / "r.html")
    assert not (tmp_path / "r.html").exists()


def test_comparison_is_paired_on_the_same_examples(
    trained: Path, baseline: Path, tmp_path: Path
) -> None:
    out = write_report([trained, baseline], tmp_path / "r.html")
    rows = [d for d, _ in parse(out).cells if d.get("compare") == "lead-3"]
    assert {(d["split"], d["metric"]) for d in rows} == {
        (s, k) for s in ("test", "validation") for k in ROUGE
    }
    preds_a = rundir.read_jsonl(trained / rundir.PREDICTIONS)
    preds_b = rundir.read_jsonl(baseline / rundir.PREDICTIONS)
    for d in rows:
        a = [r["scores"][d["metric"]] for r in preds_a if r["split"] == d["split"]]
        b = [r["scores"][d["metric"]] for r in preds_b if r["split"] == d["split"]]
        assert float(d["diff"]) == pytest.approx(np.mean(b) - np.mean(a))
        assert float(d["diff"]) < -5 and float(d["p"]) < 0.05  # quality 0.4 vs 0.8
    assert "t5-ft" in out.read_text(encoding="utf-8")


def test_a_run_against_itself_differs_by_nothing(trained: Path) -> None:
    rows = rundir.read_jsonl(trained / rundir.PREDICTIONS)
    results, mismatched = analysis.compare_predictions(rows, rows)
    assert mismatched == 0 and len(results) == 8
    assert all(r.diff == 0 and r.p_value == 1.0 for r in results)


def test_runs_on_different_examples_are_not_paired(trained: Path, tmp_path: Path) -> None:
    other = write_run(tmp_path / "other", name="other", seed=3)
    rows = rundir.read_jsonl(other / rundir.PREDICTIONS)
    for r in rows:
        r["source"] = "something else " + r["source"]
    rundir.write_jsonl(other / rundir.PREDICTIONS, rows)
    text = write_report([trained, other], tmp_path / "r.html").read_text(encoding="utf-8")
    assert "80 examples share a (split, index) but not the source text" in text
    assert "share no scored examples" in text


def test_same_names_are_told_apart(tmp_path: Path) -> None:
    a = write_run(tmp_path / "a", name="run", n=10)
    b = write_run(tmp_path / "b", name="run", n=10)
    out = write_report([a, b], tmp_path / "r.html")
    assert {d["run"] for d, _ in parse(out).cells if "run" in d} == {"run", "run #2"}


def test_without_matplotlib_the_figures_become_notes(
    trained: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(plots, "matplotlib_available", lambda: False)
    text = write_report([trained], tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<img" not in text
    assert "matplotlib is not installed" in text
    assert "data-metric" in text


@pytest.mark.parametrize(
    "text, other",
    [
        ("Anna got <the> keys & left.", "anna got the keys"),
        ("R&D\n\"quoted\" 'x' <b>bold</b>", "R D quoted"),
        ("会议改到明天下午", "会议明天"),
        ("", "anything"),
        ("no overlap here", ""),
    ],
)
def test_highlighting_keeps_the_text_and_escapes_it(text: str, other: str) -> None:
    marked = highlight_overlap(text, other)
    assert html.unescape(re.sub(r"</?mark[^>]*>", "", marked)) == text
    assert "<" not in re.sub(r"</?mark[^>]*>", "", marked)


def test_highlighting_marks_shared_bigrams_and_words() -> None:
    marked = highlight_overlap("Anna got the keys today", ["Anna got keys", "today maybe"])
    assert '<mark class="bi">Anna got</mark>' in marked  # merged across the space
    assert '<mark class="uni">keys today</mark>' in marked
    assert "the" not in re.findall(r"<mark[^>]*>([^<]*)</mark>", marked)
    cjk = highlight_overlap("会议改到明天", "会议明天")
    assert '<mark class="bi">会议</mark>' in cjk and '<mark class="bi">明天</mark>' in cjk


def test_buckets_cover_every_example(trained: Path) -> None:
    rows = [r for r in rundir.read_jsonl(trained / rundir.PREDICTIONS) if r["split"] == "test"]
    buckets = analysis.rouge_by_source_length(rows)
    assert sum(b.n for b in buckets) == len(rows)
    lengths = [analysis.word_count(r["source"]) for r in rows]
    assert (buckets[0].low, buckets[-1].high) == (min(lengths), max(lengths))
    assert len(buckets) > 1
    assert all(x.high < y.low for x, y in zip(buckets, buckets[1:], strict=False))
    first = [r for r in rows if analysis.word_count(r["source"]) <= buckets[0].high]
    assert buckets[0].means["rouge1"] == pytest.approx(
        np.mean([r["scores"]["rouge1"] for r in first])
    )


def test_example_picks_are_ranked_and_stable(trained: Path) -> None:
    rows = rundir.read_jsonl(trained / rundir.PREDICTIONS)
    picks = analysis.pick_examples(rows, k=3, seed=0)
    scores = sorted(r["scores"]["rougeL"] for r in rows)
    assert [r["scores"]["rougeL"] for r in picks["best"]] == scores[::-1][:3]
    assert [r["scores"]["rougeL"] for r in picks["worst"]] == scores[:3]
    assert picks == analysis.pick_examples(rows, k=3, seed=0)


def test_random_examples_are_none_of_the_best_or_worst_ones() -> None:
    import random

    # 8 examples, 3 best + 3 worst: an unrestricted draw of 3 with this seed repeats some
    rows = [{"index": i, "scores": {"rougeL": float(10 * i)}} for i in range(8)]
    shown_before = {r["index"] for r in random.Random(0).sample(rows, 3)}
    assert shown_before & {0, 1, 2, 5, 6, 7}, "the case must be one where they would overlap"
    picks = analysis.pick_examples(rows, k=3, seed=0)
    assert [r["index"] for r in picks["best"]] == [7, 6, 5]
    assert [r["index"] for r in picks["worst"]] == [0, 1, 2]
    assert sorted(r["index"] for r in picks["random"]) == [3, 4]  # only two are left
    many = [{"index": i, "scores": {"rougeL": float(i % 7)}} for i in range(30)]
    for seed in range(20):
        got = analysis.pick_examples(many, k=3, seed=seed)
        shown = {id(r) for r in got["best"] + got["worst"]}
        assert len(got["random"]) == 3 and not shown & {id(r) for r in got["random"]}
        assert len({id(r) for r in got["random"]}) == 3
    unscored = [{"index": i} for i in range(5)]  # no ranking: random from all of them
    got = analysis.pick_examples(unscored, k=3, seed=1)
    assert got["best"] == got["worst"] == [] and len(got["random"]) == 3


def test_reports_import_no_torch() -> None:
    code = (
        "import sys, summarist.reports; "
        "bad = [m for m in ('torch', 'transformers', 'matplotlib') if m in sys.modules]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_cli_report_writes_into_the_run_dir_by_default(trained: Path, baseline: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["report", str(trained)])
    assert result.exit_code == 0, result.output
    assert (trained / "report.html").is_file()
    out = trained.parent / "both.html"
    result = runner.invoke(app, ["report", str(trained), str(baseline), "-o", str(out),
                                 "--title", "A & B"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "<title>A &amp; B</title>" in out.read_text(encoding="utf-8")


def test_cli_report_on_a_missing_dir_exits_2(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "summarist", "report", str(tmp_path / "nope")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("error: run directory not found")


def test_a_thousand_predictions_render_in_seconds(tmp_path: Path) -> None:
    import time

    run = write_run(tmp_path / "big", name="big", n=1000, splits=("test",))
    write_report([run], tmp_path / "warm.html")  # matplotlib's first import and font cache
    start = time.perf_counter()
    out = write_report([run], tmp_path / "r.html")
    # ~0.8 s on 2 busy cores; the bound only catches a quadratic slip, not noise
    assert time.perf_counter() - start < 15
    assert out.stat().st_size < 400_000


def test_public_api_is_pinned() -> None:
    import summarist.reports

    assert summarist.reports.__all__ == ["render_report", "write_report"]


def test_chinese_sources_are_bucketed_by_characters(tmp_path: Path) -> None:
    rows = [
        {"split": "test", "index": i, "source": "会议" * (i + 1), "prediction": "会议",
         "references": ["会议改期"], "scores": {"rouge1": float(i)}}
        for i in range(10)
    ]  # fmt: skip
    buckets = analysis.rouge_by_source_length(rows)
    assert buckets[0].low == 2 and buckets[-1].high == 20
    assert sum(b.n for b in buckets) == 10


def test_degenerate_runs_render_without_warnings(tmp_path: Path) -> None:
    """One example, an empty prediction, no scores, a log with nothing numeric: notes, no crash
    (and no matplotlib warning, which pytest turns into an error)."""
    run = tmp_path / "odd"
    rundir.write_jsonl(run / rundir.PREDICTIONS, [
        {"split": "test", "index": 0, "source": "", "prediction": "", "references": []},
    ])  # fmt: skip
    rundir.write_jsonl(run / rundir.TRAIN_LOG, [
        {"step": 1, "eval": {"n": 3}}, {"step": 2, "loss": None}, "not a row",
    ])  # fmt: skip
    text = write_report([run], tmp_path / "r.html").read_text(encoding="utf-8")
    assert "no per-example scores" in text
    assert "Random" in text and text.count('class="example"') == 1


def test_a_log_with_only_eval_rows_still_plots(trained: Path, tmp_path: Path) -> None:
    rows = [r for r in rundir.read_jsonl(trained / rundir.TRAIN_LOG) if "eval" in r]
    rundir.write_jsonl(trained / rundir.TRAIN_LOG, rows)
    uri = plots.training_curves(rows)
    assert uri is not None and uri.startswith("data:image/png;base64,")
    assert plots.training_curves([{"step": 1}]) is None
