"""OpenAI-compatible systems as summarist sees them, without a server: how a spec and a system
file are read (environment variables included), what the cache key holds, Retry-After, the
split scored when a system failed some texts, and the one-line errors of the CLI."""

from __future__ import annotations

import email.utils
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from summarist.config.openai import (
    DEFAULT_BASE_URL,
    DUMMY_KEY,
    OpenAISettings,
    OpenAISystem,
    parse_system,
)
from summarist.data.corpus import Split
from summarist.errors import ConfigError
from summarist.evaluation.model_eval import evaluate_split
from summarist.evaluation.scoring import ScoringConfig
from summarist.inference.openai_client import messages_for, retry_after
from summarist.inference.response_cache import ResponseCache, cache_key


def test_a_spec_names_model_and_url_and_the_environment_fills_the_rest(monkeypatch) -> None:
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    s = parse_system("openai:qwen2.5-7b@http://10.0.0.5:8000/v1/")
    assert (s.model, s.base_url, s.label) == ("qwen2.5-7b", "http://10.0.0.5:8000/v1", "openai-qwen2.5-7b")  # fmt: skip
    assert parse_system("openai:gpt-4o-mini").base_url == DEFAULT_BASE_URL
    assert s.api_key == DUMMY_KEY  # local servers want some key
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-123")
    s = parse_system("openai:m")
    assert s.base_url == "http://127.0.0.1:9/v1" and s.api_key == "sk-secret-123"
    recorded = json.dumps(s.recorded())
    assert "sk-secret-123" not in recorded and s.recorded()["api_key_set"] is True


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [("openai:@http://h:1/v1", "names no model"), ("openai:m@ftp://h/v1", "not an http(s) URL"),
     ("openai:m@http://", "not an http(s) URL")],
)  # fmt: skip
def test_bad_specs_are_config_errors(spec: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_system(spec)
    assert fragment in err.value.message


def test_a_system_file_sets_its_own_settings_over_the_flags(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("MY_KEY", "k-9")
    path = tmp_path / "llama.yaml"
    path.write_text(
        "model: smollm2\nbase_url: http://127.0.0.1:8080/v1\nname: smol\napi_key_env: MY_KEY\n"
        "concurrency: 2\nmax_tokens: 40\nsystem_prompt: null\nprompt: 'Summarize: {text}'\n"
    )
    s = parse_system(str(path), OpenAISettings(concurrency=8, request_timeout_s=5))
    assert (s.label, s.api_key, s.settings.concurrency, s.settings.max_tokens) == ("smol", "k-9", 2, 40)  # fmt: skip
    assert s.settings.request_timeout_s == 5  # from the flags: the file does not set it
    assert messages_for("A text.", s) == [{"role": "user", "content": "Summarize: A text."}]
    path.write_text("model: m\nconcurency: 2\n")
    with pytest.raises(ConfigError, match="unknown key 'concurency'; did you mean 'concurrency'"):
        parse_system(str(path))
    path.write_text("base_url: http://h/v1\n")
    with pytest.raises(ConfigError, match="needs at least `model:`"):
        parse_system(str(path))


@pytest.mark.parametrize(
    ("kw", "fragment"),
    [({"concurrency": 0}, "--concurrency"), ({"request_timeout_s": 0}, "--request-timeout-s"),
     ({"temperature": 2.5}, "--temperature"), ({"top_p": 0.0}, "--top-p"),
     ({"max_tokens": 0}, "--max-tokens"), ({"prompt": "no placeholder"}, "has no {text}")],
)  # fmt: skip
def test_settings_are_validated_naming_the_flag(kw: dict, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment.replace("{", r"\{").replace("}", r"\}")):
        OpenAISettings(**kw)


def test_defaults_are_greedy_seeded_and_four_at_once() -> None:
    s = OpenAISettings()
    assert (s.concurrency, s.max_retries, s.temperature, s.request_seed) == (4, 3, 0.0, 1234)
    assert s.request_settings() == {"temperature": 0.0, "max_tokens": 256, "seed": 1234}


def test_the_cache_key_is_the_request_less_what_does_not_change_the_answer() -> None:
    system = OpenAISystem("m", "http://h:1/v1")
    msgs = messages_for("A text.", system)
    base = cache_key(system.base_url, "m", msgs, system.settings.request_settings())
    assert cache_key("http://h:1/v1/", "m", msgs, system.settings.request_settings()) == base
    others = [
        cache_key("http://h:2/v1", "m", msgs, system.settings.request_settings()),
        cache_key(system.base_url, "m2", msgs, system.settings.request_settings()),
        cache_key(system.base_url, "m", messages_for("Another.", system), system.settings.request_settings()),
        cache_key(system.base_url, "m", msgs, OpenAISettings(temperature=0.7).request_settings()),
        cache_key(system.base_url, "m", msgs, OpenAISettings(request_seed=1).request_settings()),
        cache_key(system.base_url, "m", msgs, OpenAISettings(max_tokens=64).request_settings()),
    ]  # fmt: skip
    assert len({base, *others}) == 7
    # neither how it is asked nor the key: the same answer, the same entry
    quiet = OpenAISettings(concurrency=16, max_retries=0, request_timeout_s=3, cache_dir=Path("x"))
    assert cache_key(system.base_url, "m", msgs, quiet.request_settings()) == base


def test_the_cache_keeps_answers_and_ignores_a_torn_file(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    key = cache_key("http://h/v1", "m", [{"role": "user", "content": "x"}], {})
    assert cache.get(key) is None
    cache.put(key, {"content": "a summary", "finish_reason": "stop"}, {"model": "m"})
    assert cache.get(key) == {"content": "a summary", "finish_reason": "stop"}
    cache.path(key).write_text('{"answer": {"content": "a su')  # torn: asked again
    assert cache.get(key) is None


def test_retry_after_in_seconds_or_as_a_date() -> None:
    assert retry_after("3", 1.0) == 3.0 and retry_after("0.5", 1.0) == 0.5
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 27 <= retry_after(later, 1.0) <= 30
    assert retry_after(None, 2.0) == 2.0 and retry_after("soon", 2.0) == 2.0


def test_a_failed_text_is_left_out_of_the_scores_never_scored_empty() -> None:
    texts = [f"Anna met Ben at {i} pm in room {i}." for i in range(8)]
    split = Split("test", texts, [[f"They met at {i}."] for i in range(8)])
    asked: list[list[str]] = []

    def generate(batch: list[str]) -> tuple[list[str | None], list[int]]:
        asked.append(list(batch))
        return [None if "room 3." in t or "room 5." in t else t[:14] for t in batch], [4] * len(batch)  # fmt: skip

    got = evaluate_split(generate, split, ScoringConfig(bootstrap=0), max_new_tokens=8)
    assert got is not None and got.failed == [3, 5]
    assert got.metrics["n"] == 6 and len(got.rows) == 6
    assert [r["source"] for r in got.rows] == [t for i, t in enumerate(texts) if i not in (3, 5)]
    # the swap probe draws from the answered texts only
    assert all("room 3." not in t and "room 5." not in t for t in asked[1])
    alone = evaluate_split(
        lambda b: ([t[:14] for t in b], [4] * len(b)),
        split.select([i for i in range(8) if i not in (3, 5)]), ScoringConfig(bootstrap=0),
        max_new_tokens=8,
    )  # fmt: skip
    assert alone is not None and got.metrics["rouge"] == alone.metrics["rouge"]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "summarist", *args], capture_output=True,
                          text=True, timeout=120)  # fmt: skip


@pytest.mark.parametrize(
    ("args", "fragment"),
    [(["--system", "openai:m@nowhere", "--data", "d", "-o", "o"], "not an http(s) URL"),
     (["--system", "gpt-4o", "--data", "d", "-o", "o"], "neither openai:MODEL@URL"),
     (["--system", "openai:m@http://h/v1"], "--system needs --data"),
     (["--system", "openai:m@http://h/v1", "--data", "d", "-o", "o", "--concurrency", "0"], "--concurrency")],
)  # fmt: skip
def test_cli_refuses_bad_system_flags_in_one_line(args: list[str], fragment: str) -> None:
    res = cli("evaluate", *args)
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0], res.stderr


def test_a_rerun_from_the_cache_needs_no_server_and_reports_progress(tmp_path: Path) -> None:
    from summarist.inference.openai_client import run_endpoint

    pytest.importorskip("httpx")
    # nothing listens on port 9 (discard): any request would fail
    system = OpenAISystem("m", "http://127.0.0.1:9/v1", OpenAISettings(cache_dir=tmp_path))
    texts = ["First text.", "Second text.", "First text."]
    cache = ResponseCache(tmp_path)
    for i, text in enumerate(texts[:2]):
        key = cache_key(system.base_url, "m", messages_for(text, system),
                        system.settings.request_settings())  # fmt: skip
        cache.put(key, {"content": f" summary {i} ", "finish_reason": "stop", "model": "m-1",
                        "usage": {"completion_tokens": 2}}, {})  # fmt: skip
    seen: list[int] = []
    run = run_endpoint(system, texts, seen.append)
    assert [o.summary for o in run.outcomes] == ["summary 0", "summary 1", "summary 0"]
    assert run.from_cache == 3 and run.failed == [] and seen == [1, 2, 3]
    assert run.record()["response_models"] == ["m-1"] and run.listed_models is None
