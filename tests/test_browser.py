"""End to end in real Chromium: the Voila page of the demo dashboard, clicked with the mouse.

These prove what headless tests cannot: that a browser click on a confusion-matrix cell reaches
Python (with stock bqplot 0.13 a selection made in the browser does not; see ConfusionMatrixView).
They need Debian's chromium (``make test`` installs it); outside CI they are skipped without it.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from h5eval_widgets.serve import VoilaServer, dashboard_notebook
from tests.helpers import in_ci, require, wait_for, wait_until_no_process_mentions

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None and in_ci():
    raise RuntimeError("CI needs chromium for the browser tests; `make test` installs it.")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (make test installs it)"),
]

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def server():
    with VoilaServer(dashboard_notebook(None, None, demo=True)) as srv:
        folder = str(srv.folder)
        yield srv
    assert srv.proc.poll() is not None, "the voila server is still running"
    wait_until_no_process_mentions(folder, owner="kernel of the voila server")


def wait_until_settled(page, quiet_ms: int = 500, timeout: int = 30_000) -> None:
    """Wait until the dashboard's page has not changed for ``quiet_ms``: the widget messages of a
    render have all arrived (polled in the page, failing after ``timeout`` ms)."""
    page.evaluate("""() => {
        const root = document.querySelector('.h5eval-dashboard');
        window.__h5evalChanged = performance.now();
        new MutationObserver(() => { window.__h5evalChanged = performance.now(); })
            .observe(root, {subtree: true, childList: true, attributes: true, characterData: true});
    }""")
    page.wait_for_function(f"performance.now() - window.__h5evalChanged > {quiet_ms}", timeout=timeout, polling=100)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture()
def page(server, browser):
    pg = browser.new_page(viewport={"width": 1400, "height": 1400})
    pg.goto(server.url, timeout=120_000)
    pg.wait_for_selector("rect.heatmapcell", timeout=120_000)
    pg.wait_for_selector("text=digits_cnn on digits_test: 719 samples", timeout=60_000)
    wait_until_settled(pg)  # the last widget messages of the first render
    yield pg
    pg.close()


#: Counts the pixels of one colour in each decoded picture matched by a selector, read back from
#: the page through a canvas.
COLOUR_COUNT_JS = """([selector, [r, g, b]]) => [...document.querySelectorAll(selector)].map(im => {
    const c = document.createElement('canvas');
    c.width = im.naturalWidth; c.height = im.naturalHeight;
    const ctx = c.getContext('2d');
    ctx.drawImage(im, 0, 0);
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let p = 0; p < d.length; p += 4) if (d[p] == r && d[p + 1] == g && d[p + 2] == b) n++;
    return n;
})"""


def colour_counts(page, selector: str, rgb) -> list[int]:
    """How many pixels of colour ``rgb`` each picture (``img``) matched by ``selector`` holds."""
    return page.evaluate(COLOUR_COUNT_JS, [selector, [int(v) for v in rgb]])


def matrix_labels(page, k: int) -> np.ndarray:
    """The numbers drawn in the heatmap's cells, row by row."""
    texts = page.locator("text.heatmapcell_label").all_text_contents()
    return np.array([float(t) for t in texts[: k * k]]).reshape(k, k)


def assert_matrix_redrawn(page, expected: np.ndarray, changed: tuple[int, int]) -> None:
    """Wait until the heatmap's cell ``changed`` shows its new count, then check every cell."""
    k = len(expected)
    i, j = changed
    page.wait_for_function(
        "([n, text]) => document.querySelectorAll('text.heatmapcell_label')[n]?.textContent == text",
        arg=[i * k + j, str(expected[i, j])],
        timeout=30_000,
    )
    np.testing.assert_array_equal(matrix_labels(page, k), expected)


def figure_titled(page, title: str):
    """The bqplot figure whose heading contains ``title``."""
    return page.locator(".bqplot.figure", has=page.locator("text.mainheading", has_text=title))


def click_cell(page, k: int, i: int, j: int, cells=None) -> None:
    """A mouse click on cell (i, j) of a k-wide matrix: ``cells`` (a figure's ``rect.heatmapcell``
    locator), else the first matrix of the page."""
    cells = page.locator("rect.heatmapcell") if cells is None else cells
    box = cells.nth(i * k + j).bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3)


