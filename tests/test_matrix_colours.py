"""The confusion matrices show their errors (issue 32, item 3), for the classifier, segmentation
and detection views alike (views/_matrix.py): off-diagonal cells on their own log scale in one
hue, the diagonal in another, 0 white; black or white numbers by each cell's luminance; the
selected cell outlined thick, the focus class's row and column dashed and explained; no toolbar
over the title, axis titles clear of the tick labels. The colours are read back from what the
view sends to the page: each cell's ``fills.color`` indexes its colour scale's ``colors``.

One Chromium test serves a segmentation dashboard (from arrays, no model) and reads the page.
"""

from __future__ import annotations

import numpy as np
import pytest

from h5eval_widgets import Dashboard
from h5eval_widgets.core import Evaluation
from h5eval_widgets.views._matrix import (
    BLANK,
    CHAR_PX,
    DARK_TEXT,
    FOCUS_STROKE,
    LIGHT_TEXT,
    contrast,
    relative_luminance,
)


def rendered(plot) -> np.ndarray:
    """Each cell's fill as the page paints it: its index into the fill scale's colours."""
    colours = list(plot.fill_scale.colors)
    idx = np.asarray(plot.fills.color).astype(int)
    lo, hi = plot.fill_scale.min, plot.fill_scale.max
    assert (lo, hi) == (0.0, len(colours) - 1)  # one colour stop per index: no blending
    return np.array([[colours[i] for i in row] for row in idx], dtype=object)


def rgb(colour: str) -> np.ndarray:
    return np.array([int(colour.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4)], float)


def distance(a: str, b: str) -> float:
    return float(np.linalg.norm(rgb(a) - rgb(b)))


def hue(colour: str) -> float:
    import colorsys

    return 360 * colorsys.rgb_to_hsv(*(rgb(colour) / 255))[0]


def hue_gap(a: str, b: str) -> float:
    d = abs(hue(a) - hue(b)) % 360
    return min(d, 360 - d)


def written(plot) -> dict[tuple[int, int], tuple[str, str]]:
    """The numbers written on the cells: (row, column) -> (text, its colour)."""
    lab = plot.labels
    return {
        (int(r), int(c)): (t, col)
        for r, c, t, col in zip(np.asarray(lab.y), np.asarray(lab.x), lab.text, lab.colors, strict=True)
    }


def classifier(cm: np.ndarray, classes=None) -> Evaluation:
    """An evaluation whose confusion matrix is ``cm`` (confident one-hot outputs)."""
    k = len(cm)
    y = np.repeat(np.repeat(np.arange(k), k), cm.ravel())
    p = np.repeat(np.tile(np.arange(k), k), cm.ravel())
    proba = np.full((len(y), k), 0.02 / (k - 1))
    proba[np.arange(len(y)), p] = 0.98
    return Evaluation.from_predictions(y, proba, classes=classes or [f"c{i}" for i in range(k)])


#: Off the diagonal: 0, 1, 3 and a large error; the diagonal up to 400.
CM = np.array(
    [
        [400, 1, 0, 3],
        [0, 50, 40, 0],
        [2, 0, 60, 0],
        [0, 3, 1, 7],
    ]
)


@pytest.fixture(scope="module")
def dash():
    d = Dashboard.from_evaluations({"m": classifier(CM)})
    yield d
    d.close()


def test_a_1_and_a_3_off_the_diagonal_are_shaded_clearly_apart_from_a_0(dash):
    """Check the off-diagonal colour of a 1 and of a 3 are far from a 0's (white) though the
    largest error is 40 and the diagonal 400, a 3 darker than a 1, and the diagonal in another hue."""
    view = dash.confusion
    np.testing.assert_array_equal(view.heatmap.color, CM)  # the numbers stay the clicked mark's
    fills = rendered(view.plot)
    zero, one, three = fills[0, 2], fills[0, 1], fills[0, 3]
    assert zero == BLANK == "#ffffff"
    assert distance(one, zero) > 60 and distance(three, zero) > 90, (one, three)
    assert relative_luminance(three) < relative_luminance(one) - 0.05
    off = [fills[i, j] for i in range(4) for j in range(4) if i != j and CM[i, j]]
    diag = [fills[i, i] for i in range(4)]
    assert min(hue_gap(a, b) for a in off for b in diag) > 90, (off, diag)


def test_every_number_is_written_in_black_or_white_with_a_contrast_of_at_least_4_5(dash):
    """Check each diagonal cell and each non-zero error has its number, in the colour of higher
    contrast with its cell (WCAG), at least 4.5:1, and that both black and white are used."""
    plot = dash.confusion.plot
    fills, text = rendered(plot), written(plot)
    want = {(i, j) for i in range(4) for j in range(4) if i == j or CM[i, j]}
    assert set(text) == want
    assert all(t == f"{CM[i, j]:,}" for (i, j), (t, _) in text.items())
    ratios = [contrast(col, fills[cell]) for cell, (_, col) in text.items()]
    assert min(ratios) >= 4.5, ratios
    assert {col for _, col in text.values()} == {DARK_TEXT, LIGHT_TEXT}


