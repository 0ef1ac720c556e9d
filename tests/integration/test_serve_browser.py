"""The compare page in a real browser: Debian's chromium driven by playwright over a real server.

Loads `/`, enters the API key, uploads a .txt, keeps both served models checked, submits, sees
two summaries with token counts, latency and ROUGE, and copies one; the page asks for nothing
outside the server.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser import ARGS, CHROMIUM, sync_api
from tests.integration.test_serve_process import Server
from tests.tiny_models import tiny_model

TEXT = "Anna: Did you get the report? Ben: Yes, I got the report today. They meet at 2 pm."


def test_page_compares_two_models_side_by_side(tmp_path: Path) -> None:
    server = Server("--model", f"bart={tiny_model('bart')}", "--api-key", "secret-key")
    try:
        with sync_api.sync_playwright() as p:
            try:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            except sync_api.Error as err:
                pytest.skip(f"chromium at {CHROMIUM} does not start: {str(err).splitlines()[0]}")
            page = browser.new_page()
            requests: list[str] = []
            errors: list[str] = []
            page.on("request", lambda r: requests.append(r.url))
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(server.url + "/", wait_until="load")
            page.wait_for_function("document.getElementById('status').textContent.includes('key')")
            page.fill("#apikey", "secret-key")
            page.dispatch_event("#apikey", "change")
            page.wait_for_selector("input[name=model][value=bart]")
            assert page.locator("input[name=model]:checked").count() == 2
            upload = tmp_path / "dialogue.txt"
            upload.write_text(TEXT, encoding="utf-8")
            page.set_input_files("#file", str(upload))  # upload a .txt: it fills the text box
            page.wait_for_function("document.getElementById('text').value.length > 0")
            assert page.input_value("#text") == TEXT
            page.click("details:has(#reference) > summary")  # a person opens the box
            page.fill("#reference", "Ben got the report.")
            page.click("#go")
            page.wait_for_selector(".card[data-model=bart]", timeout=60_000)
            cards = page.locator(".card")
            assert [cards.nth(i).get_attribute("data-model") for i in range(2)] == ["t5", "bart"]
            t5 = page.locator(".card[data-model=t5]")
            assert t5.locator(".summary").inner_text().strip()  # t5's tiny model says something
            for i in range(2):
                meta = cards.nth(i).locator(".meta").inner_text()
                assert "source tokens" in meta and "ms" in meta and "ROUGE-1" in meta
            assert page.inner_text("#error") == ""
            t5.locator("button.copy").click()
            page.wait_for_function(
                "document.querySelector('.card[data-model=t5] button.copy').textContent === 'Copied'"
            )
            assert all(u.startswith(server.url) for u in requests), requests
            assert not errors, errors
            browser.close()
    finally:
        server.stop()
