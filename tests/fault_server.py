"""A deliberately faulty OpenAI-compatible server: a small real process for the fault tests.

    python tests/fault_server.py PORT LOG_FILE [DELAY_S]

It summarizes a text by its first five words, after DELAY_S seconds. A marker in the user
message picks a fault: `[slow]` answers after 5 s, `[429-once]` answers 429 with `Retry-After:
1` the first time, `[500]` always 500, `[500-once]` 500 the first time, `[malformed]` a body that
is not JSON, `[empty]` an empty choice list, `[missing]` no `choices` at all. Every request's
text is appended to LOG_FILE (one JSON object a line: the text and the time) before it is
answered, so tests count how often, and when, each text was asked.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SEEN: dict[str, int] = {}
LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    log_file = ""
    delay = 0.0

    def log_message(self, *args: object) -> None:  # quiet
        pass

    def send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path.rstrip("/") == "/v1/models":
            self.send(200, json.dumps({"object": "list", "data": [{"id": "faulty-1"}]}).encode())
        else:
            self.send(404, b'{"error": {"message": "no such route"}}')

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        text = next(m["content"] for m in reversed(body["messages"]) if m["role"] == "user")
        with LOCK:
            SEEN[text] = SEEN.get(text, 0) + 1
            first = SEEN[text] == 1
            with open(self.log_file, "a", encoding="utf-8") as f:
                f.write(json.dumps({"text": text, "t": time.time()}) + "\n")
        if "[slow]" in text:
            time.sleep(5)
        elif "[429-once]" in text and first:
            return self.send(429, b'{"error": {"message": "slow down"}}', {"Retry-After": "1"})
        elif "[500]" in text or ("[500-once]" in text and first):
            return self.send(500, b'{"error": {"message": "boom"}}')
        elif "[malformed]" in text:
            return self.send(200, b'{"choices": [ not json')
        elif "[empty]" in text:
            return self.send(200, b'{"id": "x", "choices": []}')
        elif "[missing]" in text:
            return self.send(200, b'{"id": "x", "object": "chat.completion"}')
        time.sleep(self.delay)
        words = text.split()
        answer = {
            "id": "chatcmpl-fault",
            "object": "chat.completion",
            "model": "faulty-1",
            "system_fingerprint": "fp-fault",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": " ".join(words[:5])}}],
            "usage": {"prompt_tokens": len(words), "completion_tokens": min(5, len(words)),
                      "total_tokens": len(words) + min(5, len(words))},
        }  # fmt: skip
        self.send(200, json.dumps(answer).encode())


def main() -> None:
    port, log_file = int(sys.argv[1]), sys.argv[2]
    Handler.log_file = log_file
    Handler.delay = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
