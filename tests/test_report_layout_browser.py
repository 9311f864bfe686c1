"""The interactive HTML report fits the window in real Chromium (issue 32, items 5, 8 and 10): at
1280 and 1920 px, after a cell of the digits demo's matrix is clicked, the page is no wider than
the window, no picture or table is cut (each ends inside the window or scrolls inside its own
box), the console has no error, each curve's legend has a coloured swatch by each name, and the
slices table has one column per metric with its interval. One page load per width."""

from __future__ import annotations

import re

import pytest

from h5eval_widgets.core.results.palette import NEUTRAL, SERIES
from tests.test_browser import CHROMIUM, browser  # noqa: F401  (browser: a fixture)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (make test installs it)"),
]

#: For each image, table and curve: its right edge, the window's width, and the right edge of
#: the nearest box around it that scrolls sideways (null when none).
FITS = """() => {
  const out = [];
  for (const el of document.querySelectorAll("img, table, svg.curve")) {
    const r = el.getBoundingClientRect();
    let box = el.parentElement, scroller = null;
    for (; box && box !== document.body; box = box.parentElement) {
      const o = getComputedStyle(box).overflowX;
      if (o === "auto" || o === "scroll") { scroller = box.getBoundingClientRect(); break; }
    }
    out.push({tag: el.tagName, label: el.getAttribute("aria-label") || el.className.baseVal || el.className || "",
              left: r.left, right: r.right, scroller: scroller && {left: scroller.left, right: scroller.right}});
  }
  return out;
}"""

#: Each curve's legend: per item, its name and the computed fill and stroke of its swatch.
LEGENDS = """() => [...document.querySelectorAll("svg.curve")].map(svg => ({
  title: svg.getAttribute("aria-label"),
  series: [...svg.querySelectorAll("polyline:not(.diagonal)")].map(p => getComputedStyle(p).stroke),
  items: [...svg.querySelectorAll(".legend-item")].map(g => {
    const s = g.querySelector(".swatch"), t = g.querySelector("text"), cs = s && getComputedStyle(s);
    const near = s && t && Math.abs(s.getBBox().y + s.getBBox().height / 2 - (t.getBBox().y + t.getBBox().height / 2)) < 8
      && t.getBBox().x - (s.getBBox().x + s.getBBox().width) < 12;
    return {name: t && t.textContent, fill: cs && cs.fill, stroke: cs && cs.stroke, near: !!near};
  })
}))"""


def _cut(boxes: list[dict], inner: int) -> list[dict]:
    """The boxes of FITS that end past the window, and do not scroll in a box inside it."""
    cut = []
    for b in boxes:
        inside = b["left"] >= -0.5 and b["right"] <= inner + 0.5
        box = b["scroller"]
        if not (inside or (box is not None and -0.5 <= box["left"] and box["right"] <= inner + 0.5)):
            cut.append(b)
    return cut


def _rgb(colour: str) -> str:
    return "rgb({}, {}, {})".format(*(int(colour[i : i + 2], 16) for i in (1, 3, 5)))


@pytest.fixture(scope="module")
def digits_page(tmp_path_factory):
    """The digits demo's report (the test set given: cells list pictures)."""
    from h5eval_widgets import load_demo

    d = load_demo()
    ev = d.evaluate("digits_cnn", progress=False)
    path = tmp_path_factory.mktemp("layout") / "digits.html"
    path.write_text(ev.to_html(data=d.dataset("digits_cnn")), encoding="utf-8")
    return ev, path


@pytest.mark.parametrize("width", [1280, 1920])
def test_the_report_fits_the_window_with_legends_and_one_column_per_slice_metric(digits_page, browser, width):  # noqa: F811
    """Check at ``width`` x 1000, after clicking the cell true 8 / predicted 1 (its pictures
    drawn): scrollWidth <= innerWidth; every image, table and curve ends inside the window or
    inside a box that scrolls sideways (itself inside the window); no console error; each
    curve's legend item has a swatch of a palette colour beside its name (the series' swatches
    in the colours of their lines, the diagonal's NEUTRAL); the "ink" slices table has one
    column per metric, no '_low'/'_high' column, and each metric cell holds its interval. Then,
    at 400 px (narrower than the slices table and the curves), the page still fits and a table scrolls in its
    own box."""
    ev, path = digits_page
    page = browser.new_page(viewport={"width": width, "height": 1000})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(path.as_uri())
        page.locator("td.cell[data-true='8'][data-predicted='1']").click()
        page.wait_for_selector("#samples-panel .card img")
        assert page.locator("#samples-panel .card").count() == 4

        inner, scroll_width = page.evaluate("[window.innerWidth, document.documentElement.scrollWidth]")
        assert inner == width and scroll_width <= inner
        boxes = page.evaluate(FITS)
        assert sum(b["tag"] == "IMG" for b in boxes) == 4 and sum(b["tag"] == "svg" for b in boxes) == 3
        assert _cut(boxes, inner) == []

        legends = page.evaluate(LEGENDS)
        assert [g["title"] for g in legends][:2] == ["ROC curve", "Precision-recall curve"]
        palette = {_rgb(c) for c in (*SERIES, NEUTRAL)}
        for g in legends:
            items = g["items"]
            assert len(items) >= len(g["series"]) >= 1 and all(i["name"] and i["near"] for i in items), g["title"]
            swatch = [i["stroke"] if i["stroke"] != "none" else i["fill"] for i in items]
            assert set(swatch) <= palette, g["title"]
            lines = [s for s in g["series"] if s != "none"]
            if lines and len(lines) == len(items) - 1:  # a line per series, then the diagonal
                assert swatch[:-1] == lines and swatch[-1] == _rgb(NEUTRAL), g["title"]
        roc = next(g for g in legends if g["title"] == "ROC curve")
        assert [i["name"] for i in roc["items"]] == [str(c) for c in ev.classes] + ["chance"]

        table = page.locator("h3:text-is('ink') + .scroll table")
        header = table.locator("thead th").all_inner_texts()
        assert header[0] == "slice" and "Accuracy" in header and "ROC AUC" in header
        assert not any(re.search(r"_(low|high)$", h) for h in page.locator("table th").all_inner_texts())
        for metric in ("Accuracy", "F1 (macro)", "ROC AUC", "Error rate"):
            k = header.index(metric)
            texts = table.locator(f"tbody tr td:nth-child({k + 1})").all_inner_texts()
            assert len(texts) == 4 and all(re.fullmatch(r"\S+ \[\S+, \S+\]", t) for t in texts), (metric, texts)
        labels = table.locator("tbody th").all_inner_texts()
        assert all(re.fullmatch(r"ink in [\[(]0\.\d{3}, 0\.\d{3}\]", t) for t in labels), labels

        # narrower than the tables and curves: the page still fits, tables scroll, curves shrink
        page.set_viewport_size({"width": 400, "height": 1000})
        inner, scroll_width = page.evaluate("[window.innerWidth, document.documentElement.scrollWidth]")
        assert scroll_width <= inner == 400
        assert _cut(page.evaluate(FITS), inner) == []
        assert page.evaluate("[...document.querySelectorAll('.scroll')].some(b => b.scrollWidth > b.clientWidth)")
        assert errors == []
    finally:
        page.close()
