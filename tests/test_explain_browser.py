"""Issue 34, item 2, in Chromium: a metric's button in the summary, pressed with Enter or clicked,
shows its explanation beside the table, and the matrix outlines the cells its terms count."""

from __future__ import annotations

import pytest

from h5eval_widgets.core.results.names import fmt
from tests.test_browser import (  # noqa: F401  (browser, server, page: fixtures)
    CHROMIUM,
    browser,
    choose,
    page,
    server,
    wait_until_settled,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (make test installs it)"),
]

#: The boxes of the outlines drawn in the palette's EXPLAINED colour (#009E73), and whether dotted.
OUTLINES_JS = """() => [...document.querySelectorAll('.h5eval-matrix path.line')]
    .filter(p => getComputedStyle(p).stroke === 'rgb(0, 158, 115)' && p.getBoundingClientRect().width > 0
                 && p.checkVisibility({checkOpacity: true, checkVisibilityCSS: true}))
    .map(p => { const b = p.getBoundingClientRect();
                return {x: b.x, y: b.y, w: b.width, h: b.height,
                        dotted: getComputedStyle(p).strokeDasharray !== 'none'}; })"""


def _cell_box(pg, i: int, j: int, k: int = 10) -> dict:
    return pg.locator(".h5eval-matrix rect.heatmapcell").nth(i * k + j).bounding_box()


def _inside(outer: dict, x: float, y: float) -> bool:
    return outer["x"] <= x <= outer["x"] + outer["width"] and outer["y"] <= y <= outer["y"] + outer["height"]


def test_enter_on_a_metric_shows_its_explanation_and_outlines_its_cells(page, demo):  # noqa: F811
    """Check on the digits demo: with focus class 8, Enter on "F1 (macro)" shows its formula and
    value and outlines 8's TP cell (solid) and its column and row (dotted); a click on "Accuracy"
    outlines the ten diagonal cells; "close" takes every outline away."""
    from playwright.sync_api import expect

    ev = demo.evaluate("digits_cnn", progress=False)
    choose(page, "focus class", "8")
    wait_until_settled(page)
    page.locator("button[data-choice='f1_macro']").focus()
    page.keyboard.press("Enter")
    panel = page.locator(".h5eval-explanation")
    expect(panel).to_contain_text("How F1 (macro) is made", timeout=30_000)
    expect(panel).to_contain_text(fmt(ev.scores["f1_macro"]))
    page.wait_for_function(f"({OUTLINES_JS})().length == 3", timeout=30_000)
    outlines = page.evaluate(OUTLINES_JS)
    solid = [o for o in outlines if not o["dotted"]]
    dotted = [o for o in outlines if o["dotted"]]
    assert len(solid) == 1 and len(dotted) == 2
    tp = _cell_box(page, 8, 8)
    s = solid[0]
    assert _inside(tp, s["x"] + s["w"] / 2, s["y"] + s["h"] / 2) and s["w"] < tp["width"] * 1.1
    column, row = sorted(dotted, key=lambda o: o["w"])  # the column is narrow and tall, the row wide
    assert _inside(_cell_box(page, 0, 8), column["x"] + column["w"] / 2, column["y"] + 2)
    assert _inside(_cell_box(page, 9, 8), column["x"] + column["w"] / 2, column["y"] + column["h"] - 2)
    assert _inside(_cell_box(page, 8, 0), row["x"] + 2, row["y"] + row["h"] / 2)
    assert _inside(_cell_box(page, 8, 9), row["x"] + row["w"] - 2, row["y"] + row["h"] / 2)
    expect(page.locator(".h5eval-matrix-legend")).to_contain_text("counted in the explained metric (class 8")

    page.locator("button[data-choice='accuracy']").click()
    expect(panel).to_contain_text("How Accuracy is made", timeout=30_000)
    page.wait_for_function(f"({OUTLINES_JS})().length == 10", timeout=30_000)
    for o in page.evaluate(OUTLINES_JS):
        assert not o["dotted"]
        assert any(_inside(_cell_box(page, i, i), o["x"] + o["w"] / 2, o["y"] + o["h"] / 2) for i in range(10))

    panel.get_by_role("button", name="close").click()
    page.wait_for_function(f"({OUTLINES_JS})().length == 0", timeout=30_000)
    expect(panel).to_be_hidden()
