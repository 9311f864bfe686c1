"""The page `h5eval dashboard` serves works with no internet: in real Chromium with every
request outside 127.0.0.1 refused, nothing fails, nothing logs an error, and the buttons'
Font Awesome icons are drawn from the fonts Voila serves itself."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from h5eval_widgets.serve import VoilaServer, dashboard_notebook
from tests.helpers import wait_until_no_process_mentions
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (make test installs it)"),
]


@pytest.fixture(scope="module")
def server():
    with VoilaServer(dashboard_notebook(None, None, demo=True)) as srv:
        folder = str(srv.folder)
        yield srv
    wait_until_no_process_mentions(folder, owner="kernel of the voila server")


def test_the_served_dashboard_asks_nothing_of_the_internet(server):
    """Check the demo dashboard's page, with every non-local request refused, makes no outside
    request, has no failed request and no console error, and its icons use Font Awesome."""
    from playwright.sync_api import sync_playwright

    outside, failed, errors = [], [], []

    def route(r):
        host = urlparse(r.request.url).hostname
        if host in ("127.0.0.1", "localhost") or r.request.url.startswith("data:"):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1200})
        page.route("**/*", route)
        page.on("requestfailed", lambda r: failed.append(f"{r.url} {r.failure}"))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(server.url, timeout=120_000)
        page.wait_for_selector("rect.heatmapcell", timeout=120_000)
        page.wait_for_selector("text=digits_cnn on digits_test: 719 samples", timeout=60_000)
        icon = page.locator(".widget-button i.fa").first
        family = icon.evaluate("el => getComputedStyle(el, '::before').fontFamily")
        loaded = page.evaluate("() => document.fonts.check('900 12px \"Font Awesome 5 Free\"')")
        browser.close()
    assert outside == [] and failed == [] and errors == []
    assert "Font Awesome" in family and loaded
