"""What the running service knows: its config, loaded models and their batchers, readiness."""

from __future__ import annotations

from dataclasses import dataclass, field

from summarist.config.serve import ServeConfig
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

    @property
    def ready(self) -> bool:
        return not self.draining and len(self.batchers) == len(self.config.models)
