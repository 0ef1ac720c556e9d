"""What the running service knows: its config, loaded models and their batchers, readiness."""

from __future__ import annotations

from dataclasses import dataclass, field

from summarist.config.serve import ServeConfig
from summarist.serving.auth import APIKey
from summarist.serving.batcher import Batcher
from summarist.serving.prometheus import Metrics


@dataclass
class State:
    """What the app knows at run time: loaded models, their batchers, readiness."""

    config: ServeConfig
    metrics: Metrics = field(default_factory=Metrics)
    batchers: dict[str, Batcher] = field(default_factory=dict)
    error: str | None = None
    draining: bool = False
    """Set on SIGTERM/SIGINT (and at shutdown): `/readyz` answers 503 so balancers move away."""
    api_key: APIKey | None = None
    """The key check (`serve --api-key`); None: no key needed."""

    def __post_init__(self) -> None:
        if self.api_key is None and self.config.api_keys:
            self.api_key = APIKey(self.config.api_keys)

    @property
    def ready(self) -> bool:
        return not self.draining and len(self.batchers) == len(self.config.models)
