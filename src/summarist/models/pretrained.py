"""Loading a checkpoint by name: `from_pretrained`, offline-aware, with one-line errors.

Offline, a hub id is only usable when it is already in the local cache; otherwise the error says
so in one line instead of hanging in retries. Names resolve through `models.resolve`.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Iterator
from typing import Any

from summarist.errors import ModelError
from summarist.models.gguf import gguf_kwargs, is_gguf, require_gguf
from summarist.models.resolve import (
    check_resolved,
    is_local,
    offline_model_error,
    resolve_model_path,
)


def load_pretrained(loader: Any, path: str, name: str, **kwargs: Any) -> Any:
    """`loader(path)` (a transformers `from_pretrained`), offline-aware, with one-line errors.

    A `.gguf` file is loaded from its folder with `gguf_file=` (dequantized to fp32).
    """
    local = is_local(path)
    check_resolved(path, name)
    if local and is_gguf(path):
        require_gguf()
        path, extra = gguf_kwargs(path)
        kwargs = {**extra, **kwargs}
    if not local:
        from summarist.data.hub import hub_reachable

        if not hub_reachable():
            os.environ["HF_HUB_OFFLINE"] = "1"
            kwargs["local_files_only"] = True
    try:
        if "gguf_file" in kwargs:  # its tensor-by-tensor tqdm bar ignores transformers' switch
            with no_tqdm():
                return loader(path, **kwargs)
        return loader(path, **kwargs)
    except (ValueError, KeyError) as err:
        if "gguf_file" not in kwargs:
            raise
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ModelError(f"cannot load GGUF model '{name}': {first}") from err
    except OSError as err:
        if not local and kwargs.get("local_files_only"):
            raise offline_model_error(name) from err
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ModelError(f"cannot load model '{name}': {first}") from err


@contextlib.contextmanager
def no_tqdm() -> Iterator[None]:
    """No GGUF tensor-by-tensor bar in this block: transformers' GGUF reader calls tqdm
    directly (not its own switchable bar), and tqdm reads TQDM_DISABLE only when imported."""
    import transformers.modeling_gguf_pytorch_utils as reader

    bar = reader.tqdm
    reader.tqdm = functools.partial(bar, disable=True)
    try:
        yield
    finally:
        reader.tqdm = bar


def load_tokenizer(name: str, **kwargs: Any) -> Any:
    """AutoTokenizer for a short name, local directory or hub id (fast tokenizer preferred)."""
    from transformers import AutoTokenizer

    path = resolve_model_path(name)
    return load_pretrained(AutoTokenizer.from_pretrained, path, name, **kwargs)
