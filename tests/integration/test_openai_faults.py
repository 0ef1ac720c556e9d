"""`summarist evaluate --system` against a deliberately faulty OpenAI-compatible server, a real
process on loopback (`tests/fault_server.py`; nothing mocks HTTP): every fault is counted and
named with its error, what was answered is never asked twice, and a run that was cut short
(the server gone, Ctrl-C) resumes from the cache."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("httpx", reason="the openai extra (httpx) is not installed")

from summarist import rundir
from tests.conftest import write_jsonl
from tests.openai_servers import FaultServer, free_port

FAULTS = {1: "[slow]", 2: "[429-once]", 3: "[500]", 4: "[500-once]", 5: "[malformed]",
          6: "[empty]", 7: "[missing]"}  # fmt: skip
NAMES = ["Anna", "Ben", "Cara", "Dan", "Eve", "Finn", "Gus", "Hana", "Ida", "Jon", "Kim", "Lea"]


def corpus(root: Path, n: int, faults: dict[int, str] | None = None) -> Path:
    """train/test jsonl; test text i starts with its own name (the fault server answers with
    the first five words, so answers differ) and carries its fault marker."""
    faults = faults or {}

    def row(i: int, split: str) -> dict[str, str]:
        return {
            "id": f"{split[0]}{i}",
            "dialogue": f"{NAMES[i % 12]}{i} asked about item {i}. {faults.get(i, '')}\n"
            f"Ben: I got item {i} today, see you at {i % 12 + 1} pm.",
            "summary": f"{NAMES[i % 12]}{i} and Ben talk about item {i}.",
        }

    write_jsonl(root / "train.jsonl", [row(i, "train") for i in range(100, 100 + n)])
    write_jsonl(root / "test.jsonl", [row(i, "d") for i in range(n)])
    return root


def evaluate(server_url: str, data: Path, out: Path, cache: Path, *flags: str, **popen: object) -> subprocess.CompletedProcess[str]:  # fmt: skip
    cmd = [sys.executable, "-m", "summarist", "evaluate", "--system", f"openai:faulty@{server_url}",
           "--data", str(data), "--split", "test", "-o", str(out), "--cache-dir", str(cache),
           "--bootstrap", "50", *flags]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=env)


def cached_texts(cache: Path) -> set[str]:
    """The user messages whose answers the cache holds."""
    out = set()
    for path in cache.rglob("*.json"):
        request = rundir.read_json(path)["request"]
        out.add(next(m["content"] for m in request["messages"] if m["role"] == "user"))
    return out


def test_every_fault_is_counted_and_named_and_answers_are_never_asked_twice(tmp_path: Path) -> None:  # fmt: skip
    data = corpus(tmp_path / "data", 10, FAULTS)
    texts = [r["dialogue"] for r in rundir.read_jsonl(data / "test.jsonl")]
    server = FaultServer(tmp_path / "asked.jsonl")
    out, cache = tmp_path / "run", tmp_path / "cache"
    flags = ("--request-timeout-s", "0.6", "--max-retries", "2", "--retry-backoff-s", "0.01")
    try:
        res = evaluate(server.url, data, out, cache, *flags)
        first = server.asked()
        requests = server.requests()
        again = evaluate(server.url, data, out, cache, *flags, "--no-report")
        second = server.asked() - first
    finally:
        server.stop()
    assert res.returncode == 3, res.stderr
    assert "5 of 10 texts failed" in res.stderr.strip().splitlines()[-1]
    metrics = rundir.read_json(out / "metrics.json")["splits"]["test"]
    errors = {f["id"]: f["error"] for f in metrics["system"]["failures"]}
    assert sorted(errors) == ["d1", "d3", "d5", "d6", "d7"]
    assert errors["d1"] == "timed out after 0.6 s"
    assert errors["d3"] == "HTTP 500: boom"
    assert errors["d5"].startswith("malformed JSON in the answer")
    assert errors["d6"] == errors["d7"] == "the answer holds no choice"
    assert metrics["system"]["answered"] == metrics["n"] == 5
    rows = rundir.read_jsonl(out / "predictions.jsonl")
    assert [r["id"] for r in rows] == ["d0", "d2", "d4", "d8", "d9"]
    assert rows[1]["prediction"] == " ".join(texts[2].split()[:5])
    # retried: the timeout and the 500s (1 + 2 retries), the one-off 429 and 500 until answered;
    # an answer that is not JSON or holds no choice is the server's answer: asked once
    assert [first[t] for t in texts] == [1, 3, 2, 3, 2, 1, 1, 1, 1, 1]
    # the 429's Retry-After (1 s) was honoured over the 0.01 s backoff
    times = [r["t"] for r in requests if r["text"] == texts[2]]
    assert times[1] - times[0] >= 0.95
    # errors are never cached; the rerun asked only what had failed, each once more as before
    assert cached_texts(cache) == {texts[i] for i in (0, 2, 4, 8, 9)}
    assert again.returncode == 3, again.stderr
    assert [second[t] for t in texts] == [0, 3, 0, 3, 0, 1, 1, 1, 0, 0]
    config = rundir.read_yaml(out / "config.yaml")["system"]
    assert config["endpoint"]["listed_models"] == ["faulty-1"]
    assert config["endpoint"]["response_models"] == ["faulty-1"]
    assert config["endpoint"]["from_cache"] == 5 and config["settings"]["request_timeout_s"] == 0.6
    report = (out / "report.html").read_text(encoding="utf-8")  # the first run wrote it
    assert all(f'data-failed="openai-faulty:{i}"' in report for i in errors)


def test_an_endpoint_that_is_down_is_one_line_and_exit_2(tmp_path: Path) -> None:
    data = corpus(tmp_path / "data", 4)
    url = f"http://127.0.0.1:{free_port()}/v1"
    res = evaluate(url, data, tmp_path / "run", tmp_path / "cache", "--no-report")
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: cannot reach {url}"), res.stderr
    assert not (tmp_path / "run" / "metrics.json").exists()


def test_a_server_gone_mid_run_fails_the_rest_fast_and_the_rerun_resumes(tmp_path: Path) -> None:
    data = corpus(tmp_path / "data", 16)
    texts = [r["dialogue"] for r in rundir.read_jsonl(data / "test.jsonl")]
    log = tmp_path / "asked.jsonl"
    server = FaultServer(log, delay=0.25)
    out, cache = tmp_path / "run", tmp_path / "cache"
    cmd = [sys.executable, "-m", "summarist", "evaluate", "--system", f"openai:faulty@{server.url}",
           "--data", str(data), "--split", "test", "-o", str(out), "--cache-dir", str(cache),
           "--bootstrap", "50", "--no-report", "--concurrency", "2", "--max-retries", "1",
           "--retry-backoff-s", "0.05"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        while len(server.requests()) < 6 and proc.poll() is None:
            time.sleep(0.05)
        server.stop()  # mid-run: answers stop, connections are refused
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 3, err
    failures = rundir.read_json(out / "metrics.json")["splits"]["test"]["system"]["failures"]
    assert failures and all(
        f["error"].startswith(("connection failed", "not asked")) for f in failures
    ), failures
    kept = cached_texts(cache)
    assert len(kept) == 16 - len(failures) and len(kept) >= 4
    first = server.asked()
    server = FaultServer(log, port=server.port)  # the same endpoint, back
    try:
        res = evaluate(server.url, data, out, cache, "--no-report")
        total = server.asked()
    finally:
        server.stop()
    assert res.returncode == 0, res.stderr
    assert rundir.read_json(out / "metrics.json")["splits"]["test"]["n"] == 16
    assert all(total[t] == 1 for t in kept)  # answered before the outage: never asked again
    assert all(total[t] - first[t] == 1 for t in texts if t not in kept)


def test_ctrl_c_mid_run_keeps_what_was_answered_and_the_rerun_asks_only_the_rest(tmp_path: Path) -> None:  # fmt: skip
    data = corpus(tmp_path / "data", 16)
    texts = [r["dialogue"] for r in rundir.read_jsonl(data / "test.jsonl")]
    server = FaultServer(tmp_path / "asked.jsonl", delay=0.3)
    out, cache = tmp_path / "run", tmp_path / "cache"
    cmd = [sys.executable, "-m", "summarist", "evaluate", "--system", f"openai:faulty@{server.url}",
           "--data", str(data), "--split", "test", "-o", str(out), "--cache-dir", str(cache),
           "--bootstrap", "50", "--no-report", "--concurrency", "2"]  # fmt: skip
    try:
        # A shell's background job starts with SIGINT ignored, and Python (hence asyncio) then
        # keeps ignoring it: give the child the default disposition, as a terminal would.
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # fmt: skip
        while len(server.requests()) < 6 and proc.poll() is None:
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        kept = cached_texts(cache)
        first = server.asked()
        half_written = (out / "metrics.json").exists()
        res = evaluate(server.url, data, out, cache, "--no-report", "--concurrency", "2")
        total = server.asked()
    finally:
        server.stop()
    assert proc.returncode == 130, err
    assert "interrupted" in err and "resumes from there" in err
    assert not half_written  # no run directory from an interrupted run
    assert 4 <= len(kept) < 16 and sum(first.values()) <= len(kept) + 2  # at most 2 in flight
    assert res.returncode == 0, res.stderr
    assert rundir.read_json(out / "metrics.json")["splits"]["test"]["n"] == 16
    assert all(total[t] == 1 for t in kept)
    assert sum(total.values()) <= 16 + 2 and set(total) == set(texts)


def test_compare_two_endpoints_leaves_a_failed_text_out_for_both_and_names_it(tmp_path: Path) -> None:  # fmt: skip
    data = corpus(tmp_path / "data", 10, {3: "[500]", 6: "[empty]"})
    server = FaultServer(tmp_path / "asked.jsonl")
    other = tmp_path / "b.yaml"
    other.write_text(f"model: faulty\nbase_url: {server.url}\nname: faulty-b\nprompt: 'Text: {{text}}'\n")  # fmt: skip
    out = tmp_path / "cmp"
    cmd = [sys.executable, "-m", "summarist", "compare", "--models", f"openai:faulty@{server.url}",
           "--system", str(other), "--data", str(data), "--split", "test", "-o", str(out),
           "--cache-dir", str(tmp_path / "cache"), "--max-retries", "1", "--retry-backoff-s",
           "0.01", "--bootstrap", "50"]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    try:
        res = subprocess.run(
            cmd, capture_output=True, text=True, timeout=240, env=env, cwd=tmp_path
        )
        asked = server.asked()
    finally:
        server.stop()
    assert res.returncode == 3, res.stderr
    assert sorted(p.name for p in out.iterdir()) == ["faulty-b", "openai-faulty"]
    for name in ("faulty-b", "openai-faulty"):
        metrics = rundir.read_json(out / name / "metrics.json")["splits"]["test"]
        assert metrics["n"] == 8 and metrics["system"]["left_out"] == ["3", "6"]
        assert sorted(f["index"] for f in metrics["system"]["failures"]) == [3, 6]
        assert len(rundir.read_jsonl(out / name / "predictions.jsonl")) == 8
    assert "failed examples" in res.stdout and "HTTP 500: boom" in res.stdout
    assert "(failed:" in res.stdout  # text 3 in the side-by-side table (its first 5 texts)
    assert "paired bootstrap" in res.stdout and "scored on the 8 of 10" in res.stdout
    # every text once per system (the swap probe's texts are answered ones), the 500 twice
    assert sum(asked.values()) == 2 * (8 + 1) + 2 * 2
