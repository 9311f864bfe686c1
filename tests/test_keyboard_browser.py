"""The demo dashboard in real Chromium with the keyboard only: Tab to the confusion matrix, arrows
to a cell, Enter to list its samples, then through the samples and their details, with no mouse
event at all (a listener on the document counts them)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from h5eval_widgets.core.results.palette import contrast
from h5eval_widgets.views._matrix import cell_colours
from tests.test_browser import (  # noqa: F401  (fixtures)
    CHROMIUM,
    browser,
    card_number,
    page,
    sample_cards,
    server,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (make test installs it)"),
]

#: Counts the pointer's events on the page from now on: a press of the mouse (mousedown,
#: pointerdown, mouseup) and a click made by a pointer. (A button that Enter or Space activates
#: gets a trusted click too, with no pointer type: that one is the keyboard's, not counted.)
COUNT_POINTER_JS = """() => {
    window.__pointerEvents = [];
    const note = (e) => {
        if (!e.isTrusted) return;
        if (e.type === 'click' && !(e.pointerType || e.detail > 0)) return;
        window.__pointerEvents.push(e.type);
    };
    for (const t of ['mousedown', 'mouseup', 'pointerdown', 'pointerup', 'click', 'dblclick', 'contextmenu']) {
        document.addEventListener(t, note, true);
    }
}"""

#: What has the focus: its classes, tag, text and, in the matrix, the cell the grid points at.
FOCUSED_JS = """() => {
    const el = document.activeElement;
    const cell = el && el.getAttribute('aria-activedescendant');
    return {
        classes: [...(el?.classList || [])], tag: el?.tagName, text: (el?.textContent || '').trim(),
        role: el?.getAttribute('role'), label: el?.getAttribute('aria-label'),
        cell: cell ? document.getElementById(cell).textContent : null,
    };
}"""

#: The keyboard's cursor and the heatmap cell (i, j) of the focused matrix, in page pixels, and
#: the cursor's and the grid's drawn styles.
CURSOR_JS = """([i, j]) => {
    const grid = document.activeElement;
    const box = grid.closest('.h5eval-matrix-box');
    const rects = box.querySelectorAll('rect.heatmapcell');
    const n = Math.round(Math.sqrt(rects.length));
    const cursor = grid.querySelector('[role=gridcell]');
    const r = (el) => { const b = el.getBoundingClientRect(); return [b.left, b.top, b.width, b.height]; };
    const cs = getComputedStyle(cursor), gs = getComputedStyle(grid);
    return {
        cursor: r(cursor), cell: r(rects[i * n + j]), opacity: cs.opacity,
        border: cs.borderTopColor, borderWidth: cs.borderTopWidth, shadow: cs.boxShadow,
        outline: gs.outlineStyle + ' ' + gs.outlineWidth + ' ' + gs.outlineColor,
        gridcells: grid.querySelectorAll('[role=gridcell]').length,
    };
}"""


#: The focused element's outline, its background and the page's.
RING_JS = """() => {
    const s = getComputedStyle(document.activeElement);
    return {style: s.outlineStyle, width: s.outlineWidth, colour: s.outlineColor,
            background: s.backgroundColor, page: getComputedStyle(document.body).backgroundColor};
}"""


def _ax_names(pg, role: str) -> list[str]:
    """The names of the nodes of ``role`` in Chromium's accessibility tree of the page."""
    cdp = pg.context.new_cdp_session(pg)
    nodes = cdp.send("Accessibility.getFullAXTree")["nodes"]
    cdp.detach()
    return [n.get("name", {}).get("value") for n in nodes if n.get("role", {}).get("value") == role]


def _focused(pg) -> dict:
    return pg.evaluate(FOCUSED_JS)


def _tab_until(pg, wanted, *, limit: int = 60) -> int:
    """Press Tab until ``wanted(focused)`` holds; how many presses."""
    for n in range(1, limit + 1):
        pg.keyboard.press("Tab")
        if wanted(_focused(pg)):
            return n
    raise AssertionError(f"{limit} presses of Tab never reached it; the focus is on {_focused(pg)}")


def _in_matrix(f: dict) -> bool:
    return "h5eval-grid" in f["classes"]


def _rgb(css: str) -> str:
    r, g, b = (int(float(v)) for v in re.findall(r"[\d.]+", css)[:3])
    return f"#{r:02x}{g:02x}{b:02x}"


