"""The training dashboard in real Chromium, served by Voila: the page's kernel fits a small CNN
with the recorder, and moving the epoch slider with the keyboard redraws the matrix with that
epoch's counts (as the recorder in the kernel wrote them down) and names the epoch shown."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from h5eval_widgets.serve import VoilaServer, dashboard_notebook
from tests.helpers import wait_until_no_process_mentions
from tests.test_browser import CHROMIUM, browser, matrix_labels, wait_until_settled  # noqa: F401  (browser: a fixture)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (make test installs it)"),
]

EPOCHS = 4

#: The notebook's cell: fit on the digits with the recorder, write each epoch's matrix down,
#: show the dashboard (made before fit, so it has followed every epoch to the last).
CELL = """import json, os, sys
os.environ['H5EVAL_CACHE_DIR'] = {cache!r}
sys.path.insert(0, {root!r})
from tests.test_training import _cnn, _digits
from h5eval_widgets import TrainingRecorder
Xt, yt, Xv, yv = _digits()
rec = TrainingRecorder(Xv, yv, classes=[str(i) for i in range(10)])
dashboard = rec.dashboard()
_cnn(7).fit(Xt, yt, epochs={epochs}, batch_size=64, verbose=0, callbacks=[rec])
with open({out!r}, 'w') as f:
    json.dump({{e: rec.evaluation(e).confusion_matrix().tolist() for e in rec.epochs}}, f)
dashboard"""


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    folder = tmp_path_factory.mktemp("training_browser")
    out = folder / "matrices.json"
    root = str(Path(__file__).resolve().parent.parent)
    nb = dashboard_notebook(None, None, demo=True)
    nb["cells"][0]["source"] = CELL.format(cache=str(folder / "cache"), root=root, epochs=EPOCHS, out=str(out))
    with VoilaServer(nb) as srv:
        served_from = str(srv.folder)
        yield srv, out
    wait_until_no_process_mentions(served_from, owner="kernel of the voila server")


def _wait_for_matrix(page, expected: np.ndarray) -> None:
    """Wait until every drawn cell shows ``expected`` (the heatmap redraws cell by cell)."""
    page.wait_for_function(
        "want => { const t = [...document.querySelectorAll('text.heatmapcell_label')].map(e => e.textContent);"
        " return t.length >= want.length && want.every((w, n) => t[n] == w); }",
        arg=[str(v) for v in expected.ravel()],
        timeout=30_000,
    )


def test_the_epoch_slider_moved_with_the_keyboard_redraws_that_epochs_matrix(served, browser):  # noqa: F811
    """Check in Chromium: the dashboard shows the last epoch after fit (matrix and status); Home on
    the slider's handle shows epoch 1's matrix (different from the last) and names epoch 1;
    ArrowRight steps to epoch 2's matrix; no page error and no console error (the history charts,
    the cartography under the matrix)."""
    srv, out = served
    page = browser.new_page(viewport={"width": 1400, "height": 1400})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)
    try:
        page.goto(srv.url, timeout=180_000)
        page.wait_for_selector("rect.heatmapcell", timeout=180_000)
        matrices = {int(e): np.array(m) for e, m in json.loads(out.read_text()).items()}
        assert sorted(matrices) == list(range(1, EPOCHS + 1))
        assert not np.array_equal(matrices[1], matrices[EPOCHS])  # the slider has something to show
        _wait_for_matrix(page, matrices[EPOCHS])
        page.wait_for_selector(f".h5eval-dashboard >> text=/epoch {EPOCHS}\\b/", timeout=30_000)
        wait_until_settled(page)
        slider = page.locator(".widget-hslider:has(label:text-is('epoch'))")
        readout = slider.locator(".widget-readout")
        assert readout.inner_text().strip() == str(EPOCHS)
        handle = slider.locator(".noUi-handle")
        handle.focus()
        page.keyboard.press("Home")
        _wait_for_matrix(page, matrices[1])
        np.testing.assert_array_equal(matrix_labels(page, 10), matrices[1])
        assert readout.inner_text().strip() == "1"
        page.wait_for_selector(".h5eval-dashboard >> text=/epoch 1\\b/", timeout=30_000)
        handle.focus()
        page.keyboard.press("ArrowRight")
        _wait_for_matrix(page, matrices[2])
        np.testing.assert_array_equal(matrix_labels(page, 10), matrices[2])
        assert errors == []
    finally:
        page.close()
