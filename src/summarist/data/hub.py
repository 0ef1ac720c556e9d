"""Load a Hugging Face Hub dataset through `datasets`, failing fast when offline."""

from __future__ import annotations

import logging
import os
import socket
from typing import Any
from urllib.parse import urlparse

from summarist.errors import DataError, OfflineError

log = logging.getLogger(__name__)


def hub_reachable(timeout: float = 3.0) -> bool:
    """One quick TCP connect to the hub endpoint; no retries."""
    if os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false", "False"):
        return False
    host = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co")).hostname
    try:
        with socket.create_connection((host or "huggingface.co", 443), timeout=timeout):
            return True
    except OSError:
        return False


def load_hub_dataset(spec: str) -> dict[str, list[dict[str, Any]]]:
    """`name[:config]` → rows per split (Python lists: small datasets only)."""
    return {split: ds.to_list() for split, ds in load_hub_splits(spec).items()}


def load_hub_splits(spec: str) -> dict[str, Any]:
    """`name[:config]` → `datasets.Dataset` per split (Arrow, memory-mapped by `datasets`).

    Offline, only a local `datasets` cache can serve it.
    """
    name, _, config = spec.partition(":")
    try:
        import datasets
    except ImportError:
        raise DataError(
            f"'{spec}' looks like a Hugging Face dataset id, which needs the `datasets` package",
            "pip install 'summarist[train]', or pass a local file",
        ) from None
    online = hub_reachable()
    if not online:
        _force_offline()
    try:
        dsd = datasets.load_dataset(name, config or None)
    except Exception as err:
        if not online:
            raise OfflineError(
                f"dataset '{spec}' needs the Hugging Face Hub, which is not reachable, "
                "and it is not in the local cache",
                "connect to the network, or download it once and pass the local files with --data",
            ) from err
        raise DataError(f"cannot load dataset '{spec}': {_first_line(err)}") from err
    return {split: dsd[split] for split in dsd}


def _force_offline() -> None:
    """Make `datasets`/`huggingface_hub` use the cache only (their env flags are read at import)."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["HF_DATASETS_OFFLINE"] = "1"
    try:
        import datasets.config
        import huggingface_hub.constants

        datasets.config.HF_HUB_OFFLINE = True
        huggingface_hub.constants.HF_HUB_OFFLINE = True
    except (ImportError, AttributeError):  # pragma: no cover - older libraries
        log.debug("could not switch datasets to offline mode", exc_info=True)


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__