def test_keyboard_only_from_the_page_start_to_a_cells_samples_and_their_details(page, demo):  # noqa: F811
    """Check in Chromium with the keyboard only: Tab from the page's start reaches the confusion
    matrix (one tab stop, named, its cursor drawn on cell (0, 0) with a visible ring), the arrows
    move the cursor onto the demo's largest confusion (named "true a, predicted b: n samples"),
    Enter lists exactly that cell's samples, Tab leaves the matrix for the cards, Enter on a
    card's "details" opens them, the right arrow steps to the next sample, and Tab and Enter on
    "close details" close them; and that no mouse event fired."""
    from playwright.sync_api import expect

    ev = demo.evaluate("digits_cnn", progress=False)
    cm = ev.confusion_matrix()
    off = cm * (1 - np.eye(len(cm), dtype=cm.dtype))
    i, j = (int(v) for v in np.unravel_index(int(off.argmax()), off.shape))
    expected = ev.cell_indices(i, j)
    assert off[i, j] > 1 and len(expected) == cm[i, j]
    page.evaluate(COUNT_POINTER_JS)
    # before it has the focus, the grid's one cell is in the accessibility tree already (a grid
    # row without its cell is an ARIA error), named as a screen reader will say it
    assert f"true {ev.classes[0]}, predicted {ev.classes[0]}: {cm[0, 0]} samples" in _ax_names(page, "gridcell")
    page.evaluate("() => document.activeElement && document.activeElement.blur()")  # the page's start

    # Tab reaches the matrix; it is one tab stop: Tab leaves it, Shift+Tab comes back at once
    _tab_until(page, _in_matrix)
    f = _focused(page)
    assert f["role"] == "grid" and f["label"] == "Confusion matrix, 10 by 10, rows true class, columns predicted class"
    assert f["cell"] == f"true {ev.classes[0]}, predicted {ev.classes[0]}: {cm[0, 0]} samples"
    page.keyboard.press("Tab")
    assert not _in_matrix(_focused(page)) and _focused(page)["tag"] != "BODY"
    page.keyboard.press("Shift+Tab")
    assert _in_matrix(_focused(page))

    # the arrows move a drawn cursor, its ring contrasting with the cell and the page
    for key in ["ArrowDown"] * i + ["ArrowRight"] * j:
        page.keyboard.press(key)
    want = f"true {ev.classes[i]}, predicted {ev.classes[j]}: {cm[i, j]} samples"
    page.wait_for_function(
        "(want) => document.getElementById(document.activeElement.getAttribute('aria-activedescendant'))"
        ".textContent === want",
        arg=want,
        timeout=5_000,
    )
    drawn = page.evaluate(CURSOR_JS, [i, j])
    assert drawn["opacity"] == "1" and drawn["gridcells"] == 1
    np.testing.assert_allclose(drawn["cursor"], drawn["cell"], atol=1.5)
    assert drawn["outline"].startswith("solid") and float(drawn["borderWidth"].rstrip("px")) >= 2
    fill = cell_colours(cm)[i, j]
    ring = [_rgb(drawn["border"]), _rgb(drawn["shadow"])]
    assert max(contrast(c, fill) for c in ring) >= 3 and max(contrast(c, "#ffffff") for c in ring) >= 3

    # Enter opens the cell: its samples, as the engine lists them
    page.keyboard.press("Enter")
    page.wait_for_selector(f"text=true {ev.classes[i]} · predicted {ev.classes[j]} ({len(expected)})", timeout=30_000)
    cards = sample_cards(page)
    expect(cards).to_have_count(len(expected), timeout=30_000)
    assert [card_number(cards, n) for n in range(len(expected))] == expected.tolist()
    assert _in_matrix(_focused(page))  # the focus stays where it was

    # Tab leaves the matrix (no trap) for the first card's "details", its focus drawn at 3:1 at
    # least against the button and the page; Enter opens them
    _tab_until(page, lambda f: f["tag"] == "BUTTON" and f["text"] == "details")
    ring = page.evaluate(RING_JS)
    assert ring["style"] == "solid" and float(ring["width"].rstrip("px")) >= 2
    for behind in (ring["background"], ring["page"]):
        assert contrast(_rgb(ring["colour"]), _rgb(behind)) >= 3, ring
    page.keyboard.press("Enter")
    page.wait_for_selector(f"text=sample #{expected[0]}:", timeout=30_000)
    page.wait_for_selector(f"text=Sample #{expected[0]}: probability of each class", timeout=30_000)
    page.keyboard.press("ArrowRight")  # the next sample, from the card's button
    page.wait_for_selector(f"text=Sample #{expected[1]}: probability of each class", timeout=30_000)
    assert "3px" in cards.nth(1).evaluate("el => getComputedStyle(el).borderTopWidth")  # its card framed

    # Tab on to "close details"; Enter closes them
    _tab_until(page, lambda f: f["tag"] == "BUTTON" and f["text"] == "close details")
    page.keyboard.press("Enter")
    expect(page.locator(".widget-button:text-is('close details')")).to_have_count(0, timeout=30_000)
    expect(page.get_by_text(re.compile(r"^Sample #\d+: probability"))).to_have_count(0, timeout=30_000)
    page.keyboard.press("Tab")  # on from where the closed details were, not from the page's start
    assert _focused(page)["text"] == "◀ sample"
    assert page.evaluate("window.__pointerEvents") == []
