"""The compare page's "Check faithfulness" box in a real browser: unsupported entities marked.

An in-process server (uvicorn in a thread, loopback only) serves a stand-in model whose summary
names a person the text does not; Debian's chromium, driven by playwright, ticks the box and
submits, and the card must mark that name red and the supported ones green.
"""

from __future__ import annotations

import socket
import threading
import time

import pytest

from tests.browser import ARGS, CHROMIUM, sync_api

pytest.importorskip("uvicorn", reason="the serve extra is not installed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_page_marks_entities_the_text_does_not_have() -> None:
    import uvicorn

    from summarist.serving import create_app
    from tests.unit._serving import config
    from tests.unit.test_evaluation_faithfulness import INVENTED, _Inventing

    port = _free_port()
    app = create_app(config("m1"), load=lambda spec: _Inventing())
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}/", wait_until="load")
            page.wait_for_function("document.querySelectorAll('input[name=model]').length > 0")
            deadline = time.monotonic() + 60
            while "loading" in page.inner_text("#models") and time.monotonic() < deadline:
                time.sleep(0.2)
                page.reload(wait_until="load")
            page.fill("#text", "Anna: Can you come at 9 pm? Ben: Sure, Anna, see you at 9.")
            page.check("#faithfulness")
            page.click("#go")
            page.wait_for_selector("mark.unsup", timeout=60_000)
            assert page.inner_text("mark.unsup") == INVENTED
            assert {m.inner_text() for m in page.query_selector_all("mark.sup")} == {"Anna", "9 pm"}
            assert "1 unsupported" in page.inner_text("#results")
            assert "faithfulness:" in page.inner_text("#results")
            browser.close()
    finally:
        server.should_exit = True
        thread.join(10)
