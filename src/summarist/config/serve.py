"""Settings of `summarist serve`: what is served, where, and the limits that keep it safe.

Every limit has a safe default. max_wait_ms = 0 was chosen by `bench/bench_serve.py --max-wait-ms
0,5,20` (docs/serving.md): waiting never raised throughput at 4 or 16 clients, because requests
that arrive while a batch runs form the next batch anyway, and it adds its wait at 1 client.
"""

from __future__ import annotations

import ipaddress
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from summarist.config.fields import cli
from summarist.errors import ConfigError, check_choice

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
HOSTNAME = re.compile(r"^(?=.*[A-Za-z-])[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")
API_KEY_ENV = "SUMMARIST_API_KEY"
LogLevel = Literal["critical", "error", "warning", "info", "debug", "trace"]


@dataclass(frozen=True)
class ServedModel:
    """One model under a name: `name=path` on the command line, or a path (named by its base)."""

    name: str
    path: str

    @classmethod
    def parse(cls, spec: str) -> ServedModel:
        name, sep, path = spec.partition("=")
        if not sep:
            path = spec
            name = Path(spec.rstrip("/")).name or spec
            if name == "model":  # runs/x/model -> x
                name = Path(spec.rstrip("/")).parent.name or name
        if not NAME.match(name):
            raise ConfigError(
                f"--model {spec}: '{name}' is not a usable model name",
                "name it explicitly: --model NAME=PATH (letters, digits, . _ -)",
            )
        return cls(name, path)


@dataclass
class ServeConfig:
    """Typed settings of the HTTP service (`summarist serve`)."""

    models: list[ServedModel] = field(
        default_factory=list,
        metadata=cli(flag="--model", short="-m", parse=ServedModel.parse, metavar="[NAME=]PATH"),
    )
    """Models to serve: a model, run or export directory (or short name), NAME=PATH to name it."""
    backend: str = "torch"
    """Generation backend of every model: torch or ctranslate2."""
    quantize: str | None = None
    """int8 or bf16 weights (default: as saved)."""
    device: str | None = None
    """Device: cpu, cuda, ... (default: CPU)."""
    host: str = "127.0.0.1"
    """Address to bind; 0.0.0.0 exposes the service to the network."""
    port: int = 8000
    """TCP port."""
    api_keys: list[str] = field(default_factory=list, metadata=cli(flag="--api-key"))
    """Accepted API keys (also SUMMARIST_API_KEY, comma-separated); none: no key needed."""
    cors_origins: list[str] = field(default_factory=list, metadata=cli(flag="--cors-origin"))
    """Origins allowed by CORS (none: CORS off)."""
    max_wait_ms: float = 0.0
    """Longest time a request waits for others to share its batch, in milliseconds (0: none;
    requests that arrive while a batch runs are batched together anyway)."""
    max_batch_texts: int = 16
    """Most texts in one generation batch."""
    max_batch_tokens: int = 8192
    """Most source tokens in one generation batch."""
    max_queue: int = 256
    """Most texts waiting per model; past it requests get 503 with Retry-After."""
    max_texts: int = 32
    """Most texts in one request (413 past it)."""
    max_chars: int = 50_000
    """Most characters in one text (413 past it); longer ones are summarized by map-reduce."""
    max_body_bytes: int = 2_000_000
    """Largest request body in bytes (413 past it)."""
    timeout_s: float = 60.0
    """Deadline of a request in seconds (504 past it); a request may ask for less."""
    max_new_tokens: int = 256
    """Cap on a request's max_new_tokens."""
    max_beams: int = 8
    """Cap on a request's num_beams."""
    drain_s: float = 30.0
    """On SIGTERM: seconds to finish in-flight requests before exiting."""
    log_level: LogLevel = "info"
    """uvicorn log level (--debug sets debug)."""

    def __post_init__(self) -> None:
        if not self.models:
            raise ConfigError("no model to serve", "summarist serve --model PATH")
        names = [m.name for m in self.models]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ConfigError(
                f"two models are served as '{dupes[0]}'", "name them: --model NAME=PATH"
            )
        positive = {
            "--max-batch-texts": self.max_batch_texts,
            "--max-batch-tokens": self.max_batch_tokens,
            "--max-queue": self.max_queue,
            "--max-texts": self.max_texts,
            "--max-chars": self.max_chars,
            "--max-body-bytes": self.max_body_bytes,
            "--max-new-tokens": self.max_new_tokens,
            "--max-beams": self.max_beams,
        }
        for flag, value in positive.items():
            if value < 1:
                raise ConfigError(f"{flag} must be >= 1, got {value}")
        if self.max_wait_ms < 0 or self.timeout_s <= 0 or self.drain_s < 0:
            raise ConfigError(
                "--max-wait-ms and --drain-s must be >= 0 and --timeout-s > 0",
                "--max-wait-ms 5 --timeout-s 60 --drain-s 30",
            )
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"--port {self.port} is not a TCP port", "--port 8000")
        if any(not k or k != k.strip() for k in self.api_keys):
            raise ConfigError(
                "an API key is empty or has surrounding spaces", "--api-key KEY (no spaces)"
            )
        check_host(self.host)
        check_choice("--log-level", self.log_level, typing.get_args(LogLevel))

    @property
    def names(self) -> list[str]:
        return [m.name for m in self.models]


def check_host(host: str) -> None:
    """An IP address, `localhost` or a host name; not a URL, not `host:port`."""
    try:
        ipaddress.ip_address(host)
        return
    except ValueError:
        pass
    if HOSTNAME.match(host) and not host.replace(".", "").isdigit():
        return
    raise ConfigError(
        f"--host {host!r} is not an address to bind",
        "use an IP address such as 127.0.0.1 or 0.0.0.0 (the port goes in --port)",
    )


def keys_from_env(value: str | None) -> list[str]:
    """API keys in SUMMARIST_API_KEY: comma-separated, blanks ignored."""
    return [k.strip() for k in (value or "").split(",") if k.strip()]
