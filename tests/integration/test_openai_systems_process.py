"""OpenAI-compatible servers as systems of `evaluate` and `compare`, each a real process on
loopback: summarist's own (`summarist serve`, a tiny T5) and llama.cpp's (`llama-cpp-python`
serving SmolLM2, a server nobody here wrote). Nothing mocks HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("uvicorn", reason="the serve extra is not installed")
httpx = pytest.importorskip("httpx", reason="the openai extra (httpx) is not installed")

from summarist import rundir  # noqa: E402
from tests.integration.conftest import SERVED_KEY as KEY  # noqa: E402
from tests.openai_servers import Process, llama_cpp_missing, llama_cpp_server  # noqa: E402
from tests.tiny_models import tiny_model  # noqa: E402

TOKENS = 12


@pytest.fixture
def server(served_t5: Process) -> Process:
    return served_t5


def chat_requests(server: Process) -> int:
    text = httpx.get(server.root + "/metrics", headers={"X-API-Key": KEY}).text
    line = 'summarist_requests_total{route="/v1/chat/completions",status="200"}'
    return int(float(next((x.split()[-1] for x in text.splitlines() if x.startswith(line)), 0)))


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    return subprocess.run([sys.executable, "-m", "summarist", *args], capture_output=True,
                          text=True, timeout=300, env={**base, **env})  # fmt: skip


def test_summarists_own_server_as_a_system_in_evaluate_and_compare(server: Process, tiny_corpus: Path, tmp_path: Path) -> None:  # fmt: skip
    from summarist.config.data import DataConfig
    from summarist.config.openai import OpenAISettings
    from summarist.evaluation import ScoringConfig
    from summarist.model_comparison import CompareModelsConfig, compare_models

    cache, out = tmp_path / "cache", tmp_path / "eval"
    args = ["evaluate", "--system", "openai:t5", "--data", str(tiny_corpus), "--split", "test",
            "-o", str(out), "--cache-dir", str(cache), "--max-tokens", str(TOKENS),
            "--bootstrap", "50", "--no-report"]  # fmt: skip
    # OPENAI_BASE_URL gives the URL; without OPENAI_API_KEY the server refuses the dummy key
    refused = cli(*args, env={"OPENAI_BASE_URL": server.url})
    assert refused.returncode == 2 and "the API key was refused" in refused.stderr, refused.stderr
    env = {"OPENAI_BASE_URL": server.url, "OPENAI_API_KEY": KEY}
    wrong = cli(*[a if a != "openai:t5" else "openai:gpt-4o" for a in args], env=env)
    assert wrong.returncode == 2 and "404" in wrong.stderr and "'gpt-4o'" in wrong.stderr, (
        wrong.stderr
    )
    assert len(wrong.stderr.strip().splitlines()) == 1, wrong.stderr
    before = chat_requests(server)
    res = cli(*args, env=env)
    assert res.returncode == 0, res.stderr
    asked = chat_requests(server) - before
    assert asked == 10  # the swap probe's texts are answered texts: not asked again
    config = rundir.read_yaml(out / "config.yaml")["system"]
    assert config["base_url"] == server.url and config["api_key_set"] is True
    assert KEY not in (out / "config.yaml").read_text()
    endpoint = config["endpoint"]
    assert endpoint["listed_models"] == ["t5"] and endpoint["response_models"] == ["t5"]
    assert endpoint["system_fingerprints"][0].startswith("summarist-")
    assert endpoint["from_cache"] == 0 and endpoint["answered"] == 10
    assert config["settings"]["max_tokens"] == TOKENS and config["settings"]["temperature"] == 0
    rows = rundir.read_jsonl(out / "predictions.jsonl")
    assert len(rows) == 10 and endpoint["usage"]["completion_tokens"] == sum(r["new_tokens"] for r in rows)  # fmt: skip
    metrics = rundir.read_json(out / "metrics.json")["splits"]["test"]
    assert "lead-3-utterances" in metrics["baselines"] and "constant" in metrics["baselines"]
    assert metrics["diagnostics"]["swap_probe"]["n"] > 0 and "flagged" in metrics["degenerate"]

    again = cli(*args, env=env)  # the same evaluation again: every answer from the cache
    assert again.returncode == 0, again.stderr
    assert chat_requests(server) - before == asked
    assert rundir.read_yaml(out / "config.yaml")["system"]["endpoint"]["from_cache"] == 10
    assert rundir.read_jsonl(out / "predictions.jsonl") == rows

    # compare: the same model locally and through the server, same greedy settings: the same
    # summaries, so every paired difference is exactly 0
    os.environ["OPENAI_API_KEY"] = KEY
    try:
        result = compare_models(CompareModelsConfig(
            models=[str(tiny_model("t5")), f"openai:t5@{server.url}"],
            data=DataConfig(data=[str(tiny_corpus)]), split="test", output_dir=tmp_path / "cmp",
            generation={"num_beams": 1, "max_new_tokens": TOKENS},
            scoring=ScoringConfig(bootstrap=50, workers=1),
            openai=OpenAISettings(max_tokens=TOKENS, cache_dir=cache),
        ))  # fmt: skip
    finally:
        del os.environ["OPENAI_API_KEY"]
    local, remote = result["models"].values()
    assert remote["summaries"] == local["summaries"] == [r["prediction"] for r in rows]
    assert remote["new_tokens"] == local["new_tokens"]
    assert sorted(p.name for p in (tmp_path / "cmp").iterdir()) == ["openai-t5", "t5"]
    (pair,) = result["evaluation"]["pairs"]
    assert all(pair["rouge"][k]["diff"] == 0 for k in ("rouge1", "rouge2", "rougeL"))
    assert chat_requests(server) - before == asked  # compare's answers came from the cache too


@pytest.mark.slow
def test_llama_cpp_server_as_a_system(tmp_path: Path, tiny_corpus: Path) -> None:
    """llama.cpp's OpenAI-compatible server (nobody here wrote it) with SmolLM2-135M-Instruct."""
    if (why := llama_cpp_missing()) is not None:
        pytest.skip(why)
    server = llama_cpp_server(threads=1)
    out, cache = tmp_path / "eval", tmp_path / "cache"
    args = ["evaluate", "--system", f"openai:smollm2@{server.url}", "--data", str(tiny_corpus),
            "--split", "test", "--limit", "3", "-o", str(out), "--cache-dir", str(cache),
            "--max-tokens", "40", "--bootstrap", "50", "--no-report"]  # fmt: skip
    try:
        res = cli(*args, env={})
    finally:
        server.stop()
    assert res.returncode == 0, res.stderr
    rows = rundir.read_jsonl(out / "predictions.jsonl")
    assert len(rows) == 3 and all(r["prediction"].strip() for r in rows)
    endpoint = rundir.read_yaml(out / "config.yaml")["system"]["endpoint"]
    assert endpoint["response_models"] == ["smollm2"]
    assert endpoint["listed_models"] == ["smollm2"]
    assert endpoint["usage"]["prompt_tokens"] > 0 and endpoint["usage"]["completion_tokens"] > 0
    assert all(0 < r["new_tokens"] <= 40 for r in rows)
    # the rerun comes from the cache, with the server gone
    again = cli(*args, env={})
    assert again.returncode == 0, again.stderr
    assert rundir.read_jsonl(out / "predictions.jsonl") == rows
    assert rundir.read_yaml(out / "config.yaml")["system"]["endpoint"]["from_cache"] == 3