def show_cell(page, ev, i: int, j: int):
    """Click the demo matrix's cell (i, j) and wait until the gallery holds its samples' cards
    (the title is sent before the new cards); returns the cards' locator and the cell's samples."""
    from playwright.sync_api import expect

    expected = ev.cell_indices(i, j)
    assert len(expected) > 0
    click_cell(page, 10, i, j)
    page.wait_for_selector(f"text=true {ev.classes[i]} · predicted {ev.classes[j]} ({len(expected)})", timeout=30_000)
    cards = sample_cards(page)
    expect(cards).to_have_count(len(expected), timeout=30_000)
    return cards, expected


def sample_cards(page):
    """The samples view's gallery cards (each has a "details" button)."""
    return page.locator(".widget-vbox:has(> .widget-button:text-is('details'))")


def card_number(cards, n: int) -> int:
    """The sample number ("#i") written on card ``n``."""
    return int(re.search(r"#(\d+)", cards.nth(n).inner_text()).group(1))


def open_tab(page, title: str, *, last: bool = False) -> None:
    """Click the dashboard tab named ``title`` (``last``: of several dashboards on the page, the last)."""
    tabs = page.locator(".lm-TabBar-tab", has_text=title)
    (tabs.last if last else tabs).click()


def choose(page, label: str, option: str) -> None:
    page.locator(f".widget-dropdown:has(label:text-is('{label}')) select").select_option(label=option)


@pytest.mark.backends
def test_a_mouse_click_on_a_cell_lists_exactly_that_cells_samples(page, demo):
    """Check that clicking cell (8, 1) in Chromium shows the samples with true 8 predicted 1, that
    the status line names the Keras backend the page's kernel runs on (this process's: the
    server inherits KERAS_BACKEND; this test also runs in make test's JAX pass), and that the
    "data notes" beside it open with Enter."""
    from playwright.sync_api import expect

    from h5eval_widgets.core.inference.backend import backend_name

    page.wait_for_selector(f"text=Keras backend: {backend_name()}", timeout=30_000)
    # beside the status line, the data notes: closed, opened from the keyboard
    summary = page.locator("details.h5eval-notes > summary")
    expect(summary).to_have_text(re.compile(r"data notes \(\d+\)"))
    status, beside = page.locator(".h5eval-status").bounding_box(), summary.bounding_box()
    assert abs(beside["y"] - status["y"]) < 12 and beside["x"] > status["x"] + status["width"] - 1
    first = page.locator("details.h5eval-notes li").first
    expect(first).to_be_hidden()
    summary.focus()
    page.keyboard.press("Enter")
    expect(first).to_contain_text("Input rows reshaped from (8, 8) to the model's (8, 8, 1).")
    cards, expected = show_cell(page, demo.evaluate("digits_cnn", progress=False), 8, 1)
    for n in range(cards.count()):
        text = cards.nth(n).inner_text()
        assert "true 8" in text and "pred 1" in text
        assert card_number(cards, n) in set(expected.tolist())


def widget_models(page) -> int:
    """How many widget models the page holds: the entries of the widget manager of Voila's
    JupyterLab-based app (``window.jupyterapp.widgetManager._models``), which a model leaves
    when its widget is closed in the kernel."""
    return page.evaluate("() => Object.keys(window.jupyterapp.widgetManager._models).length")


#: Widget models the page may gain after the first clicks: a page of cards (12 cards of at most
#: 16 widgets, layouts and styles included). Before the cards were reused, each click on a cell
#: added its cards' models (about 10 per card) and none ever left.
PAGE_OF_CARDS = 200


def test_three_hundred_cell_clicks_add_no_widget_models_to_the_page(page, demo):
    """Check that 300 clicks on seeded non-empty cells add at most a page of cards' widget models to the page."""
    ev = demo.evaluate("digits_cnn", progress=False)
    cm = np.asarray(ev.confusion_matrix())
    cells = np.argwhere(cm > 0)
    picks = cells[np.random.default_rng(0).integers(len(cells), size=300)]

    def shown(i, j):
        """Wait until the samples' title names cell (i, j): it is sent after the cards."""
        page.wait_for_selector(f"text=true {ev.classes[i]} · predicted {ev.classes[j]} ({cm[i, j]})", timeout=60_000)

    # where each cell is, asked once: a click moves the highlight only, not the cells
    boxes = page.evaluate(
        "() => [...document.querySelectorAll('rect.heatmapcell')].slice(0, 100)"
        ".map(r => { const b = r.getBoundingClientRect(); return [b.x, b.y, b.width, b.height]; })"
    )
    for n, (i, j) in enumerate(picks):
        x, y, w, h = boxes[i * 10 + j]
        page.mouse.click(x + w * 0.3, y + h * 0.3)
        if n % 10 == 9:  # but the kernel is let to keep up
            shown(i, j)
        if n == 29:
            wait_until_settled(page)
            warm = widget_models(page)
    shown(*picks[-1])
    wait_until_settled(page)
    assert widget_models(page) - warm <= PAGE_OF_CARDS, (warm, widget_models(page))
    cards = page.locator(".widget-vbox:has(> .widget-button:text-is('details'))")
    assert cards.count() == min(12, cm[picks[-1][0], picks[-1][1]])


