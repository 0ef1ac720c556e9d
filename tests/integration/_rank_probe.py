"""`summarist` as one rank of a launcher, recording what the rank saw (for the tests).

torchrun --standalone --nproc_per_node 2 tests/integration/_rank_probe.py train ...
writes $SUMMARIST_TEST_RANKS_DIR/rank-R.json after the command, from inside each rank.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def record() -> None:
    import torch.distributed as dist

    live = dist.is_available() and dist.is_initialized()
    info = {
        "rank": dist.get_rank() if live else 0,
        "world_size": dist.get_world_size() if live else 1,
        "backend": dist.get_backend() if live else None,
        "pid": os.getpid(),
    }
    out = Path(os.environ["SUMMARIST_TEST_RANKS_DIR"])
    out.mkdir(parents=True, exist_ok=True)
    (out / f"rank-{info['rank']}.json").write_text(json.dumps(info), "utf-8")


if __name__ == "__main__":
    from summarist.cli import main

    try:
        main(sys.argv[1:])
    finally:
        record()
