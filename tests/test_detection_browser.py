"""The detection dashboard in real Chromium, served by Voila: a mouse click on a background cell
(objects of a class the detector missed) draws exactly that cell's images, each with its missed
boxes drawn in the highlight colour, read back from the page through a canvas."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from h5eval_widgets.serve import VoilaServer, dashboard_notebook
from h5eval_widgets.views._boxes import HIGHLIGHT
from tests.detection_data import make_coco
from tests.helpers import require, wait_until_no_process_mentions
from tests.test_browser import CHROMIUM, browser, click_cell, colour_counts, figure_titled, wait_until_settled  # noqa: F401  (browser: a fixture)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (make test installs it)"),
]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """Voila serving a detection dashboard over 30 generated grey images, with the same
    evaluation made here."""
    require("pycocotools")
    from h5eval_widgets.core import Evaluation

    root = tmp_path_factory.mktemp("detection_browser")
    gt, dets = make_coco(30, seed=4)
    for im in gt["images"]:
        Image.new("RGB", (im["width"], im["height"]), (90, 90, 90)).save(root / im["file_name"], "JPEG")
    repo = str(Path(__file__).resolve().parent.parent)
    nb = dashboard_notebook(None, None, demo=True)
    nb["cells"][0]["source"] = (
        f"import sys\nsys.path.insert(0, {repo!r})\n"
        "from h5eval_widgets import Dashboard, Evaluation\nfrom tests.detection_data import make_coco\n"
        "gt, dets = make_coco(30, seed=4)\n"
        f"ev = Evaluation.from_detections(gt, dets, image_dir={str(root)!r})\n"
        "dashboard = Dashboard.from_evaluations({'detector': ev})\ndashboard"
    )
    ev = Evaluation.from_detections(gt, dets, image_dir=root)
    with VoilaServer(nb) as srv:
        folder = str(srv.folder)
        yield srv, ev
    wait_until_no_process_mentions(folder, owner="kernel of the voila server")


def test_a_background_cell_click_draws_its_images_with_the_missed_boxes(served, browser):  # noqa: F811
    """Check in Chromium: a mouse click on the cell (dog, background) titles the cell with its
    count of missed objects, shows exactly its images (in the cell's order, at most 6), and every
    picture shows its missed boxes in the highlight colour, pixel for pixel as the view draws them
    for that cell; no page error."""
    from playwright.sync_api import expect

    srv, ev = served
    k = ev.n_classes
    cell = ev.cell_indices(1, k)
    images = list(dict.fromkeys(cell["image_id"].tolist()))
    shown = min(len(images), 6)
    assert len(cell) == ev.confusion_matrix()[1, k] > 0 and shown >= 2
    page = browser.new_page(viewport={"width": 1400, "height": 1400})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(srv.url, timeout=120_000)
        cells = figure_titled(page, "Detection matrix").locator("rect.heatmapcell")
        expect(cells).to_have_count((k + 1) ** 2, timeout=120_000)
        wait_until_settled(page)
        click_cell(page, k + 1, 1, k, cells)
        page.wait_for_selector(f"text={len(cell)} missed objects on {len(images)} image(s)", timeout=30_000)
        page.wait_for_function(
            "n => { const ims = [...document.querySelectorAll('.h5eval-detection-gallery img')];"
            " return ims.length == n && ims.every(im => im.complete && im.naturalWidth > 0); }",
            arg=shown,
            timeout=30_000,
        )
        wait_until_settled(page)
        sizes = page.locator(".h5eval-detection-gallery img").evaluate_all(
            "ims => ims.map(im => [im.naturalWidth, im.naturalHeight])"
        )
        highlighted = colour_counts(page, ".h5eval-detection-gallery img", HIGHLIGHT)
        assert len(highlighted) == shown and all(n > 20 for n in highlighted), highlighted
        # the pictures are the ones the view draws for the cell's images, in the cell's order
        want = _view_pictures(ev, 1, k, images[:shown])
        assert sizes == [[w.shape[1], w.shape[0]] for w in want]
        assert highlighted == [int((w == HIGHLIGHT).all(axis=-1).sum()) for w in want]
        assert errors == []
    finally:
        page.close()


def _view_pictures(ev, true: int, predicted: int, image_ids) -> list[np.ndarray]:
    """The pictures a headless detection view draws for that cell, as RGB arrays."""
    from h5eval_widgets import Dashboard

    dash = Dashboard.from_evaluations({"detector": ev})
    try:
        dash.detection.show_cell(true, predicted)
        pics = [np.asarray(Image.open(io.BytesIO(p.value)).convert("RGB")) for p in dash.detection.gallery.children]
        assert len(pics) == len(image_ids)
        return pics
    finally:
        dash.close()
