"""The page `h5eval dashboard` serves works with no internet: in real Chromium with every
request outside 127.0.0.1 refused, nothing fails, nothing logs an error, and, with every tab
opened, every web font the page draws text with is one it loaded from Voila itself (the
buttons' Font Awesome icons among them)."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from h5eval_widgets.serve import VoilaServer, dashboard_notebook
from tests.helpers import wait_until_no_process_mentions
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, wait_until_settled

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


def fonts_drawn(page) -> tuple[dict[str, bool], set[str]]:
    """Every font Chromium drew the page's text with (pseudo-elements' text included), as
    ``{family: is a web font}``, and the fonts of the Font Awesome icons' glyphs (the
    ``::before`` of each ``i.fa``): DevTools' ``CSS.getPlatformFontsForNode`` on every node
    that holds text."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument", {"depth": -1, "pierce": True})["root"]
    holders, stack = [], [(root, False)]
    while stack:
        node, icon = stack.pop()
        kids = node.get("children", [])
        if any(k["nodeType"] == 3 and k["nodeValue"].strip() for k in kids):
            holders.append((node["nodeId"], False))
        attrs = dict(zip(node.get("attributes", [])[::2], node.get("attributes", [])[1::2]))
        is_icon = node.get("localName") == "i" and "fa" in attrs.get("class", "").split()
        holders += [(p["nodeId"], is_icon) for p in node.get("pseudoElements", [])]
        stack += [(k, False) for k in kids + node.get("pseudoElements", [])]
        if "contentDocument" in node:
            stack.append((node["contentDocument"], False))
    drawn: dict[str, bool] = {}
    icons: set[str] = set()
    for node_id, is_icon in holders:
        try:
            fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node_id})["fonts"]
        except Exception:  # a node not laid out (display: none) draws nothing
            continue
        for f in fonts:
            drawn[f["familyName"]] = drawn.get(f["familyName"], False) or f["isCustomFont"]
            if is_icon:
                icons.add(f["familyName"] + (" (web font)" if f["isCustomFont"] else " (system font)"))
    cdp.detach()
    return drawn, icons


def test_the_served_dashboard_asks_nothing_of_the_internet(server):
    """Check the demo dashboard's page, with every non-local request refused and every tab
    opened (a tab's text may ask for more fonts), makes no outside request, has no failed
    request and no console error; that every web font it draws text with is a face of
    ``document.fonts`` loaded from 127.0.0.1; and that its icons are drawn with Font Awesome."""
    from playwright.sync_api import sync_playwright

    outside, failed, errors, fonts = [], [], [], []

    def route(r):
        host = urlparse(r.request.url).hostname
        if host in ("127.0.0.1", "localhost") or r.request.url.startswith("data:"):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    def font_response(r):
        if r.request.resource_type == "font":
            fonts.append((r.url, r.status))

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1200})
        page.route("**/*", route)
        page.on("requestfailed", lambda r: failed.append(f"{r.url} {r.failure}"))
        page.on("response", font_response)
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(server.url, timeout=120_000)
        page.wait_for_selector("rect.heatmapcell", timeout=120_000)
        page.wait_for_selector("text=digits_cnn on digits_test: 719 samples", timeout=60_000)
        tabs = page.locator(".h5eval-dashboard .lm-TabBar-tab")
        opened = 0
        while opened < tabs.count():  # tabs inside tabs show up as their parents open
            tabs.nth(opened).click()
            wait_until_settled(page)
            opened += 1
        page.evaluate("document.fonts.ready")
        drawn, icons = fonts_drawn(page)
        faces = page.evaluate("() => [...document.fonts].map(f => [f.family.replace(/[\"']/g, ''), f.status])")
        browser.close()
    assert opened >= 5
    assert outside == [] and failed == [] and errors == []
    assert fonts and all(urlparse(url).hostname == "127.0.0.1" and status == 200 for url, status in fonts), fonts
    loaded = {family for family, status in faces if status == "loaded"}
    assert [f for f, status in faces if status == "error"] == []
    # a web font's own name adds its style to the declared family ("Font Awesome 5 Free Solid")
    web = {family for family, custom in drawn.items() if custom}
    assert icons and all(f.startswith("Font Awesome 5 Free") and f.endswith("(web font)") for f in icons), icons
    assert [f for f in web if not any(f.startswith(family) for family in loaded)] == [], (web, loaded)