def test_switching_the_model_redraws_the_matrix_with_the_engines_numbers(page, demo):
    """Check that choosing another model in the dropdown redraws the matrix with its counts."""
    np.testing.assert_array_equal(
        matrix_labels(page, 10), demo.evaluate("digits_cnn", progress=False).confusion_matrix()
    )
    choose(page, "model", "digits_weak_mlp")
    assert_matrix_redrawn(page, demo.evaluate("digits_weak_mlp", progress=False).confusion_matrix(), (0, 0))


def isolated_pick_point(ev, not_near: float) -> tuple[int, float]:
    """A dot of the PR curve far from the others and from the operating point's recall."""
    from h5eval_widgets.views.curves import pick_points

    pr = ev.pr_curve()
    x, y, thr = pick_points(pr["recall"].to_numpy(), pr["precision"].to_numpy(), pr["threshold"].to_numpy())
    gap = np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :]) + np.eye(len(x)) * 9
    room = gap.min(axis=1)
    room[np.abs(x - not_near) < 0.1] = 0
    i = int(np.argmax(room))
    return i, float(thr[i])


def test_typing_a_threshold_and_clicking_the_pr_curve_move_the_binary_matrix(page, demo):
    """Check that setting the threshold slider on the binary demo gives the engine's matrix there,
    and that a mouse click on a dot of the precision-recall curve moves the threshold to that dot."""
    choose(page, "model", "breast_cancer_mlp")
    page.wait_for_function("document.querySelectorAll('text.heatmapcell_label').length == 4", timeout=30_000)
    page.get_by_text("Curves & threshold").click()
    readout = page.locator(".widget-hslider:has(label:text-is('threshold')) .widget-readout")
    readout.click()
    page.keyboard.press("Control+A")
    page.keyboard.type("0.2")
    page.keyboard.press("Enter")
    ev = demo.evaluate("breast_cancer_mlp", progress=False)
    assert_matrix_redrawn(page, ev.at_threshold(0.2).confusion, (0, 1))

    i, t = isolated_pick_point(ev, not_near=ev.at_threshold(0.2).recall)
    pr_fig = figure_titled(page, "Precision-recall")
    dots = pr_fig.locator("path.dot")  # the curve's dots, then the operating point's
    # a real mouse click at the dot's centre, once it is in view, stable and not covered
    dots.nth(i).click(timeout=30_000)
    page.wait_for_selector(f"text=at {t:.3f}: precision", timeout=30_000)
    assert_matrix_redrawn(page, ev.at_threshold(t).confusion, (1, 1))


def test_comparison_mode_history_and_splits_in_the_browser(page, demo):
    """Check in Chromium: compare with the weak model, click "CNN right, weak wrong", see those samples."""
    a = demo.evaluate("digits_cnn", progress=False)
    b = demo.evaluate("digits_weak_mlp", progress=False)
    n = int(np.sum(a.correct & ~b.correct))
    page.wait_for_selector("text=Training history of digits_cnn", timeout=30_000)
    page.get_by_text("Compare models").click()
    choose(page, "compare with", "digits_weak_mlp")
    page.wait_for_selector("text=McNemar's test", timeout=30_000)
    page.locator(".h5eval-dashboard button", has_text=re.compile(rf"^{n}$")).first.click()
    page.wait_for_selector(f"text=digits_cnn right, digits_weak_mlp wrong ({n})", timeout=30_000)
    page.get_by_text("Splits").click()
    page.get_by_text("evaluate on every dataset").click()
    page.wait_for_selector("text=no sign of overfitting", timeout=60_000)


def test_the_tabular_demo_shows_a_table_with_one_row_per_sample(page, demo):
    """Check in Chromium that the breast-cancer samples are a table, a header with the feature names
    and one row per shown mistake, and that a row's index button highlights that row."""
    from playwright.sync_api import expect

    ev = demo.evaluate("breast_cancer_mlp", progress=False)
    choose(page, "model", "breast_cancer_mlp")
    rows = page.locator(".h5eval-table-row")
    expect(rows).to_have_count(min(12, int((~ev.correct).sum())), timeout=30_000)
    header = page.locator(".h5eval-table-header").inner_text()
    assert "mean radius" in header and "confidence" in header
    shown = [int(rows.nth(n).get_attribute("data-index")) for n in range(rows.count())]
    assert set(shown) <= set(np.flatnonzero(~ev.correct).tolist())
    page.locator(".widget-button", has_text=re.compile(rf"^#{shown[1]} ")).click()
    expect(rows.nth(1)).to_have_attribute("style", re.compile("background"), timeout=30_000)


