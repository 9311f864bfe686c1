"""Take the README's screenshot: the demo dashboard in real Chromium, with a cell clicked.

Run from the repository root (needs chromium):  python scripts/screenshot.py
"""

from __future__ import annotations

import shutil
from pathlib import Path

from playwright.sync_api import sync_playwright

from h5eval_widgets.serve import VoilaServer, dashboard_notebook

OUT = Path(__file__).resolve().parent.parent / "docs" / "dashboard.png"


def main() -> None:
    chromium = shutil.which("chromium")
    with VoilaServer(dashboard_notebook(None, None, demo=True)) as srv, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1250, "height": 1100})
        page.goto(srv.url, timeout=120_000)
        page.wait_for_selector("text=digits_cnn on digits_test: 719 samples", timeout=120_000)
        page.locator(".widget-dropdown:has(label:text-is('model')) select").select_option(label="digits_weak_mlp")
        page.wait_for_selector("text=digits_weak_mlp on digits_test", timeout=60_000)
        box = page.locator("rect.heatmapcell").nth(8 * 10 + 1).bounding_box()
        page.mouse.click(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3)
        page.wait_for_selector("text=true 8 · predicted 1", timeout=30_000)
        page.wait_for_timeout(1500)
        page.screenshot(path=str(OUT), clip={"x": 0, "y": 0, "width": 1250, "height": 1000})
        browser.close()
    print("wrote", OUT)


if __name__ == "__main__":
    main()
