"""Take the README's screenshots: the demo dashboard in real Chromium, with a cell clicked.

Run from the repository root (needs chromium):  python scripts/screenshot.py

Writes ``docs/dashboard.png`` (1250 px wide, the README's picture), the page at 1280 and 1920
px (``docs/dashboard-1280.png``, ``docs/dashboard-1920.png``) to check the layout, and at 1280
px under Voila's dark theme (``docs/dashboard-dark.png``); then the digits CNN's cell true 8 /
predicted 1 with "show saliency" on and one sample's details (``docs/saliency.png``), and the
embedding map (WebGL) with that cell's samples highlighted (``docs/embedding-map.png``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from playwright.sync_api import sync_playwright

from h5eval_widgets.serve import VoilaServer, dashboard_notebook

DOCS = Path(__file__).resolve().parent.parent / "docs"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def shoot(browser, url: str, width: int, out: Path, *, clip_height: int | None = None) -> None:
    """The demo with the weak digits model chosen and its cell true 8 / predicted 1 clicked."""
    page = browser.new_page(viewport={"width": width, "height": 1100})
    page.goto(url, timeout=120_000)
    page.wait_for_selector("text=digits_cnn on digits_test: 719 samples", timeout=120_000)
    page.locator(".widget-dropdown:has(label:text-is('model')) select").select_option(label="digits_weak_mlp")
    page.wait_for_selector("text=digits_weak_mlp on digits_test", timeout=60_000)
    box = page.locator("rect.heatmapcell").nth(8 * 10 + 1).bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3)
    page.wait_for_selector("text=true 8 · predicted 1", timeout=30_000)
    page.wait_for_timeout(1500)
    if clip_height:
        page.screenshot(path=str(out), clip={"x": 0, "y": 0, "width": width, "height": clip_height})
    else:
        page.screenshot(path=str(out), full_page=True)
    page.close()
    print("wrote", out)


def shoot_insight(browser, url: str) -> None:
    """Saliency over a cell's samples, and the embedding map highlighting them (a tall page:
    the map's tab is below the samples)."""
    page = browser.new_page(viewport={"width": 1400, "height": 2400})
    page.goto(url, timeout=120_000)
    page.wait_for_selector("text=digits_cnn on digits_test: 719 samples", timeout=120_000)
    box = page.locator("rect.heatmapcell").nth(8 * 10 + 1).bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3)
    page.wait_for_selector("text=true 8 · predicted 1", timeout=30_000)
    page.get_by_role("button", name="show saliency").click()
    page.wait_for_selector("img.h5eval-saliency", timeout=60_000)
    page.locator(".widget-vbox:has(> .widget-button:text-is('details'))").nth(0).locator(
        "> .widget-button:text-is('details')"
    ).click()
    page.wait_for_selector(".h5eval-saliency-detail", timeout=30_000)
    page.wait_for_timeout(1500)
    samples = page.locator(".widget-vbox", has=page.locator("b", has_text="Samples")).last
    samples.screenshot(path=str(DOCS / "saliency.png"))
    print("wrote", DOCS / "saliency.png")
    page.locator(".lm-TabBar-tab", has_text="Embedding map").click()
    # the jupyter-scatter widget: the element holding regl-scatterplot's API, once drawn
    find = "() => [...document.querySelectorAll('div')].find(e => e.api && e.api.get)"
    page.wait_for_function(f"() => {{ const c = ({find})(); return c && c.api.get('isPointsDrawn'); }}", timeout=60_000)
    page.evaluate(f"() => ({find})().scrollIntoView({{block: 'center'}})")
    page.wait_for_timeout(3000)  # the cell's samples (the selection) highlighted, the rest dimmed
    b = page.evaluate(
        f"() => {{ const r = ({find})().getBoundingClientRect(); "
        "return {x: r.x, y: r.y, width: r.width, height: r.height}; }"
    )
    page.screenshot(
        path=str(DOCS / "embedding-map.png"),
        clip={"x": b["x"] - 10, "y": b["y"] - 90, "width": b["width"] + 20, "height": b["height"] + 150},
    )
    print("wrote", DOCS / "embedding-map.png")
    page.close()


def main() -> None:
    chromium = shutil.which("chromium")
    with VoilaServer(dashboard_notebook(None, None, demo=True)) as srv, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=ARGS)
        shoot(browser, srv.url, 1250, DOCS / "dashboard.png", clip_height=1000)
        for width in (1280, 1920):
            shoot(browser, srv.url, width, DOCS / f"dashboard-{width}.png")
        shoot(browser, srv.url + "?theme=dark", 1280, DOCS / "dashboard-dark.png")
        shoot_insight(browser, srv.url)
        browser.close()


if __name__ == "__main__":
    main()