def test_arrow_keys_over_the_gallery_step_through_the_samples(page):
    """Check in Chromium that with the pointer over the samples, the right arrow chooses the first
    shown sample, then the next, and the left arrow goes back (the tags line names the sample)."""
    cards = sample_cards(page)
    shown = [card_number(cards, n) for n in range(3)]
    cards.nth(1).hover()
    for key, want in (("ArrowRight", shown[0]), ("ArrowRight", shown[1]), ("ArrowLeft", shown[0])):
        page.keyboard.press(key)
        page.wait_for_selector(f"text=sample #{want}:", timeout=30_000)


CONTRAST_JS = """(selector) => {
    // WCAG contrast of each element's text against the page's background (both opaque here)
    const rgb = c => c.match(/[\\d.]+/g).slice(0, 3).map(Number).map(v => {
        v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    const lum = c => { const [r, g, b] = rgb(c); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
    const bg = lum(getComputedStyle(document.body).backgroundColor);
    return [...document.querySelectorAll(selector)].map(el => {
        const fg = lum(getComputedStyle(el).color);
        return (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    });
}"""


def contrast_violations(page) -> list[str]:
    """axe-core's color-contrast rule (WCAG 2.1 AA) over the dashboard, with each tab opened:
    one line per element with too little contrast."""
    require("axe_playwright_python")
    from axe_playwright_python.sync_playwright import Axe

    found = []
    for tab in ["", *TAB_TITLES]:
        if tab:
            open_tab(page, tab)
            wait_until_settled(page)
        result = Axe().run(page, context={"include": [[".h5eval-dashboard"]]}, options={"runOnly": ["color-contrast"]})
        found += [
            f"{tab or 'first view'}: {node['target']} {node['any'][0]['message'] if node['any'] else ''}"
            for v in result.response["violations"]
            for node in v["nodes"]
        ]
    return found


#: the tabs whose views are drawn as text and charts (the embedding map is a WebGL canvas)
TAB_TITLES = ("Per class", "Curves & threshold", "Calibration", "Slices")


def test_axe_finds_no_contrast_violation_in_the_light_theme(page):
    """Check axe-core's color-contrast rule passes on the dashboard and each tab (light theme)."""
    assert contrast_violations(page) == []


def test_the_dark_theme_keeps_text_readable(server, browser):
    """Check under Voila's dark theme that the status line, the samples' captions and the table's
    rows have text with a contrast of at least 4.5:1 against the page (WCAG's level for text);
    that axe-core's color-contrast rule passes on every tab (unselected tab labels were at
    4.22:1, the focus class's row white on cream); and that chart titles and axis titles take
    the theme's text colour, not bqplot's dark-theme orange."""
    pg = browser.new_page(viewport={"width": 1400, "height": 1200})
    try:
        pg.goto(server.url + "?theme=dark", timeout=120_000)
        pg.wait_for_selector("text=digits_cnn on digits_test: 719 samples", timeout=120_000)
        wait_until_settled(pg)
        assert pg.evaluate("getComputedStyle(document.body).backgroundColor") != "rgb(255, 255, 255)"
        assert contrast_violations(pg) == []
        fills = pg.evaluate(
            "() => [...document.querySelectorAll('text.mainheading, text.axislabel')]"
            ".map(t => getComputedStyle(t).fill)"
        )
        assert len(fills) >= 5 and all(f.startswith("rgba(255, 255, 255") for f in fills), fills
        captions = pg.evaluate(CONTRAST_JS, ".h5eval-status, .widget-vbox > .widget-html span")
        choose(pg, "model", "breast_cancer_mlp")
        pg.wait_for_selector(".h5eval-table-row", timeout=30_000)
        rows = pg.evaluate(CONTRAST_JS, ".h5eval-table-row span, .h5eval-table-header span")
        assert len(captions) > 10 and len(rows) > 50
        assert min(captions) >= 4.5 and min(rows) >= 4.5, (min(captions), min(rows))
    finally:
        pg.close()


