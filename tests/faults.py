"""Fault injection for file writers: the kernel cuts every write after N bytes.

`writes_fail_after(n)` lowers this process's RLIMIT_FSIZE to n bytes: a write that would grow a
file past n writes up to n bytes, then fails with EFBIG (Python ignores SIGXFSZ, so it is an
OSError instead of a kill). Unlike monkeypatching, it reaches writers in any language: Python's
file objects, torch's C++ zip writer, safetensors' Rust and matplotlib's PNG encoder alike.
A non-atomic writer (`path.write_text`, `open(path, "w")`) leaves a torn n-byte file behind.
"""

from __future__ import annotations

import hashlib
import re
import resource
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

# How each layer reports the cut: OSError EFBIG (Python, C), FileTooLarge (Rust), and torch's
# zip writer, which sees the short write as its file position falling behind.
CUT = re.compile(r"File too large|FileTooLarge|Errno 27|unexpected pos \d+ vs \d+")


@contextmanager
def writes_fail_after(nbytes: int) -> Iterator[None]:
    """Make every write past `nbytes` bytes of any file fail (EFBIG) inside the block."""
    assert nbytes > 0, "some bytes must get written before the fault"
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (nbytes, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, handler)


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under `folder` (hidden temp files too) -> sha256 of its bytes."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(Path(folder).rglob("*"))
        if p.is_file()
    }


def cut_mid_write(write: Callable[[], object], nbytes: int) -> None:
    """Run `write` with writes cut after `nbytes`; it must fail with the injected fault."""
    with pytest.raises(Exception) as err, writes_fail_after(nbytes):
        write()
    assert CUT.search(f"{err.value!r} {err.value}"), f"failed for another reason: {err.value!r}"


def assert_cut_write_keeps_old(folder: Path, write: Callable[[], object], nbytes: int) -> None:
    """A write cut after `nbytes` leaves `folder` byte for byte as it was: no torn file, no debris."""
    before = snapshot(folder)
    assert before, "write the previous complete files first"
    cut_mid_write(write, nbytes)
    assert snapshot(folder) == before
