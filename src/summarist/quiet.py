"""Library output: transformers' and huggingface_hub's progress bars and info logs, silenced.

The CLI silences them for a whole command (`silence_library_output`, skipped under `--debug`);
the library quiets one noisy block at a time (`quiet_transformers`: the loading report of a
model whose missing or unexpected weights are expected, such as a warm start).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator


def silence_library_output() -> None:
    """No transformers/huggingface_hub progress bars or info logs from here on (`--debug` skips this).

    Set through the environment so it holds for transformers imported later (the CLI imports it
    lazily), and directly when it is already imported.
    """
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    if "transformers" in sys.modules:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()


@contextlib.contextmanager
def quiet_transformers() -> Iterator[None]:
    """Silence transformers' loading report (the MISSING/UNEXPECTED table) for one block."""
    from transformers.utils import logging as hf_logging

    before = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(before)
        if bars:
            hf_logging.enable_progress_bar()