def test_saliency_and_the_likely_mislabelled_in_the_browser(page, demo):
    """Check in Chromium that "show saliency" draws a map over each card of a clicked cell and
    "details" the maps of the predicted and of the true class; then that clicking "likely
    mislabelled" (on the weak MLP, which has such samples) shows label_issues()'s samples, the
    likeliest first, under a title that counts them."""
    from playwright.sync_api import expect

    ev = demo.evaluate("digits_cnn", progress=False)
    cards, expected = show_cell(page, ev, 8, 1)
    page.get_by_role("button", name="show saliency").click()
    maps = page.locator("img.h5eval-saliency")
    expect(maps).to_have_count(len(expected), timeout=60_000)
    page.wait_for_function(
        "() => [...document.querySelectorAll('img.h5eval-saliency')].every(im => im.complete && im.naturalWidth > 0)",
        timeout=30_000,
    )
    first = card_number(cards, 0)
    cards.nth(0).locator("> .widget-button:text-is('details')").click()
    pair = page.locator(".h5eval-saliency-detail")
    expect(pair).to_have_count(2, timeout=30_000)
    expect(pair.nth(0)).to_contain_text(f"predicted {ev.classes[ev.y_pred[first]]}")
    expect(pair.nth(1)).to_contain_text(f"true {ev.classes[ev.y_true[first]]}")

    want = demo.evaluate("digits_weak_mlp", progress=False).label_issues()["index"].tolist()
    assert len(want) > 12
    choose(page, "model", "digits_weak_mlp")
    page.wait_for_selector("text=digits_weak_mlp on digits_test", timeout=60_000)
    page.get_by_role("button", name="likely mislabelled").click()
    page.wait_for_selector(f"text=Likely mislabelled ({len(want)})", timeout=30_000)
    # the title is sent before the new cards (the mistakes shown before were 12 cards too)
    expect(cards.nth(0)).to_contain_text(f"#{want[0]} ", timeout=30_000)
    expect(cards).to_have_count(12, timeout=30_000)
    shown = [card_number(cards, n) for n in range(cards.count())]
    assert shown == want[:12]


def assert_buttons_on_one_line(page) -> None:
    """The matrix's "counts / by true / by predicted" group is one button high (not wrapped)."""
    buttons = page.locator(".widget-toggle-buttons", has=page.locator("button", has_text="by predicted"))
    one_button = buttons.locator("button").first.bounding_box()["height"]
    assert buttons.bounding_box()["height"] < 1.8 * one_button


TAB_TITLES = ("Per class", "Curves & threshold", "Calibration", "Embedding map", "Slices", "Compare models", "Splits")


@pytest.mark.parametrize("width", [1280, 1920])
def test_no_console_errors_and_no_wrapped_buttons_at_common_widths(server, browser, width):
    """Check at 1280 and 1920 px that loading the dashboard and opening every tab logs no console
    error, and that the matrix's "counts / by true / by predicted" buttons stay on one line."""
    pg = browser.new_page(viewport={"width": width, "height": 1200})
    errors: list[str] = []
    # Voila's page also asks a CDN for Font Awesome; this machine has no internet, and that
    # request's failure is Voila's, not the dashboard's: errors from other hosts are left out
    pg.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error" and msg.location.get("url", "").startswith(server.url)
            else None
        ),
    )
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        pg.goto(server.url, timeout=120_000)
        pg.wait_for_selector("text=digits_cnn on digits_test: 719 samples", timeout=120_000)
        wait_until_settled(pg)
        for title in TAB_TITLES:
            open_tab(pg, title)
            wait_until_settled(pg)
        assert_buttons_on_one_line(pg)
        assert errors == []
    finally:
        pg.close()