def test_the_selected_cell_is_outlined_thicker_than_the_focus_marking_and_in_another_colour(dash):
    """Check a click outlines only its cell (thick, not the focus colour), and that the focus
    class's row and column are dashed lines named in the legend."""
    view, st = dash.confusion, dash.state
    st.focus_class = 1
    view.click_cell(2, 1)
    assert np.asarray(view.heatmap.selected).tolist() == [[2, 1]]
    sel = view.heatmap.selected_style
    focus = view.plot.focus
    assert focus.visible and focus.line_style == "dashed" and list(focus.colors) == [FOCUS_STROKE]
    assert float(sel["stroke-width"]) >= 2 * focus.stroke_width
    assert distance(sel["stroke"], FOCUS_STROKE) > 100
    # the dashed lines run along row 1 and column 1
    xs, ys = np.asarray(focus.x), np.asarray(focus.y)
    assert np.all(np.abs(ys[0] - 1) < 0.5) and np.all(np.abs(xs[1] - 1) < 0.5)
    legend = view.plot.legend.value
    assert "focus class c1" in legend and "dashed" in legend and "selected cell" in legend
    st.focus_class = None
    assert not focus.visible and "focus class" not in view.plot.legend.value


def test_the_toolbar_is_off_and_axis_titles_clear_the_longest_class_name():
    """Check the figure has no toolbar and the vertical axis title sits beyond the longest row
    label (within the left margin); long column labels are turned with room below."""
    names = ["cat", "a rather long class name", "dog"]
    d = Dashboard.from_evaluations({"m": classifier(CM[:3, :3], names)})
    try:
        plot = d.confusion.plot
        assert plot.figure.display_toolbar is False
        longest = len(names[1]) * CHAR_PX
        offset = float(plot.y_axis.label_offset.rstrip("px"))
        assert longest < offset < plot.figure.fig_margin["left"] - 10
        assert plot.x_axis.tick_rotate != 0
        below = float(plot.x_axis.label_offset.rstrip("px"))
        assert below > 0.7 * longest and plot.figure.fig_margin["bottom"] > below
    finally:
        d.close()


def segmentation(background: int = 20_567):
    """Masks of 3 classes whose background holds ``background`` pixels or so, with 3 and 40
    pixels of errors, and a 'square' class of 64 pixels."""
    side = int(np.ceil(np.sqrt(background + 200)))
    y = np.zeros((1, side, side), np.int64)
    y[0, :8, :8] = 1  # 64 square pixels
    y[0, -10:, -10:] = 2  # 100 disc pixels
    pred = y.copy()
    pred[0, 0, :3] = 2  # 3 square pixels taken for disc
    pred[0, -10:-6, -10:] = 0  # 40 disc pixels missed
    scores = np.eye(3, dtype=np.float32)[pred]
    return Evaluation.from_predictions(y, scores, classes=["background", "square", "disc"])


def test_a_huge_background_class_leaves_the_errors_and_the_small_diagonal_visible():
    """Check that with about 20,000 background pixels a 3-pixel error is shaded far from white,
    and the square class's 61 right pixels are not as pale as a 0 nor in the errors' hue."""
    ev = segmentation()
    cm = ev.confusion_matrix()
    assert cm[0, 0] > 20_000 and cm[1, 2] == 3
    d = Dashboard.from_evaluations({"unet": ev})
    try:
        plot = d.pixel_matrix.plot
        np.testing.assert_array_equal(d.pixel_matrix.heatmap.color, cm)
        fills = rendered(plot)
        assert distance(fills[1, 2], BLANK) > 60 and distance(fills[2, 0], BLANK) > 90
        assert distance(fills[1, 1], BLANK) > 60
        assert hue_gap(fills[1, 1], fills[1, 2]) > 90
        assert fills[0, 1] == BLANK and (0, 1) not in written(plot)
        d.pixel_matrix.click_cell(1, 2)
        assert np.asarray(d.pixel_matrix.heatmap.selected).tolist() == [[1, 2]]
    finally:
        d.close()


def test_the_detection_matrix_shades_its_background_row_and_column_as_errors(tmp_path):
    """Check the detection matrix's missed objects and false boxes (background column and row)
    are in the errors' hue, its meaningless background corner blank, its diagonal in the other."""
    from tests.detection_data import make_coco
    from tests.helpers import require

    require("pycocotools")
    gt, dets = make_coco(12, seed=4)
    ev = Evaluation.from_detections(gt, dets)
    d = Dashboard.from_evaluations({"detector": ev})
    try:
        v, k = d.detection, ev.n_classes
        cm = ev.confusion_matrix(0.5, 0.0)
        np.testing.assert_array_equal(v.heatmap.color, cm)
        fills = rendered(v.plot)
        assert fills[k, k] == BLANK
        diag = [fills[i, i] for i in range(k) if cm[i, i]]
        missed = [fills[i, k] for i in range(k) if cm[i, k]]
        false = [fills[k, j] for j in range(k) if cm[k, j]]
        assert diag and missed and false
        assert min(hue_gap(a, b) for a in missed + false for b in diag) > 90
        texts = written(v.plot)
        assert min(contrast(col, fills[cell]) for cell, (_, col) in texts.items()) >= 4.5
    finally:
        d.close()


