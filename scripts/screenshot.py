"""Take the README's screenshots: the demo dashboard in real Chromium, with a cell clicked.

Run from the repository root (needs chromium):  python scripts/screenshot.py [--tasks]

Writes ``docs/dashboard.png`` (1250 px wide, the README's picture), the page at 1280 and 1920
px (``docs/dashboard-1280.png``, ``docs/dashboard-1920.png``) to check the layout, and at 1280
px under Voila's dark theme (``docs/dashboard-dark.png``); then the digits CNN's cell true 8 /
predicted 1 with "show saliency" on and one sample's details (``docs/saliency.png``), and the
embedding map (WebGL) with that cell's samples highlighted (``docs/embedding-map.png``).

Then one picture per task, each with a cell clicked, at 1400 px: a detector on generated boxes
(``docs/dashboard-detection.png``), a segmentation model trained here on generated shapes
(``docs/dashboard-segmentation.png``), a training dashboard after three epochs
(``docs/dashboard-training.png``), and the HTML report of the weak digits model
(``docs/report.png``). The generated data comes from the tests' generators (run from the
repository root).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import sys
import tempfile

from playwright.sync_api import sync_playwright

from h5eval_widgets.serve import VoilaServer, dashboard_notebook

DOCS = Path(__file__).resolve().parent.parent / "docs"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def shoot(browser, url: str, width: int, out: Path, *, clip_height: int | None = None) -> None:
    """The demo with the weak digits model chosen and its cell true 8 / predicted 1 clicked."""
    page = browser.new_page(viewport={"width": width, "height": 1100})
    page.goto(url, timeout=120_000)
    page.wait_for_selector("text=digits_cnn on digits_test: 719 samples", timeout=120_000)
    page.locator(".widget-dropdown:has(label:text-is('model')) select").select_option(label="digits_weak_mlp")
    page.wait_for_selector("text=digits_weak_mlp on digits_test", timeout=60_000)
    box = page.locator("rect.heatmapcell").nth(8 * 10 + 1).bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3)
    page.wait_for_selector("text=true 8 · predicted 1", timeout=30_000)
    page.wait_for_timeout(1500)
    if clip_height:
        page.screenshot(path=str(out), clip={"x": 0, "y": 0, "width": width, "height": clip_height})
    else:
        page.screenshot(path=str(out), full_page=True)
    page.close()
    print("wrote", out)


def shoot_insight(browser, url: str) -> None:
    """Saliency over a cell's samples, and the embedding map highlighting them (a tall page:
    the map's tab is below the samples)."""
    page = browser.new_page(viewport={"width": 1400, "height": 2400})
    page.goto(url, timeout=120_000)
    page.wait_for_selector("text=digits_cnn on digits_test: 719 samples", timeout=120_000)
    box = page.locator("rect.heatmapcell").nth(8 * 10 + 1).bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3)
    page.wait_for_selector("text=true 8 · predicted 1", timeout=30_000)
    page.get_by_role("button", name="show saliency").click()
    page.wait_for_selector("img.h5eval-saliency", timeout=60_000)
    page.locator(".widget-vbox:has(> .widget-button:text-is('details'))").nth(0).locator(
        "> .widget-button:text-is('details')"
    ).click()
    page.wait_for_selector(".h5eval-saliency-detail", timeout=30_000)
    page.wait_for_timeout(1500)
    samples = page.locator(".widget-vbox", has=page.locator("b", has_text="Samples")).last
    samples.screenshot(path=str(DOCS / "saliency.png"))
    print("wrote", DOCS / "saliency.png")
    page.locator(".lm-TabBar-tab", has_text="Embedding map").click()
    # the jupyter-scatter widget: the element holding regl-scatterplot's API, once drawn
    find = "() => [...document.querySelectorAll('div')].find(e => e.api && e.api.get)"
    page.wait_for_function(f"() => {{ const c = ({find})(); return c && c.api.get('isPointsDrawn'); }}", timeout=60_000)
    page.evaluate(f"() => ({find})().scrollIntoView({{block: 'center'}})")
    page.wait_for_timeout(3000)  # the cell's samples (the selection) highlighted, the rest dimmed
    b = page.locator(".h5eval-scatter-scope").bounding_box()  # the map's box, toolbar included
    page.screenshot(
        path=str(DOCS / "embedding-map.png"),
        clip={"x": max(0, b["x"] - 10), "y": b["y"] - 90, "width": b["width"] + 20, "height": b["height"] + 150},
    )
    print("wrote", DOCS / "embedding-map.png")
    page.close()


ROOT = str(Path(__file__).resolve().parent.parent)

DETECTION = """import sys
sys.path.insert(0, {root!r})
from PIL import Image
from h5eval_widgets import Dashboard, Evaluation
from tests.detection_data import make_coco
gt, dets = make_coco(30, seed=4)
for im in gt["images"]:
    Image.new("RGB", (im["width"], im["height"]), (150, 150, 150)).save({folder!r} + "/" + im["file_name"], "JPEG")
ev = Evaluation.from_detections(gt, dets, image_dir={folder!r})
dashboard = Dashboard.from_evaluations({{"detector": ev}})
dashboard"""