@pytest.fixture(scope="module")
def thousand_classes(tmp_path_factory):
    """A 1000-class model saved to .h5 and 5,000 test samples in an .npz: each sample is its
    class's embedding plus noise, and the model picks the nearest embedding; classes 2m and 2m+1
    have close embeddings, so they are confused with each other (about 70% of samples right)."""
    import keras

    folder = tmp_path_factory.mktemp("thousand")
    rng = np.random.default_rng(0)
    k, d, n = 1000, 32, 5000
    emb = rng.normal(size=(k, d)).astype(np.float32)
    emb[1::2] = emb[0::2] + 0.1 * rng.normal(size=(k // 2, d)).astype(np.float32)
    y = rng.integers(0, k, n)
    X = (emb[y] + rng.normal(scale=0.5, size=(n, d))).astype(np.float32)
    model = keras.Sequential([keras.Input((d,)), keras.layers.Dense(k, activation="softmax")])
    model.layers[-1].set_weights([emb.T * 4, -2 * (emb**2).sum(1)])  # softmax of -2|x - e|^2
    model.save(folder / "big.h5")
    np.savez(folder / "big_test.npz", x=X, y=y)
    return folder / "big.h5", folder / "big_test.npz"


def test_a_mouse_click_on_a_confused_cell_of_a_thousand_classes_shows_its_samples(browser, thousand_classes):
    """Check in Chromium on a 1000-class model: the drawn matrix's largest off-diagonal cell is the
    largest confusion of all, and a mouse click on it shows exactly that cell's samples."""
    from playwright.sync_api import expect

    from h5eval_widgets import Evaluation
    from h5eval_widgets.core.metrics.queries import classes_to_draw
    from h5eval_widgets.serve import _by_name

    model, data = thousand_classes
    ev = Evaluation.from_model(str(model), str(data), progress=False)
    cm = ev.confusion_matrix()
    off = cm - np.diag(np.diag(cm))
    drawn = classes_to_draw(cm, 15, focus=0)  # as the dashboard draws them (focus class 0)
    sub = off[np.ix_(drawn, drawn)]
    assert sub.max() == off.max() > 1
    pi, pj = np.unravel_index(np.argmax(sub), sub.shape)
    i, j = int(drawn[pi]), int(drawn[pj])
    expected = ev.cell_indices(i, j)
    with VoilaServer(dashboard_notebook(_by_name([str(model)]), _by_name([str(data)]))) as srv:
        pg = browser.new_page(viewport={"width": 1600, "height": 1300})
        try:
            pg.goto(srv.url, timeout=120_000)
            pg.wait_for_selector("text=big on big_test: 5,000 samples", timeout=120_000)
            pg.wait_for_function("document.querySelectorAll('rect.heatmapcell').length == 225", timeout=60_000)
            wait_until_settled(pg)
            click_cell(pg, 15, pi, pj)
            pg.wait_for_selector(
                f"text=true {ev.classes[i]} · predicted {ev.classes[j]} ({len(expected)})", timeout=30_000
            )
            rows = pg.locator(".h5eval-table-row")  # the samples are feature vectors: a table
            expect(rows).to_have_count(min(12, len(expected)), timeout=30_000)
            shown = {int(rows.nth(m).get_attribute("data-index")) for m in range(rows.count())}
            assert shown == set(expected[:12].tolist())
        finally:
            pg.close()


#: The Jupyter front ends the quickstart is run in: server module and the notebook's URL path.
FRONT_ENDS = {
    "jupyterlab": ("jupyterlab", "lab/tree/quickstart.ipynb"),
    "notebook7": ("notebook", "notebooks/quickstart.ipynb"),
}


@pytest.fixture(params=list(FRONT_ENDS))
def jupyterlab(tmp_path, request):
    """JupyterLab (or Notebook 7) on 127.0.0.1 over a copy of the notebooks; stopped, with its
    kernels, afterwards. Gives the quickstart notebook's URL."""
    module, quickstart = FRONT_ENDS[request.param]
    root = tmp_path / "lab"
    shutil.copytree(Path(__file__).resolve().parent.parent / "notebooks", root)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), TF_CPP_MIN_LOG_LEVEL="3")
    log = open(tmp_path / "lab.log", "wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            module,
            "--no-browser",
            f"--port={port}",
            "--ServerApp.ip=127.0.0.1",
            "--IdentityProvider.token=",
            "--ServerApp.password=",
            f"--ServerApp.root_dir={root}",
            "--allow-root",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=root,
    )
    url = f"http://127.0.0.1:{port}/"

    def answers() -> bool:
        assert proc.poll() is None, (tmp_path / "lab.log").read_text()[-2000:]
        try:
            urllib.request.urlopen(url + "api", timeout=2)
        except urllib.error.HTTPError:
            pass  # an answer all the same
        except OSError:
            return False
        return True

    try:
        wait_for(answers, timeout=90, interval=0.3, what=f"{module} to answer at {url}api")
        yield url + quickstart
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
    wait_until_no_process_mentions(str(tmp_path / "runtime"), owner="kernel of JupyterLab")


