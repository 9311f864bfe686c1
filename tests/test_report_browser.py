"""The interactive HTML report in real Chromium, opened from ``file://`` with every network
request refused: a click on a matrix cell shows its samples' pictures, the binary threshold
slider moves the matrix, and nothing fails or logs an error."""

from __future__ import annotations

import numpy as np
import pytest

from h5eval_widgets.cli import main
from h5eval_widgets.core.results.names import fmt
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (make test installs it)"),
]


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """The demo's pages, as `h5eval report --demo --format html -o demo.html` writes them."""
    out = tmp_path_factory.mktemp("browser-reports") / "demo.html"
    assert main(["report", "--demo", "--format", "html", "-o", str(out), "-q"]) == 0
    return {name: out.with_name(f"demo-{name}.html") for name in ("digits_cnn", "breast_cancer_mlp")}


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture()
def offline(browser):
    """A page that refuses every request but file:// ones, recording refused requests and
    console errors; checked empty at the end."""
    pg = browser.new_page(viewport={"width": 1300, "height": 1200})
    refused, errors = [], []

    def route(r):
        if r.request.url.startswith(("file:", "data:")):
            r.continue_()
        else:
            refused.append(r.request.url)
            r.abort()

    pg.route("**/*", route)
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on("requestfailed", lambda r: errors.append(f"failed {r.url}"))
    yield pg
    assert refused == [] and errors == []
    pg.close()


def card_ids(page) -> list[int]:
    return [
        int(x) for x in page.locator("#samples-panel .card").evaluate_all("cards => cards.map(c => c.dataset.sample)")
    ]


def test_a_click_on_a_cell_shows_its_samples_pictures_offline(pages, offline):
    """Check in Chromium, from file:// with the network refused, that clicking the digits cell
    true 8 / predicted 1 shows its 4 samples' pictures (decoded), most confident first, and a
    diagonal cell pages its 48 listed samples 12 at a time."""
    from h5eval_widgets import load_demo

    ev = load_demo().evaluate("digits_cnn", progress=False)
    pg = offline
    pg.goto(pages["digits_cnn"].as_uri())
    pg.locator("td.cell[data-true='8'][data-predicted='1']").click()
    pg.wait_for_selector("#samples-panel .card img")
    assert card_ids(pg) == ev.cell_indices(8, 1).tolist()
    decoded = pg.locator("#samples-panel .card img").evaluate_all(
        "imgs => imgs.map(i => i.complete && i.naturalWidth > 0)"
    )
    assert decoded == [True] * 4
    assert "true 8 · predicted 1" in pg.locator("#samples-panel").inner_text()
    pg.locator("td.cell[data-true='3'][data-predicted='3']").click()
    pg.wait_for_selector("text=page 1 of 4")
    first = ev.cell_indices(3, 3)
    assert card_ids(pg) == first[:12].tolist()
    pg.locator("button[data-go='1']").click()
    pg.wait_for_selector("text=page 2 of 4")
    assert card_ids(pg) == first[12:24].tolist()
    assert pg.locator("#samples-panel .card.right img").count() == 12


def test_the_binary_threshold_slider_moves_the_matrix_offline(pages, offline):
    """Check in Chromium that moving the binary report's slider with the keyboard changes the
    matrix to the engine's counts at the new threshold, and the open cell's samples follow."""
    from h5eval_widgets import load_demo

    ev = load_demo().evaluate("breast_cancer_mlp", progress=False)
    pg = offline
    pg.goto(pages["breast_cancer_mlp"].as_uri())

    def matrix():
        return np.array([int(t) for t in pg.locator("td.cell[data-m='0']").all_text_contents()]).reshape(2, 2)

    np.testing.assert_array_equal(matrix(), ev.confusion_matrix())
    pg.locator("td.cell[data-true='malignant'][data-predicted='benign']").click()
    pg.wait_for_selector("#samples-panel .card")
    before_cards = card_ids(pg)
    missed = ev.cell_indices(1, 0).tolist()  # malignant predicted benign: 3 samples in the demo
    assert before_cards == missed and len(missed) >= 2
    scores = sorted(ev.y_proba[missed, 1])
    slider = pg.locator("#threshold")
    slider.focus()
    # down to a threshold between the two highest of those scores (the grid steps by 0.001):
    # the sample scored above it leaves the cell, the others stay
    target = (scores[-2] + scores[-1]) / 2
    for _ in range(round((ev.threshold - target) * 1000)):
        pg.keyboard.press("ArrowLeft")
    t = float(pg.locator("#threshold-value").inner_text())
    assert scores[-2] < t <= scores[-1]
    after = matrix()
    want = ev.decisions(t).confusion
    np.testing.assert_array_equal(after, want)
    assert not np.array_equal(after, ev.confusion_matrix())
    after_cards = card_ids(pg)
    assert after_cards == [i for i in before_cards if ev.y_proba[i, 1] < t]
    assert 0 < len(after_cards) < len(before_cards)
    recall = want[1, 1] / want[1].sum()
    assert pg.locator("[data-threshold-metric='recall']").inner_text() == fmt(recall)