SEGMENTATION = """import sys
sys.path.insert(0, {root!r})
import h5eval_widgets
h5eval_widgets.quiet_tensorflow()  # the model is trained here with Keras
from pathlib import Path
from h5eval_widgets import Dashboard, Evaluation
from tests.segmentation_fixtures import CLASSES, _train, shapes, write_folders
X, y = shapes(120, seed=1)
model = _train(Path({folder!r}) / "unet.keras", X[:96], y[:96], pool=False)
images, masks = write_folders(Path({folder!r}), X[96:], y[96:])
ev = Evaluation.from_model(model, images, masks=masks, classes=list(CLASSES), progress=False)
dashboard = Dashboard.from_evaluations({{"unet": ev}})
dashboard"""

TRAINING = """import h5eval_widgets
h5eval_widgets.quiet_tensorflow()  # before Keras, which imports TensorFlow
import keras
from sklearn.datasets import load_digits
from h5eval_widgets import TrainingRecorder
X, y = load_digits(return_X_y=True)
X = (X / 16).reshape(-1, 8, 8, 1).astype("float32")
keras.utils.set_random_seed(0)
model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(6, 3, activation="relu"),
                          keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")])
model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
rec = TrainingRecorder(X[1400:], y[1400:])
model.fit(X[:1400], y[:1400], epochs=3, validation_data=(X[1400:], y[1400:]), verbose=0, callbacks=[rec])
rec.dashboard()"""


def notebook(source: str) -> dict:
    nb = dashboard_notebook(None, None, demo=True)
    nb["cells"][0]["source"] = source
    return nb


def click(page, figure_title: str, k: int, i: int, j: int) -> None:
    """A mouse click on cell (i, j) of the k-wide matrix in the figure titled ``figure_title``."""
    fig = page.locator(".bqplot.figure", has=page.locator("text.mainheading", has_text=figure_title))
    box = fig.locator("rect.heatmapcell").nth(i * k + j).bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.4)


def shoot_task(browser, source: str, out: Path, figure_title: str, cell, wait_text: str) -> None:
    """A task's dashboard served by Voila, a cell clicked, the whole page taken."""
    with VoilaServer(notebook(source)) as srv:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(srv.url, timeout=300_000)
        page.wait_for_selector(f"text={figure_title}", timeout=300_000)
        page.wait_for_timeout(2000)
        click(page, figure_title, *cell)
        page.wait_for_selector(f"text={wait_text}", timeout=60_000)
        page.wait_for_timeout(2500)
        page.screenshot(path=str(out), full_page=True)
        page.close()
    print("wrote", out)


def shoot_report(browser, out: Path) -> None:
    """The weak digits model's HTML report, cell true 8 / predicted 1 clicked."""
    from h5eval_widgets.core import load_demo

    demo = load_demo()
    ev = demo.evaluate("digits_weak_mlp", progress=False)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "report.html"
        path.write_text(ev.to_html(data=demo.dataset("digits_test")), encoding="utf-8")
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(path.as_uri())
        page.locator("td.cell[data-i='8'][data-j='1']").first.click()
        page.wait_for_timeout(1000)
        page.screenshot(path=str(out), full_page=True)
        page.close()
    print("wrote", out)


def shoot_tasks(browser) -> None:
    with tempfile.TemporaryDirectory() as det, tempfile.TemporaryDirectory() as seg:
        shoot_task(
            browser,
            DETECTION.format(root=ROOT, folder=det),
            DOCS / "dashboard-detection.png",
            "Detection matrix",
            (5, 1, 4),
            "missed objects",
        )
        shoot_task(
            browser,
            SEGMENTATION.format(root=ROOT, folder=seg),
            DOCS / "dashboard-segmentation.png",
            "Pixel confusion matrix",
            (3, 1, 2),
            "px of the cell",
        )
    shoot_task(browser, TRAINING, DOCS / "dashboard-training.png", "Confusion matrix", (10, 8, 1), "true 8")
    shoot_report(browser, DOCS / "report.png")


def main() -> None:
    """Every picture; with ``--tasks``, only the task dashboards' and the report's."""
    chromium = shutil.which("chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=ARGS)
        if "--tasks" not in sys.argv:
            with VoilaServer(dashboard_notebook(None, None, demo=True)) as srv:
                shoot(browser, srv.url, 1250, DOCS / "dashboard.png", clip_height=1000)
                for width in (1280, 1920):
                    shoot(browser, srv.url, width, DOCS / f"dashboard-{width}.png")
                shoot(browser, srv.url + "?theme=dark", 1280, DOCS / "dashboard-dark.png")
                shoot_insight(browser, srv.url)
        shoot_tasks(browser)
        browser.close()


if __name__ == "__main__":
    main()