def test_quickstart_in_jupyterlab_runs_and_a_click_shows_samples(jupyterlab, browser, demo, request):
    """Check in JupyterLab and Notebook 7 at 1600 px: open the quickstart, run all cells, click cell
    (8, 1), see its samples; no figure logs a console error (bqplot's negative sizes from figures
    drawn hidden) and the matrix's button group stays on one line. In JupyterLab, axe-core finds
    no serious or critical WCAG A/AA violation outside JupyterLab's chrome, before and after the
    click (see tests/test_axe_browser.py)."""
    n = len(demo.evaluate("digits_cnn", progress=False).cell_indices(8, 1))
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    figure_errors: list[str] = []
    page.on(
        "console",
        lambda msg: (
            figure_errors.append(msg.text)
            if msg.type == "error" and "attribute" in msg.text and "negative value" in msg.text
            else None
        ),
    )
    try:
        page.goto(jupyterlab, timeout=120_000)
        page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=120_000)
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        for attempt in range(2):  # a kernel still starting can swallow the first "Run All"
            dialog = page.locator(".jp-Dialog")
            if dialog.count() and dialog.first.is_visible():  # say what JupyterLab asks, not a click timeout
                text = " ".join(dialog.first.inner_text().split())
                if "Select Kernel" not in text:
                    raise AssertionError(f"JupyterLab shows a dialog: {text}")
                dialog.first.get_by_role("button", name="Select").click()
            page.get_by_role("menuitem", name="Run", exact=True).click()
            page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
            try:
                page.wait_for_selector("text=digits_cnn on digits_test: 719 samples", timeout=90_000)
                break
            except PlaywrightTimeout:
                if attempt:
                    raise
        wait_until_settled(page)
        lab = request.node.callspec.params["jupyterlab"] == "jupyterlab"
        if lab:  # axe-core's WCAG A/AA rules, JupyterLab's own chrome left out (named there)
            from tests.test_axe_browser import JUPYTERLAB_CHROME, assert_no_violations

            assert_no_violations(page, "JupyterLab, the quickstart run", ignore=JUPYTERLAB_CHROME)
        click_cell(page, 10, 8, 1)
        page.wait_for_selector(f"text=true 8 · predicted 1 ({n})", timeout=30_000)
        if lab:
            wait_until_settled(page)
            assert_no_violations(page, "JupyterLab, after a cell click", ignore=JUPYTERLAB_CHROME)
        for title in TAB_TITLES:
            open_tab(page, title, last=True)
            wait_until_settled(page)
        assert figure_errors == []
        assert_buttons_on_one_line(page)
    finally:
        page.close()


MAP_API_JS = "() => [...document.querySelectorAll('div')].find(e => e.api && e.api.get)"


def map_facts(page) -> dict:
    """What the WebGL map holds in the page: its points, whether they are drawn, its selection,
    and how many pixels of its canvas differ from the background (the corner pixel)."""
    return page.evaluate(f"""() => {{
        const api = ({MAP_API_JS})().api;
        const img = api.export();
        const d = img.data;
        let drawn = 0;
        for (let i = 0; i < d.length; i += 4)
            if (d[i] != d[0] || d[i + 1] != d[1] || d[i + 2] != d[2] || d[i + 3] != d[3]) drawn++;
        return {{points: api.get('points').length, isDrawn: api.get('isPointsDrawn'),
                 selected: api.get('selectedPoints').length, pixels: img.width * img.height, drawn}};
    }}""")


def open_map(page, n: int) -> None:
    """Open the map's tab and wait until the WebGL widget has its ``n`` points and has painted
    them (``isPointsDrawn`` says the points are loaded; a map that follows its tab's width sizes
    its canvas after that, so the canvas is read until it differs from its background)."""
    page.locator(".lm-TabBar-tab", has_text="Embedding map").click()
    page.wait_for_function(
        f"() => {{ const c = ({MAP_API_JS})(); return c && c.api.get('isPointsDrawn') "
        f"&& c.api.get('points').length == {n}; }}",
        timeout=120_000,
        polling=100,
    )
    page.wait_for_function(
        f"""() => {{ const d = ({MAP_API_JS})().api.export().data;
            for (let i = 4; i < d.length; i += 4)
                if (d[i] != d[0] || d[i + 1] != d[1] || d[i + 2] != d[2] || d[i + 3] != d[3]) return true;
            return false; }}""",
        timeout=30_000,
        polling=200,
    )


def draw_lasso(page) -> None:
    """Choose the toolbar's lasso and draw a loop over the middle of the map with the mouse."""
    page.get_by_title("Activate lasso selection").click()
    box = page.evaluate(
        f"() => {{ const r = ({MAP_API_JS})().getBoundingClientRect(); "
        "return {x: r.x, y: r.y, width: r.width, height: r.height}; }"
    )
    cx, cy, r = box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5, box["height"] * 0.2
    page.mouse.move(cx + r, cy)
    page.mouse.down()
    # not back to the start: regl-scatterplot takes a mouse-up within 3 px of the mouse-down for
    # a click, which selects the nearest point instead
    for a in np.linspace(0, 1.9 * np.pi, 40):
        page.mouse.move(cx + r * np.cos(a), cy + r * np.sin(a), steps=2)
    page.mouse.up()


