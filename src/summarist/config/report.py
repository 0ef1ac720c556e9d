"""Settings of `summarist report`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from summarist.config.fields import cli
from summarist.errors import ConfigError


@dataclass
class ReportConfig:
    """`summarist report RUN_DIR...`: one HTML page about one or more runs."""

    run_dirs: list[Path] = field(metadata=cli(argument=True, metavar="RUN_DIR"))
    """Run directories to report on."""
    out: Path | None = field(default=None, metadata=cli(short="-o"))
    """HTML file (default: RUN_DIR/report.html for one run, else ./report.html)."""
    title: str | None = None
    """Page title (default: from the runs)."""

    def __post_init__(self) -> None:
        if not self.run_dirs:
            raise ConfigError("no run directory given", "summarist report RUN_DIR")
        if self.out is None:
            one = len(self.run_dirs) == 1
            self.out = self.run_dirs[0] / "report.html" if one else Path("report.html")
