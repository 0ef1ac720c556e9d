"""An OpenAI-compatible endpoint as a system to evaluate: where it is, and how it is asked.

    summarist evaluate --system openai:MODEL@http://127.0.0.1:8080/v1 --data D --split test -o OUT
    summarist compare --models runs/t5/model openai:MODEL@http://127.0.0.1:8080/v1 --data D
    summarist evaluate --system configs/openai-system.yaml ...      # the same, from YAML

Defaults follow lm-evaluation-harness's `local-chat-completions` (4 requests at once, 3 retries
with exponential backoff, temperature 0, a fixed seed, a response cache) and promptfoo
(`OPENAI_BASE_URL`, `OPENAI_API_KEY` or a dummy key for local servers, `Retry-After` honoured,
errors never cached).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from summarist.config.fields import cli
from summarist.errors import ConfigError

PREFIX = "openai:"
BASE_URL_ENV = "OPENAI_BASE_URL"
API_KEY_ENV = "OPENAI_API_KEY"
DEFAULT_BASE_URL = "https://api.openai.com/v1"
DUMMY_KEY = "sk-no-key-required"
"""Sent when OPENAI_API_KEY is unset: local servers want some key, check none (promptfoo)."""
DEFAULT_SYSTEM_PROMPT = (
    "Summarize the text the user sends in one or two sentences. Reply with the summary only."
)


EXTRA_BODY = "YAML only (a system file or the --config preset): a mapping of request fields"
RESERVED = frozenset({"model", "messages", "stream", "stream_options", "n", "temperature",
                      "top_p", "seed", "max_tokens", "stop"})  # fmt: skip
"""Request fields summarist sets itself: `extra_body` may not set them."""


def default_cache_dir() -> Path:
    """`$XDG_CACHE_HOME/summarist/openai`, else `~/.cache/summarist/openai`."""
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "summarist" / "openai"


@dataclass
class OpenAISettings:
    """How summarist asks an OpenAI-compatible endpoint (every system of one command)."""

    concurrency: int = 4
    """Requests in flight at once per endpoint."""
    max_retries: int = 3
    """Retries of a request after a timeout, a refused connection, 429 or 5xx."""
    retry_backoff_s: float = 1.0
    """First wait before a retry, in seconds; it doubles each retry (a Retry-After header wins)."""
    max_retry_wait_s: float = 60.0
    """Longest wait before one retry, Retry-After included, in seconds."""
    request_timeout_s: float = 120.0
    """Seconds one request may take before it counts as timed out (and is retried)."""
    temperature: float = 0.0
    """Sampling temperature sent with every request (0: greedy)."""
    top_p: float | None = None
    """Nucleus sampling mass sent with every request (default: not sent)."""
    request_seed: int | None = 1234
    """Seed sent with every request (`seed`), so servers that sample do so reproducibly."""
    max_tokens: int = 256
    """Most tokens of one summary (`max_tokens` of each request)."""
    stop: tuple[str, ...] = ()
    """A stop sequence sent with every request (YAML: a list of them)."""
    system_prompt: str | None = DEFAULT_SYSTEM_PROMPT
    """The system message before the text (none: no system message; summarist's own server
    ignores it and summarizes the last user message)."""
    prompt: str = "{text}"
    """The user message; {text} is replaced by the text to summarize."""
    extra_body: dict[str, Any] = field(default_factory=dict, metadata=cli(no_flag=EXTRA_BODY))
    """Other fields sent as they are with every request, e.g. {top_k: 40} for vLLM or llama.cpp,
    {min_tokens: 8} (YAML only)."""
    cache: bool = True
    """Keep every answer on disk and reuse it (a rerun asks nothing again; errors are not kept)."""
    cache_dir: Path | None = None
    """Where answers are kept (default: $XDG_CACHE_HOME/summarist/openai or ~/.cache/...)."""

    def __post_init__(self) -> None:
        if self.concurrency < 1 or self.max_retries < 0:
            raise ConfigError(
                f"--concurrency {self.concurrency} / --max-retries {self.max_retries}: "
                "need concurrency >= 1 and retries >= 0",
                "--concurrency 4 --max-retries 3",
            )
        if self.request_timeout_s <= 0 or self.retry_backoff_s < 0 or self.max_retry_wait_s < 0:
            raise ConfigError(
                "--request-timeout-s must be > 0, --retry-backoff-s and --max-retry-wait-s >= 0",
                "--request-timeout-s 120 --retry-backoff-s 1",
            )
        if not 0 <= self.temperature <= 2 or (self.top_p is not None and not 0 < self.top_p <= 1):
            raise ConfigError(
                f"--temperature {self.temperature} must be in [0, 2] and --top-p in (0, 1]",
                "--temperature 0 for greedy summaries",
            )
        if self.max_tokens < 1:
            raise ConfigError(f"--max-tokens must be >= 1, got {self.max_tokens}", "e.g. 256")
        if "{text}" not in self.prompt:
            raise ConfigError(
                f"--prompt {self.prompt!r} has no {{text}}", "e.g. --prompt 'Summarize: {text}'"
            )
        self.stop = (self.stop,) if isinstance(self.stop, str) else tuple(self.stop or ())
        self.extra_body = dict(self.extra_body or {})
        clash = sorted(set(self.extra_body) & RESERVED)
        if clash:
            raise ConfigError(
                f"extra_body sets {clash[0]!r}, which summarist sends itself",
                f"set it through its own setting, or drop it ({', '.join(sorted(RESERVED))})",
            )
        if self.cache_dir is not None:
            self.cache_dir = Path(self.cache_dir)

    def request_settings(self) -> dict[str, Any]:
        """The fields of each request body these settings decide (and the cache key holds)."""
        out: dict[str, Any] = {"temperature": self.temperature, "max_tokens": self.max_tokens}
        optional = {"top_p": self.top_p, "seed": self.request_seed}
        out.update({k: v for k, v in optional.items() if v is not None})
        if self.stop:
            out["stop"] = list(self.stop)
        return {**out, **self.extra_body}

    def recorded(self) -> dict[str, Any]:
        """What the run directory records of these settings (the cache folder as a string)."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["cache_dir"] = str(self.cache_dir or default_cache_dir())
        out["stop"] = list(self.stop)
        return out