# ------------------------------------------------------------------ in Chromium
SEGMENTATION_CELL = """import numpy as np
from h5eval_widgets import Dashboard, Evaluation
y = np.zeros((6, 48, 48), np.int64)
y[:, 8:20, 8:20] = 1
y[:, 28:40, 26:38] = 2
pred = y.copy()
pred[:, 8:11, 8:20] = 2
pred[:3, 0:2, 0:3] = 1
ev = Evaluation.from_predictions(y, np.eye(3, dtype=np.float32)[pred],
    classes=["background", "square", "a rather long class name"])
dashboard = Dashboard.from_evaluations({"unet": ev})
dashboard"""

#: Records where each negative width or height given to a ``<rect>`` comes from (the title of
#: its bqplot figure): Chromium logs such a value as a console error.
NEGATIVE_RECTS_JS = """(() => {
    const set = Element.prototype.setAttribute;
    window.__negative = [];
    Element.prototype.setAttribute = function (name, value) {
        if (this.tagName == 'rect' && (name == 'width' || name == 'height') && parseFloat(value) < 0)
            window.__negative.push(this);
        return set.call(this, name, value);
    };
})()"""

#: Boxes (x, y, width, height) of the matrix figure's axis titles, tick labels and title.
BOXES_JS = """fig => {
    const box = e => { const b = e.getBoundingClientRect(); return [b.x, b.y, b.width, b.height]; };
    return {
        labels: [...fig.querySelectorAll('text.axislabel')].map(e => [e.textContent, box(e)]),
        ticks: [...fig.querySelectorAll('.tick text')].map(box),
        title: box(fig.querySelector('text.mainheading')),
        plot: box(fig.querySelector('.plotarea_background')),
        toolbars: [...fig.querySelectorAll('.toolbar, [class*=toolbar]')].filter(e => e.offsetParent !== null).length,
    };
}"""


def overlap(a, b) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


@pytest.fixture(scope="module")
def segmentation_page():
    """The segmentation dashboard in Chromium after a mouse click on cell (square, long name):
    the page, its console errors and the figures that drew negative rectangles."""
    from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, click_cell, figure_titled, wait_until_settled

    if CHROMIUM is None:
        pytest.skip("chromium is not installed (make test installs it)")
    from playwright.sync_api import expect, sync_playwright

    from h5eval_widgets.serve import VoilaServer, dashboard_notebook

    nb = dashboard_notebook(None, None, demo=True)
    nb["cells"][0]["source"] = SEGMENTATION_CELL
    with VoilaServer(nb) as srv, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.add_init_script(NEGATIVE_RECTS_JS)
        page.goto(srv.url, timeout=120_000)
        fig = figure_titled(page, "Pixel confusion matrix")
        cells = fig.locator("rect.heatmapcell")
        expect(cells).to_have_count(9, timeout=120_000)
        wait_until_settled(page)
        click_cell(page, 3, 1, 2, cells)
        page.wait_for_selector("text=selected: true square → predicted a rather long class name", timeout=30_000)
        wait_until_settled(page)
        fig.hover()  # bqplot's toolbar showed on hover, over the title
        negative = page.evaluate(
            "() => window.__negative.map(e => e.closest('.bqplot')?.querySelector('text.mainheading')?.textContent)"
        )
        yield page, fig, errors, negative
        browser.close()


@pytest.mark.browser
def test_the_pixel_matrix_draws_no_negative_rectangle_and_nothing_overlaps(segmentation_page):
    """Check in Chromium after a cell click: no matrix figure drew a negative rectangle, there is
    no toolbar, the axis titles cross no tick label, the title crosses neither, and the cells'
    numbers are the pixel counts (written visibly by the labels, kept by the clicked mark)."""
    page, fig, errors, negative = segmentation_page
    assert not [t for t in negative if t is None or "matrix" in t], negative
    boxes = fig.evaluate(BOXES_JS)
    assert boxes["toolbars"] == 0
    assert sorted(t for t, _ in boxes["labels"]) == ["predicted", "true"]
    for _, label in boxes["labels"]:
        assert not any(overlap(label, tick) for tick in boxes["ticks"]), (label, boxes["ticks"])
        assert not overlap(label, boxes["title"])
    assert len(boxes["ticks"]) == 6 and not overlap(boxes["title"], boxes["plot"])
    # the diagonal and the non-zero errors, row by row (off the diagonal a 0 is blank)
    assert fig.locator("text.label").all_text_contents() == ["12,078", "18", "648", "216", "864"]


@pytest.mark.browser
def test_the_segmentation_dashboard_logs_no_console_error_after_a_cell_click(segmentation_page):
    """Check in Chromium that the segmentation dashboard logged no console error (load and click)."""
    _, _, errors, negative = segmentation_page
    assert errors == [], (errors, negative)
