"""Promises the docs make that need a browser (issue 33), in real Chromium from ``file://`` with
every other request refused and recorded (the ``offline`` page of test_report_browser.py)."""

from __future__ import annotations

import numpy as np
import pytest

from h5eval_widgets.core.data.datasets import Dataset
from tests.generated import generated_evaluation
from tests.test_browser import CHROMIUM
from tests.test_report_browser import browser, card_ids, offline  # noqa: F401  (fixtures)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (make test installs it)"),
]


def report_with_urls(folder):
    """A 3-class report whose samples are texts naming remote images (an address, and markup
    that would load it if the page drew the text as HTML), and its evaluation."""
    ev = generated_evaluation(300, k=3)
    texts = np.array(
        [
            f"sample {i}: http://example.invalid/{i}.png <img src='http://example.invalid/{i}-tag.png'>"
            for i in range(300)
        ],
        dtype=object,
    )
    data = Dataset(texts, np.asarray(ev.y_true), kind="text", name="texts")
    path = folder / "report.html"
    path.write_text(ev.to_html(data=data, bootstrap=False), encoding="utf-8")
    return path, ev, texts


def test_enter_on_a_focused_matrix_cell_opens_it_and_remote_images_are_not_fetched(tmp_path, offline):  # noqa: F811
    """docs/report.md: "a click (or Enter) lists that cell's samples, most confident first": a
    cell reached by the keyboard (focusable) and Enter lists the cell's samples, with no mouse;
    the samples' texts name remote images, shown as text and never fetched (the page asks for
    nothing but file:// and data: addresses, or ``offline`` fails)."""
    path, ev, texts = report_with_urls(tmp_path)
    pg = offline
    pg.goto(path.as_uri())
    cell = pg.locator("td.cell[data-m='0'][data-true='c2'][data-predicted='c0']")
    cell.focus()
    assert (
        pg.evaluate("document.activeElement.dataset.true + '/' + document.activeElement.dataset.predicted") == "c2/c0"
    )
    assert pg.locator("#samples-panel .card").count() == 0
    pg.keyboard.press("Enter")
    pg.wait_for_selector("#samples-panel .card")
    want = ev.cell_indices(2, 0).tolist()
    assert len(want) >= 2 and card_ids(pg) == want
    panel = pg.locator("#samples-panel")
    assert f"http://example.invalid/{want[0]}.png" in panel.inner_text()
    assert f"<img src='http://example.invalid/{want[0]}-tag.png'>" in panel.inner_text()  # as text
    assert panel.locator("img[src^='http']").count() == 0
    # another focused cell and Enter: that cell replaces the first
    pg.locator("td.cell[data-m='0'][data-true='c1'][data-predicted='c2']").focus()
    pg.keyboard.press("Enter")
    pg.wait_for_function(
        "ids => JSON.stringify([...document.querySelectorAll('#samples-panel .card')].map(c => +c.dataset.sample)) === ids",
        arg=str(ev.cell_indices(1, 2).tolist()).replace(" ", ""),
    )
