"""One layout for every task, in real Chromium (Voila): a classifier's, a detector's and a
segmentation model's dashboard, one page each from one server (the notebook picks the task from
the address's query string). After a cell click the cell's first picture is in the 1400x1000
window without scrolling, in the one samples place beside the matrix; every image of a detection
cell and of a segmentation cell is reached by paging; and at 1280, 1400 and 1920 px, after the
click and after "details", the page is no wider than the window and no picture is cut, squashed
or enlarged past twice its own size."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from h5eval_widgets.serve import VoilaServer, dashboard_notebook
from tests.detection_data import make_coco
from tests.helpers import require, wait_until_no_process_mentions
from tests.segmentation_fixtures import CLASSES, _train, seg_data, write_folders  # noqa: F401  (seg_data: a fixture)
from tests.test_browser import CHROMIUM, browser, click_cell, figure_titled, wait_until_settled  # noqa: F401  (browser: a fixture)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (make test installs it)"),
]

WINDOW = {"width": 1400, "height": 1000}

#: Every shown picture of the dashboard that is cut (by the window or by a box that clips it),
#: squashed, or drawn more than twice its own size; and whether the page or the dashboard is wider
#: than the window.
MISFITS = """() => {
    const out = [];
    const de = document.documentElement, root = document.querySelector('.h5eval-dashboard');
    if (de.scrollWidth > innerWidth) out.push(`page ${de.scrollWidth} px wide in a ${innerWidth} px window`);
    if (root.scrollWidth > root.clientWidth + 1) out.push(`dashboard ${root.scrollWidth} px wide in ${root.clientWidth}`);
    for (const im of root.querySelectorAll('img')) {
        if (im.offsetParent === null || !im.naturalWidth) continue;
        const r = im.getBoundingClientRect(), what = `${im.className.split(' ').pop()} ${im.naturalWidth}x${im.naturalHeight}`;
        if (r.left < -1 || r.right > innerWidth + 1) out.push(`${what} cut by the window: ${r.left}..${r.right}`);
        if (r.width > 2 * im.naturalWidth + 1 || r.height > 2 * im.naturalHeight + 1)
            out.push(`${what} drawn ${r.width}x${r.height}`);
        if (Math.abs(r.width / r.height - im.naturalWidth / im.naturalHeight) > 0.05 * im.naturalWidth / im.naturalHeight)
            out.push(`${what} squashed to ${r.width}x${r.height}`);
        for (let a = im.parentElement; a && a !== document.body; a = a.parentElement) {
            if (getComputedStyle(a).overflowX === 'visible') continue;
            const b = a.getBoundingClientRect();
            if (r.left < b.left - 1 || r.right > b.right + 1) { out.push(`${what} cut by ${a.className}`); break; }
        }
    }
    return out;
}"""

#: The first shown picture in the samples place: its box, and whether it is in the samples column.
FIRST_PICTURE = """sel => {
    const im = [...document.querySelectorAll(sel)].find(i => i.offsetParent !== null && i.complete && i.naturalWidth);
    if (!im) return null;
    const r = im.getBoundingClientRect();
    return {left: r.left, top: r.top, right: r.right, bottom: r.bottom,
            inSamples: im.closest('.h5eval-samples-column') !== null, scrolled: document.querySelector(
                '.h5eval-dashboard').getBoundingClientRect().top};
}"""


@pytest.fixture(scope="module")
def served(seg_data, tmp_path_factory):  # noqa: F811
    """Voila serving one notebook that shows the demo, a detection dashboard over 30 generated
    grey images, or a segmentation model's dashboard on 24 images, as ``?task=`` says; with the
    detection and segmentation evaluations made here the same way."""
    require("pycocotools")
    from h5eval_widgets.core import Evaluation

    root = tmp_path_factory.mktemp("layout_browser")
    gt, dets = make_coco(30, seed=4)
    (root / "det").mkdir()
    for im in gt["images"]:
        Image.new("RGB", (im["width"], im["height"]), (90, 90, 90)).save(root / "det" / im["file_name"], "JPEG")
    Xtr, ytr, X, y = seg_data
    model = _train(root / "unet.keras", Xtr, ytr, pool=False)
    images, masks = write_folders(root / "seg", X, y)
    repo = str(Path(__file__).resolve().parent.parent)
    seg = (
        f"Evaluation.from_model({str(model)!r}, {str(images)!r}, masks={str(masks)!r}, "
        f"classes={list(CLASSES)!r}, progress=False)"
    )
    nb = dashboard_notebook(None, None, demo=True)
    nb["cells"][0]["source"] = (
        f"import os, sys\nsys.path.insert(0, {repo!r})\n"
        f"os.environ['H5EVAL_CACHE_DIR'] = {str(root / 'cache')!r}\n"
        "from h5eval_widgets import Dashboard, Evaluation, demo_dashboard\n"
        "from tests.detection_data import make_coco\n"
        "task = os.environ.get('QUERY_STRING', '')\n"
        "if 'detection' in task:\n"
        "    gt, dets = make_coco(30, seed=4)\n"
        "    dashboard = Dashboard.from_evaluations({'detector': Evaluation.from_detections("
        f"gt, dets, image_dir={str(root / 'det')!r})}})\n"
        "elif 'segmentation' in task:\n"
        f"    dashboard = Dashboard.from_evaluations({{'unet': {seg}}})\n"
        "else:\n"
        "    dashboard = demo_dashboard(progress=False)\n"
        "dashboard"
    )
    detection = Evaluation.from_detections(gt, dets, image_dir=root / "det")
    segmentation = Evaluation.from_model(model, images, masks=masks, classes=CLASSES, progress=False)
    with VoilaServer(nb) as srv:
        folder = str(srv.folder)
        yield srv, detection, segmentation
    wait_until_no_process_mentions(folder, owner="kernel of the voila server")


def open_page(browser, srv, task: str, matrix: str, n_cells: int):  # noqa: F811
    from playwright.sync_api import expect

    page = browser.new_page(viewport=WINDOW)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)  # item 10
    page.goto(f"{srv.url}?task={task}", timeout=120_000)
    cells = figure_titled(page, matrix).locator("rect.heatmapcell")
    expect(cells).to_have_count(n_cells, timeout=180_000)
    wait_until_settled(page)
    return page, cells, errors


def assert_first_picture_in_the_window(page, selector: str) -> None:
    """The first picture of the samples place is wholly inside the 1400x1000 window, the page not
    scrolled, and in the samples column (the same place for every task)."""
    page.wait_for_function(f"({FIRST_PICTURE})({selector!r}) !== null", timeout=30_000)
    wait_until_settled(page)
    box = page.evaluate(FIRST_PICTURE, selector)
    assert box["inSamples"] and box["scrolled"] >= 0, box
    assert 0 <= box["left"] and box["right"] <= WINDOW["width"], box
    assert 0 <= box["top"] and box["bottom"] <= WINDOW["height"], box


def assert_fits_at_every_width(page, when: str) -> None:
    """No misfit at 1280, 1400 and 1920 px (the window resized, the page reflowing)."""
    for width in (1280, 1920, 1400):
        page.set_viewport_size({"width": width, "height": WINDOW["height"]})
        page.wait_for_timeout(300)
        assert page.evaluate(MISFITS) == [], f"{when}, {width} px"


def visible_texts(page, selector: str, attribute: str) -> list[str]:
    return page.locator(selector).evaluate_all(
        f"es => es.filter(e => e.offsetParent !== null).map(e => e.dataset.{attribute})"
    )


def page_through(page, panel: str, selector: str, attribute: str, pages: int) -> list[str]:
    """Every item reached with "next ▶" from page 1 to the last ("page n of pages" each time)."""
    seen = []
    for n in range(1, pages + 1):
        page.wait_for_selector(f"{panel} >> text=page {n} of {pages}", timeout=30_000)
        wait_until_settled(page)
        seen += visible_texts(page, selector, attribute)
        if n < pages:
            page.locator(f"{panel} .widget-button:text-is('next ▶')").click()
    assert page.locator(f"{panel} .widget-button:text-is('next ▶')").is_disabled()
    return seen


def test_the_classifiers_samples_are_in_the_window_and_fit(served, browser):  # noqa: F811
    """Check, on the demo: a click on cell (8, 1) shows its first card in the window, beside the
    matrix; its "details" picture and the cards fit at every width; no page error."""
    srv, _, _ = served
    page, cells, errors = open_page(browser, srv, "demo", "Confusion matrix", 100)
    try:
        page.wait_for_selector("text=digits_cnn on digits_test: 719 samples", timeout=60_000)
        wait_until_settled(page)
        click_cell(page, 10, 8, 1, cells)
        page.wait_for_selector("text=true 8 · predicted 1", timeout=30_000)
        assert_first_picture_in_the_window(page, ".h5eval-samples-column .widget-vbox img")
        assert_fits_at_every_width(page, "after a click")
        page.locator(".h5eval-samples-column .widget-button:text-is('details'):visible").first.click()
        page.wait_for_selector("text=Sample #", timeout=30_000)
        wait_until_settled(page)
        assert_fits_at_every_width(page, "after details")
        assert errors == []
    finally:
        page.close()


def test_a_detection_cell_pages_through_every_image_in_the_window(served, browser):  # noqa: F811
    """Check, on a detector: a click on the cell with the most images (more than a page) shows
    its first picture in the window, in the samples column; "next ▶" reaches every image of the
    cell once, in the cell's order; "details" lists them all and draws the chosen one no larger
    than twice its size; everything fits at every width."""
    srv, ev, _ = served
    k = ev.n_classes
    cell_images = {
        (i, j): list(dict.fromkeys(ev.cell_indices(i, j)["image_id"].tolist()))
        for i in range(k + 1)
        for j in range(k + 1)
        if (i, j) != (k, k)
    }
    (i, j), images = max(cell_images.items(), key=lambda kv: len(kv[1]))
    pages = -(-len(images) // 6)
    assert pages >= 2
    page, cells, errors = open_page(browser, srv, "detection", "Detection matrix", (k + 1) ** 2)
    try:
        click_cell(page, k + 1, i, j, cells)
        page.wait_for_selector(f"text=on {len(images)} image(s)", timeout=30_000)
        assert_first_picture_in_the_window(page, ".h5eval-detection-gallery img")
        assert_fits_at_every_width(page, "after a click")
        seen = page_through(
            page, ".h5eval-detection-samples", ".h5eval-detection-names [data-image-id]", "imageId", pages
        )
        assert seen == [str(im) for im in images]
        choice = page.locator(".h5eval-detection-samples select")
        files = ev.images.set_index("image_id")["file_name"]
        assert choice.locator("option").all_inner_texts()[-len(images) :] == [files.loc[im] for im in images]
        widest = max(images, key=lambda im: ev.images.set_index("image_id").loc[im, "width"])
        choice.select_option(label=files.loc[widest])
        page.wait_for_function(
            "() => { const im = document.querySelector('.h5eval-detection-detail');"
            " return im && im.offsetParent !== null && im.complete && im.naturalWidth > 0; }",
            timeout=30_000,
        )
        wait_until_settled(page)
        assert_fits_at_every_width(page, "after details")
        assert errors == []
    finally:
        page.close()


def test_a_segmentation_cell_pages_through_every_image_in_the_window(served, browser):  # noqa: F811
    """Check, on a segmentation model: a click on cell (square, disc) shows its first image in the
    window, in the samples column; "next ▶" reaches every image of the cell once, in the cell's
    order; the four "details" panels and the cards fit at every width (none cut at the edge)."""
    srv, _, ev = served
    idx = ev.cell_indices(1, 2)
    pages = -(-len(idx) // 6)
    assert pages >= 2
    page, cells, errors = open_page(browser, srv, "segmentation", "Pixel confusion matrix", 9)
    try:
        page.wait_for_selector("text=Worst mean IoU first", timeout=60_000)
        wait_until_settled(page)
        click_cell(page, 3, 1, 2, cells)
        page.wait_for_selector(f"text=true square · predicted disc ({len(idx)})", timeout=30_000)
        page.wait_for_selector(f"text=page 1 of {pages}", timeout=30_000)
        assert_first_picture_in_the_window(page, ".h5eval-mask-card img")
        assert_fits_at_every_width(page, "after a click")
        seen = page_through(page, ".h5eval-mask-gallery", ".h5eval-mask-card [data-index]", "index", pages)
        assert seen == [str(i) for i in idx]
        page.locator(".h5eval-mask-card .widget-button:text-is('details'):visible").first.click()
        page.wait_for_function(
            "() => { const ims = [...document.querySelectorAll('.h5eval-mask-detail')];"
            " return ims.length == 4 && ims.every(im => im.offsetParent !== null && im.complete && im.naturalWidth); }",
            timeout=30_000,
        )
        wait_until_settled(page)
        assert_fits_at_every_width(page, "after details")
        assert errors == []
    finally:
        page.close()
