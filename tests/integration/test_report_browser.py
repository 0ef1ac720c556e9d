"""The report in a real browser: Debian's chromium driven by playwright (never a downloaded build).

Checks what a person would see: the page renders (non-blank screenshot), every image decoded,
the page asked for nothing outside itself, and the metric cells show metrics.json's numbers.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from summarist import rundir
from summarist.reports import write_report
from tests.browser import ARGS, CHROMIUM, sync_api
from tests.unit._report_runs import write_run


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        try:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        except sync_api.Error as err:  # e.g. a container without the libraries chromium needs
            pytest.skip(f"chromium at {CHROMIUM} does not start: {str(err).splitlines()[0]}")
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    root = tmp_path_factory.mktemp("runs")
    return [
        write_run(root / "ft", name="t5-ft", kind="train", quality=0.8, seed=1),
        write_run(
            root / "lead",
            name="lead-3",
            kind="baseline",
            quality=0.5,
            seed=5,
            train_log=False,
            baselines=False,
        ),
    ]


def open_report(browser: Any, path: Path) -> tuple[Any, list[str], list[str]]:
    """Load the page; return it with the URLs it requested and its console errors."""
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.resolve().as_uri(), wait_until="load")
    return page, requests, errors


def test_report_renders_with_every_image_loaded(
    browser: Any, runs: list[Path], tmp_path: Path
) -> None:
    from PIL import Image, ImageStat

    out = write_report(runs, tmp_path / "report.html")
    page, requests, errors = open_report(browser, out)
    images = page.eval_on_selector_all(
        "img", "els => els.map(e => ({w: e.naturalWidth, h: e.naturalHeight, done: e.complete}))"
    )
    # run 1: curves, lengths, scatter, buckets; run 2 (no train log): lengths, scatter, buckets
    assert len(images) == 7
    assert all(i["done"] and i["w"] > 100 and i["h"] > 100 for i in images), images
    assert errors == []  # a blocked resource (CSP) or a broken image would be logged here
    assert [u for u in requests if not u.startswith(("file:", "data:"))] == []
    shot = Image.open(io.BytesIO(page.screenshot(full_page=True))).convert("L")
    assert shot.height > 3000  # the whole report, not an error page
    stat = ImageStat.Stat(shot)
    assert stat.stddev[0] > 20  # not blank: text, tables and plots on a light background
    assert len(shot.getcolors(maxcolors=1 << 16) or range(1 << 16)) > 50
    sections = page.eval_on_selector_all("section h2", "els => els.map(e => e.textContent)")
    assert sections == ["Metrics", "Examples", "Comparison", "t5-ft", "lead-3", "Run configuration"]
    page.close()


def test_numbers_on_screen_equal_metrics_json(
    browser: Any, runs: list[Path], tmp_path: Path
) -> None:
    out = write_report(runs, tmp_path / "report.html")
    page, _, _ = open_report(browser, out)
    cells = page.eval_on_selector_all(
        "td[data-metric]", "els => els.map(e => ({...e.dataset, text: e.innerText}))"
    )
    seen = 0
    for run_dir in runs:
        metrics = rundir.read_json(run_dir / rundir.METRICS)
        for split, entry in metrics["splits"].items():
            systems = {"model": entry["rouge"], **entry.get("baselines", {})}
            for system, scores in systems.items():
                for key, value in scores.items():
                    ci = value["fmeasure"]
                    (cell,) = [c for c in cells if (c["run"], c["split"], c["system"], c["metric"])
                               == (metrics["name"], split, system, key)]  # fmt: skip
                    assert cell["text"] == f"{ci['mid']:.1f} ({ci['low']:.1f}–{ci['high']:.1f})"
                    seen += 1
    assert seen == len(cells) == 24  # t5-ft: 2 splits x 2 systems x 4; lead-3: 2 x 1 x 4
    page.close()


def test_baseline_only_report_shows_the_missing_section_note(
    browser: Any, runs: list[Path], tmp_path: Path
) -> None:
    out = write_report([runs[1]], tmp_path / "baseline.html")
    page, _, errors = open_report(browser, out)
    notes = page.eval_on_selector_all(".note", "els => els.map(e => e.innerText)")
    assert any("train_log.jsonl not found" in n for n in notes)
    assert (
        page.eval_on_selector_all("img", "els => els.filter(e => e.naturalWidth > 0).length") == 3
    )
    assert errors == []
    page.close()
