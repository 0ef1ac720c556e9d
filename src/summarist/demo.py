"""`make demo`: the main job, end to end and offline.

Today: export the redistributable ACLSum corpus and show what is in it (`data stats`).
"""

from __future__ import annotations

import sys
from pathlib import Path

from rich.console import Console

from summarist.data.builtin import export_aclsum
from summarist.data.config import DataConfig
from summarist.data.stats import render_stats, run_data_stats

OUT = Path("demo-output")


def main() -> int:
    console = Console()
    data_dir = export_aclsum(OUT / "data" / "aclsum")
    console.rule("[bold]1. data stats")
    stats = run_data_stats(DataConfig(data=[str(data_dir)]), plot=OUT / "lengths.png")
    console.print(render_stats(stats))
    console.rule("[bold]artefacts")
    console.print(f"data:               {data_dir}")
    console.print(f"length histograms:  {stats['plot']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