@dataclass
class OpenAISystem:
    """One endpoint and model, as `openai:MODEL@BASE_URL` or a YAML file names it."""

    model: str
    """Model name sent in each request."""
    base_url: str
    """Base URL of the API, usually ending in /v1."""
    settings: OpenAISettings = field(default_factory=OpenAISettings)
    name: str | None = None
    """Name of the system in tables and run directories (default: openai-MODEL)."""
    api_key_env: str = API_KEY_ENV
    """Environment variable holding the API key (never written anywhere)."""

    def __post_init__(self) -> None:
        if not self.model.strip():
            raise ConfigError(
                "an openai: system names no model", "openai:MODEL@http://HOST:PORT/v1"
            )
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(
                f"{self.base_url!r} is not an http(s) URL",
                "e.g. openai:MODEL@http://127.0.0.1:8000/v1",
            )
        self.base_url = self.base_url.rstrip("/")

    @property
    def label(self) -> str:
        return self.name or f"openai-{self.model}"

    @property
    def api_key(self) -> str:
        return os.environ.get(self.api_key_env) or DUMMY_KEY

    def recorded(self) -> dict[str, Any]:
        """The system as the run directory records it: no key, only whether one was set."""
        return {
            "kind": "openai",
            "name": self.label,
            "model": self.model,
            "base_url": self.base_url,
            "api_key_env": self.api_key_env,
            "api_key_set": bool(os.environ.get(self.api_key_env)),
            "settings": self.settings.recorded(),
        }


def is_system_spec(spec: str) -> bool:
    """An external system: `openai:...`, or a YAML file describing one."""
    return spec.startswith(PREFIX) or (spec.endswith((".yaml", ".yml")) and Path(spec).is_file())


def parse_system(spec: str, settings: OpenAISettings | None = None) -> OpenAISystem:
    """`openai:MODEL@URL`, `openai:MODEL` (URL from OPENAI_BASE_URL) or a YAML file path.

    A YAML file has `model`, `base_url` (optional as above), `name`, `api_key_env` and any
    `OpenAISettings` field; its settings win over `settings` (the command's flags).
    """
    settings = settings or OpenAISettings()
    if spec.startswith(PREFIX):
        model, at, url = spec[len(PREFIX) :].partition("@")
        return OpenAISystem(model, url if at else base_url_from_env(), settings)
    return system_from_yaml(Path(spec), settings)


def base_url_from_env() -> str:
    return os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL


def system_from_yaml(path: Path, settings: OpenAISettings) -> OpenAISystem:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise ConfigError(f"{path}: cannot read this system file ({err})") from None
    if not isinstance(data, dict) or "model" not in data:
        raise ConfigError(f"{path}: a system file needs at least `model:`", "model: NAME")
    known = {f.name for f in fields(OpenAISettings)}
    top = {"model", "base_url", "name", "api_key_env"}
    unknown = sorted(set(data) - known - top)
    if unknown:
        from summarist.errors import did_you_mean

        raise ConfigError(
            f"{path}: unknown key '{unknown[0]}'{did_you_mean(unknown[0], known | top)}"
        )
    try:
        own = replace(settings, **{k: v for k, v in data.items() if k in known})
    except TypeError as err:
        raise ConfigError(f"{path}: {err}") from None
    return OpenAISystem(
        str(data["model"]),
        str(data.get("base_url") or base_url_from_env()),
        own,
        name=data.get("name"),
        api_key_env=str(data.get("api_key_env") or API_KEY_ENV),
    )