@pytest.fixture(scope="module")
def map_server():
    """Voila serving a dashboard over a generated 100,000-sample evaluation with an embedding."""
    root = str(Path(__file__).resolve().parent.parent)
    code = (
        f"import sys\nsys.path.insert(0, {root!r})\nfrom h5eval_widgets import Dashboard\n"
        "from tests.generated import generated_evaluation\n"
        "dashboard = Dashboard.from_evaluations({'gen': generated_evaluation(100_000)}, progress=False)\ndashboard"
    )
    nb = dashboard_notebook(None, None, demo=True)
    nb["cells"][0]["source"] = code
    with VoilaServer(nb) as srv:
        folder = str(srv.folder)
        yield srv
    wait_until_no_process_mentions(folder, owner="kernel of the voila server")


def test_the_webgl_map_of_100000_samples_draws_every_point_and_a_lasso_selects_samples(map_server, browser):
    """Check in Chromium on a 100,000-sample evaluation: opening the map's tab hands the WebGL
    widget all 100,000 points and draws them on its canvas, the mistakes shown in the samples view
    are its selection; a lasso drawn with the mouse selects points, which the samples view lists
    and the matrix counts (the same number as the widget's selection); no console error."""
    from playwright.sync_api import expect

    from tests.generated import generated_evaluation

    ev = generated_evaluation(100_000)
    page = browser.new_page(viewport={"width": 1400, "height": 1400})
    errors: list[str] = []
    page.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error" and msg.location.get("url", "").startswith(map_server.url)
            else None
        ),
    )
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(map_server.url, timeout=180_000)
        page.wait_for_selector("text=gen on gen100000: 100,000 samples", timeout=180_000)
        wait_until_settled(page)
        open_map(page, 100_000)
        mistakes = int((ev.y_true != ev.y_pred).sum())
        page.wait_for_function(f"() => ({MAP_API_JS})().api.get('selectedPoints').length == {mistakes}", timeout=30_000)
        facts = map_facts(page)
        assert facts["points"] == 100_000 and facts["isDrawn"]
        assert facts["drawn"] > 0.05 * facts["pixels"], facts  # points on the canvas, not a blank one
        draw_lasso(page)
        title = page.locator("text=/Chosen on the map \\(\\d+\\)/")
        expect(title).to_have_count(1, timeout=30_000)
        n = int(re.search(r"\((\d+)\)", title.inner_text()).group(1))
        assert 0 < n < 100_000
        assert map_facts(page)["selected"] == n
        page.wait_for_selector(f"text=Confusion matrix of the {n} samples chosen on the map", timeout=30_000)
        assert matrix_labels(page, 10).sum() == n
        cards = page.locator(".widget-vbox:has(> .widget-button:text-is('details'))")
        expect(cards).to_have_count(min(12, n), timeout=30_000)
        assert errors == []
    finally:
        page.close()


def test_the_demo_map_and_showing_a_slice(page, demo):
    """Check in Chromium that the demo's embedding map holds and draws its 719 samples, and that
    "show" on a slice of the demo's ink column filters the matrix to that slice, named in its
    title, and hands the map only the slice's points."""
    from playwright.sync_api import expect

    open_map(page, 719)
    facts = map_facts(page)
    assert facts["isDrawn"] and facts["drawn"] > 0
    ev = demo.evaluate("digits_cnn", progress=False)
    table = ev.slices("ink")
    worst, size = table.index[0], int(table["size"].iloc[0])
    open_tab(page, "Slices")
    row = page.locator(".widget-hbox", has=page.locator(".h5eval-slice-row", has_text=worst))
    expect(row).to_have_count(1, timeout=30_000)
    row.locator(".widget-button:text-is('show')").click()
    page.wait_for_selector(f"text=slice: {worst}", timeout=30_000)
    page.wait_for_function(
        "n => [...document.querySelectorAll('text.heatmapcell_label')].slice(0, 100)"
        ".reduce((s, t) => s + Number(t.textContent), 0) == n",
        arg=size,
        timeout=30_000,
    )
    sub = ev.subset(table.at[worst, "rows"])
    np.testing.assert_array_equal(matrix_labels(page, 10), sub.confusion_matrix())
    open_map(page, size)
