"""Promises the docs make that no other test checked (issue 33): each test names the page and the
sentence it holds the code to. Fast: generated evaluations, tiny models, no browser."""

from __future__ import annotations

import base64
import io
import json
import re
import subprocess
import sys

import numpy as np
import pytest

from h5eval_widgets import Evaluation
from h5eval_widgets.core.data.datasets import Dataset
from tests.generated import generated_evaluation
from tests.test_html_report import page_data


def test_pandas_and_tensorflow_are_imported_on_first_use():
    """docs/layout.md: "_lazy.py  pandas and TensorFlow imported on first use": importing the
    package (and its Evaluation) imports neither; the first evaluation imports pandas."""
    code = (
        "import sys, numpy as np\n"
        "import h5eval_widgets\nfrom h5eval_widgets import Evaluation\n"
        "before = sorted(m for m in ('pandas', 'tensorflow') if m in sys.modules)\n"
        "ev = Evaluation.from_predictions([0, 1, 1], np.array([[.8, .2], [.3, .7], [.6, .4]]))\n"
        "ev.per_class()\n"
        "print(before, 'pandas' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.split("\n")[0] == "[] True"


# ---------------------------------------------------------------------- the training recorder
def _tiny_fit(rec, epochs: int = 3):
    import keras

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(64, 4)).astype("float32"), rng.integers(0, 3, 64)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(X, y, epochs=epochs, verbose=0, callbacks=[rec])
    return X, y


def test_the_recorders_default_memory_bound_and_folder_and_close(tmp_path, monkeypatch):
    """docs/training.md: outputs stay in memory "up to `memory_limit` bytes (256 MiB by
    default); older ones are written ... (in `directory`, or a new folder under `training/` in
    the cache folder)"; "`rec.close()` deletes the files it wrote (never a folder you gave)"."""
    from h5eval_widgets import TrainingRecorder

    rng = np.random.default_rng(1)
    Xv, yv = rng.normal(size=(40, 4)).astype("float32"), rng.integers(0, 3, 40)
    one_epoch = 40 * 3 * 4

    rec = TrainingRecorder(Xv, yv, embeddings=False)
    _tiny_fit(rec)
    assert rec._outputs.limit == 256 * 2**20 and rec.files == []  # 3 small epochs: all in memory
    rec.close()

    cache = tmp_path / "cache"
    monkeypatch.setenv("H5EVAL_CACHE_DIR", str(cache))
    rec = TrainingRecorder(Xv, yv, memory_limit=one_epoch, embeddings=False)
    _tiny_fit(rec)
    (run,) = (cache / "training").iterdir()
    assert run.is_dir() and len(list(run.glob("*.npy"))) == len(rec.files) == 2
    rec.close()
    assert list((cache / "training").iterdir()) == []  # the folder it made, removed whole

    given = tmp_path / "mine"
    given.mkdir()
    (given / "notes.txt").write_text("mine")
    rec = TrainingRecorder(Xv, yv, memory_limit=one_epoch, directory=given, embeddings=False)
    _tiny_fit(rec)
    assert len(list(given.glob("*.npy"))) == 2
    rec.close()
    assert given.is_dir() and sorted(p.name for p in given.iterdir()) == ["notes.txt"]


# ---------------------------------------------------------------------- the HTML report
def _pngs(page: str) -> list:
    from PIL import Image

    out = []
    for rec in page_data(page)["samples"].values():
        if "img" in rec:
            out.append(Image.open(io.BytesIO(base64.b64decode(rec["img"].split(",", 1)[1]))))
    return out


def test_static_html_is_the_page_of_tables_with_no_script():
    """docs/report.md: "`ev.to_html(static=True)` gives the earlier page of tables, with no
    script"; its metrics are the evaluation's."""
    ev = generated_evaluation(300, k=3)
    page = ev.to_html(static=True)
    assert "<script" not in page.lower() and "<table" in page
    for name in ("accuracy", "f1_macro"):
        row = re.search(rf"<t[hd][^>]*>{name}</t[hd]>\s*<td[^>]*>([\d.]+)</td>", page)
        assert row is not None, name
        assert float(row.group(1)) == pytest.approx(ev.scores[name], abs=5e-5), name
    assert "<script" in ev.to_html()  # the interactive page does have one


def test_report_thumbnails_are_at_most_64_px_in_256_colours_and_40_px_past_1000_samples():
    """docs/report.md: "thumbnails are at most 64 px (40 px past 1,000 samples), and colour ones
    are cut to 256 colours"."""
    from h5eval_widgets.core.results.report_data import sample_records

    ev = generated_evaluation(1200, k=10)
    rng = np.random.default_rng(0)
    photos = rng.integers(0, 256, (1200, 100, 90, 3), dtype=np.uint8)
    data = Dataset(photos, np.asarray(ev.y_true), kind="image", name="noise")
    pngs = _pngs(ev.to_html(data=data, bootstrap=False))
    assert 0 < len(pngs) <= 1000
    assert {im.size for im in pngs} == {(58, 64)}  # the longer side 64 (100 px tall, 90 wide), the shape kept
    colours = [im.convert("RGB").getcolors(256) for im in pngs]  # None past 256 colours
    assert all(c is not None for c in colours)
    assert max(len(c) for c in colours) > 200  # noise pictures: the cut is reached
    many = sample_records(ev, range(1001), data)
    sizes = {_pngs_of(r["img"]).size for r in many.values()}
    assert sizes == {(36, 40)}


def _pngs_of(uri: str):
    from PIL import Image

    return Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))


def test_report_text_samples_are_cut_to_400_characters():
    """The report's sample records: a text sample is shown by its first 400 characters
    (report_data.sample_records)."""
    from h5eval_widgets.core.results.report_data import sample_records

    ev = generated_evaluation(20, k=2)
    texts = np.array([f"{i:03d} " + "word " * 200 for i in range(20)], dtype=object)
    data = Dataset(texts, np.asarray(ev.y_true), kind="text", name="texts")
    recs = sample_records(ev, [0, 7], data)
    assert recs["7"]["text"] == texts[7][:400] and len(texts[7]) > 400


def test_regression_report_lists_the_largest_and_smallest_errors():
    """docs/report.md: "for a regression, predicted against true values and the largest and
    smallest errors' samples"; the lists are those of |error| sorted, computed here."""
    rng = np.random.default_rng(3)
    y = rng.normal(size=200)
    pred = y + rng.normal(scale=np.linspace(0.01, 2, 200))
    ev = Evaluation.from_predictions(y, pred, task="regression")
    views = page_data(ev.to_html(bootstrap=False))
    lists = {v["title"]: v["ids"] for v in views["lists"]}
    err = np.abs(pred - y)
    (largest,) = [ids for t, ids in lists.items() if "largest" in t]
    (smallest,) = [ids for t, ids in lists.items() if "smallest" in t]
    n = len(smallest)
    assert n >= 10 and len(largest) == n
    assert smallest == np.argsort(err, kind="stable")[:n].tolist()
    assert largest == np.argsort(-err, kind="stable")[:n].tolist()


def test_binary_report_offers_the_best_f1_and_youden_thresholds():
    """docs/report.md: the slider's grid holds "the model's, best-F1 and best-Youden
    thresholds", each a button: the thresholds computed here with scikit-learn."""
    from sklearn.metrics import precision_recall_curve, roc_curve

    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, 400)
    p1 = np.clip(0.5 + (y - 0.5) * 0.3 + rng.normal(scale=0.25, size=400), 0.001, 0.999).round(3)
    ev = Evaluation.from_predictions(y, np.c_[1 - p1, p1])
    page = ev.to_html(bootstrap=False)
    thresholds = page_data(page)["threshold"]["thresholds"]
    buttons = {
        label: (int(i), float(t))
        for i, t, label in re.findall(r"<button data-threshold='(\d+)' title='([\d.e-]+)'>([^<(]+) \(", page)
    }
    fpr, tpr, roc_t = roc_curve(y, p1)
    youden = roc_t[np.argmax(tpr - fpr)]
    prec, rec, pr_t = precision_recall_curve(y, p1)
    f1 = 2 * prec[:-1] * rec[:-1] / np.maximum(prec[:-1] + rec[:-1], 1e-12)
    best_f1 = pr_t[np.argmax(f1)]
    for label, want in (("best F1", best_f1), ("best Youden's J", youden)):
        i, t = buttons[label]
        assert t == pytest.approx(want, abs=1e-12), label  # the exact threshold in the button's tooltip
        assert thresholds[i] == pytest.approx(want, abs=1e-9), label
    assert json.dumps(sorted(buttons)) == json.dumps(sorted(["best F1", "best Youden's J", "model's threshold"]))


def _summary_values(dash) -> dict:
    """The metrics the dashboard's summary shows, by key (as drawn, formatted)."""
    return dict(re.findall(r"data-metric='([^']+)'[^>]*>([^<]*)<", dash.summary.table.value))


def test_the_play_button_moves_the_epochs_and_the_metrics_and_curves_follow():
    """docs/training.md: "`rec.dashboard()` adds an epoch slider and a play button that every view
    follows: the matrix, the metrics, the curves ...": each value the play button takes (as its
    ticks in the browser set it) shows that epoch, whose metrics and ROC/PR curves are drawn."""
    from h5eval_widgets import TrainingRecorder
    from h5eval_widgets.core.results.names import fmt

    rng = np.random.default_rng(1)
    Xv, yv = rng.normal(size=(60, 4)).astype("float32"), rng.integers(0, 3, 60)
    rec = TrainingRecorder(Xv, yv, embeddings=False)
    import keras

    keras.utils.set_random_seed(0)
    X, y = rng.normal(size=(64, 4)).astype("float32"), rng.integers(0, 3, 64)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile(keras.optimizers.Adam(0.3), "sparse_categorical_crossentropy")  # big steps: epochs differ
    model.fit(X, y, epochs=3, verbose=0, callbacks=[rec])
    dash = rec.dashboard()
    try:
        play = dash.epochs.play
        assert (play.min, play.max) == (0, 2) and dash.epochs.layout.display != "none"
        seen = {}
        for value in (0, 1, 2, 0):
            play.value = value
            epoch = value + 1
            ev = rec.evaluation(epoch)
            assert dash.session.shown_epoch == epoch and dash.epochs.slider.value == str(epoch)
            shown = _summary_values(dash)
            assert {"accuracy", "f1_macro"} <= set(shown)
            for name, text in shown.items():
                assert text == fmt(ev.scores[name], missing="undefined"), (epoch, name)
            pos = dash.curves._pos()
            roc, pr = ev.roc_curve(pos), ev.pr_curve(pos)
            np.testing.assert_array_equal(dash.curves.roc_line.x, roc["fpr"].to_numpy())
            np.testing.assert_array_equal(dash.curves.roc_line.y, roc["tpr"].to_numpy())
            np.testing.assert_array_equal(dash.curves.pr_line.y, pr["precision"].to_numpy())
            seen[epoch] = (shown, np.asarray(dash.curves.roc_line.y).copy())
        # the epochs differ, so following them is seen
        assert seen[1][0] != seen[3][0]
        assert len(seen[1][1]) != len(seen[3][1]) or not np.array_equal(seen[1][1], seen[3][1])
    finally:
        dash.close()
        rec.close()


# ---------------------------------------------------------------------- segmentation
def _seg_matrix(y: np.ndarray, pred: np.ndarray, k: int = 3, ignore: int = 255) -> np.ndarray:
    from sklearn.metrics import confusion_matrix

    keep = y != ignore
    return confusion_matrix(y[keep], pred[keep], labels=range(k))


def _seg_predict(path, X) -> np.ndarray:
    import keras

    return keras.models.load_model(path, compile=False).predict(X, verbose=0)


def test_segmentation_reads_palette_png_masks_as_class_indices(seg_models, seg_data, tmp_path):
    """docs/tasks/segmentation.md: masks are "grayscale or palette PNGs of class indices, as
    Pascal VOC stores them": a palette PNG's pixel values are the classes whatever colours its
    palette draws them in (here not VOC's, and 255 the ignored border), with no warning."""
    import warnings

    from PIL import Image

    from tests.segmentation_fixtures import scaled, write_folders

    _, _, X, y = seg_data
    y = y.copy()
    y[:, :3, :] = 255
    images, _ = write_folders(tmp_path, X, y)
    masks = tmp_path / "palette_masks"
    masks.mkdir()
    colours = [0] * 768
    colours[:9] = [10, 200, 30, 250, 20, 90, 40, 60, 220]  # classes 0-2: no VOC colour, no grey
    colours[765:] = [255, 0, 255]
    for i, m in enumerate(y):
        p = Image.fromarray(m, mode="P")
        p.putpalette(colours)
        p.save(masks / f"img_{i:03d}.png")
    assert Image.open(masks / "img_000.png").mode == "P"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ev = Evaluation.from_model(seg_models["softmax"], images, masks=masks, progress=False, cache=False)
    pred = _seg_predict(seg_models["softmax"], scaled(X)).argmax(-1)
    np.testing.assert_array_equal(ev.confusion_matrix(), _seg_matrix(y, pred))
    assert not any("palette" in n for n in ev.notes)


def test_segmentation_takes_jpg_images_with_png_masks_of_the_same_stem(seg_models, seg_data, tmp_path):
    """docs/tasks/segmentation.md: "a folder of masks of the same file names (`a.jpg` with
    `a.png`...)": JPEG images go with the PNG masks of their stems, each image decoded as
    TensorFlow decodes a JPEG (as Keras's image pipeline does)."""
    import tensorflow as tf

    from tests.segmentation_fixtures import write_folders

    _, _, X, y = seg_data
    images, masks = write_folders(tmp_path, X, y, image_suffix=".jpg")
    ev = Evaluation.from_model(seg_models["softmax"], images, masks=masks, progress=False, cache=False)
    assert ev.pixel_counts.names[0] == "img_000.jpg" and len(ev.pixel_counts.names) == len(X)
    decoded = np.stack(
        [
            tf.io.decode_jpeg(tf.io.read_file(str(images / f"img_{i:03d}.jpg")), channels=3).numpy()
            for i in range(len(X))
        ]
    )
    assert not np.array_equal(decoded, X)  # JPEG is lossy: the pixels read are the file's
    pred = _seg_predict(seg_models["softmax"], decoded.astype(np.float32) / np.float32(255)).argmax(-1)
    np.testing.assert_array_equal(ev.confusion_matrix(), _seg_matrix(y, pred))


def test_cli_ignore_index_leaves_that_mask_value_out(seg_models, seg_data, tmp_path, capsys):
    """docs/tasks/segmentation.md: "`h5eval report unet.keras images/ --masks masks/ ...
    [--ignore-index 255]`": pixels of the value given count nowhere (here 7, not a class)."""
    from h5eval_widgets.cli import main
    from tests.segmentation_fixtures import scaled, write_folders

    _, _, X, y = seg_data
    y = y.copy()
    y[:, 20:, 20:] = 7
    images, masks = write_folders(tmp_path, X, y)
    common = ["report", str(seg_models["softmax"]), str(images), "--masks", str(masks), "-q", "--no-cache"]
    assert main([*common, "--ignore-index", "7", "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    pred = _seg_predict(seg_models["softmax"], scaled(X)).argmax(-1)
    assert d["confusion_matrix"] == _seg_matrix(y, pred, ignore=7).tolist()
    assert main([*common, "--format", "json"]) == 1  # without it, 7 is neither a class nor 255
    assert "ignore_index=255" in capsys.readouterr().err


def test_segmentation_sigmoid_threshold_moves_without_predicting_again(seg_models, seg_data, monkeypatch):
    """docs/tasks/segmentation.md: "for one sigmoid output, each image's score histograms in 1,000
    bins, so the threshold moves in steps of 0.001 without predicting again": in the evaluation
    and in the dashboard's pixel matrix, with no forward pass after the first."""
    from sklearn.metrics import confusion_matrix

    from h5eval_widgets import Dashboard
    from h5eval_widgets.core.inference import segment
    from tests.helpers import record_calls
    from tests.segmentation_fixtures import scaled

    _, _, X, y = seg_data
    fg = (y > 0).astype(np.uint8)
    score = _seg_predict(seg_models["sigmoid"], scaled(X))[..., 0]
    passes = record_calls(monkeypatch, segment, "_forward_fn")  # one per pass over the images
    ev = Evaluation.from_model(seg_models["sigmoid"], scaled(X), fg, progress=False, cache=False)
    assert len(passes) == 1
    moved = ev.with_threshold(0.3)
    assert moved.threshold == 0.3
    want = confusion_matrix(fg.ravel(), (score >= np.float32(0.3)).ravel(), labels=[0, 1])
    np.testing.assert_array_equal(moved.confusion_matrix(), want)
    assert not np.array_equal(want, ev.confusion_matrix())
    dash = Dashboard.from_evaluations({"sigmoid": ev})
    try:
        dash.state.threshold = 0.3
        np.testing.assert_array_equal(dash.pixel_matrix.heatmap.color, want)
        dash.state.threshold = 0.712
        want = confusion_matrix(fg.ravel(), (score >= np.float32(0.712)).ravel(), labels=[0, 1])
        np.testing.assert_array_equal(dash.pixel_matrix.heatmap.color, want)
    finally:
        dash.close()
    assert len(passes) == 1  # the model ran once, for the first evaluation


# ---------------------------------------------------------------------- detection
def _one_image_detection(root, size, true_box, det_box):
    """An evaluation over one grey PNG image of ``size`` (width, height) with one true "cat" box
    and one "dog" detection (score 0.9), and its dashboard."""
    from PIL import Image

    from h5eval_widgets import Dashboard

    Image.new("RGB", size, (90, 90, 90)).save(root / "one.png")
    gt = {
        "images": [{"id": 7, "file_name": "one.png", "width": size[0], "height": size[1]}],
        "categories": [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}],
        "annotations": [
            {"id": 1, "image_id": 7, "category_id": 1, "bbox": list(true_box), "area": true_box[2] * true_box[3]}
        ],
    }
    dets = [{"image_id": 7, "category_id": 2, "bbox": list(det_box), "score": 0.9}]
    ev = Evaluation.from_detections(gt, dets, image_dir=root)
    return ev, Dashboard.from_evaluations({"detector": ev})


def _png(data: bytes) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def test_detection_details_draw_the_image_at_most_640_px_on_its_longer_side(tmp_path):
    """docs/tasks/detection.md: ""details" draws one of them large (at most 640 px on its longer
    side)": a 1600x900 image is drawn 640x360, larger than its thumbnail."""
    from tests.helpers import require

    require("pycocotools")
    ev, dash = _one_image_detection(tmp_path, (1600, 900), (100, 100, 400, 300), (900, 400, 300, 300))
    try:
        v = dash.detection
        v.show_cell(0, ev.n_classes)  # the missed cat
        assert [value for _, value in v.detail_choice.options] == [7]
        v.detail_choice.value = 7
        assert v.detail_image.layout.display is None
        big, small = _png(v.detail_image.value), _png(v.gallery.children[0].value)
        assert big.shape[:2] == (360, 640) and small.shape[0] < 360
    finally:
        dash.close()


def test_detection_cells_draw_true_boxes_solid_and_predicted_boxes_dashed(tmp_path):
    """docs/tasks/detection.md: a cell click draws its images "with true boxes solid, predicted
    boxes dashed (class and score) and the cell's boxes in orange": along the bottom edge of each
    box (its label is above), the true box's line has no gap and the detection's has several."""
    from tests.helpers import require
    from h5eval_widgets.views._boxes import HIGHLIGHT, PRED_COLOR, TRUE_COLOR

    require("pycocotools")
    ev, dash = _one_image_detection(tmp_path, (200, 200), (20, 20, 60, 60), (110, 100, 72, 60))
    k = ev.n_classes

    def runs(line: np.ndarray, colour) -> int:
        on = np.all(line == colour, axis=-1).astype(int)
        return int(np.sum(np.diff(np.r_[0, on]) == 1))  # how many separate strokes

    try:
        v = dash.detection
        for cell, true_colour, pred_colour in (((0, k), HIGHLIGHT, PRED_COLOR), ((k, 1), TRUE_COLOR, HIGHLIGHT)):
            v.show_cell(*cell)
            a = _png(v.gallery.children[0].value)
            assert a.shape[:2] == (200, 200)  # drawn at its own size: box pixels are annotation pixels
            true_bottom, pred_bottom = a[80, 22:79], a[160, 112:181]
            assert np.all(true_bottom == true_colour, axis=-1).all(), cell  # solid
            assert runs(pred_bottom, pred_colour) >= 4, cell  # dashed: strokes with gaps
            assert 0.3 < np.all(pred_bottom == pred_colour, axis=-1).mean() < 0.8, cell
    finally:
        dash.close()


def test_detection_by_image_group_keyed_by_image_id(tmp_path):
    """docs/tasks/detection.md: `ev.by_image_group(groups)` takes "a dict or Series keyed by
    `image_id` or `file_name`": keyed by image_id (in another order than the images, some
    images left out) it gives the groups keyed by their file names give, with those images in
    no group."""
    import pandas as pd

    from tests.detection_data import make_coco
    from tests.helpers import require

    require("pycocotools")
    gt, dets = make_coco(40, seed=3)
    ev = Evaluation.from_detections(gt, dets)
    rng = np.random.default_rng(2)
    kept = [im for im in gt["images"] if im["id"] % 7 != 0]
    by_id = {im["id"]: str(rng.choice(["sun", "rain", "fog"])) for im in kept}
    by_id = dict(sorted(by_id.items(), key=lambda kv: -kv[0]))  # not the images' order
    files = {im["file_name"]: by_id[im["id"]] for im in kept}
    want = ev.by_image_group(files)
    assert want["n_images"].sum() == len(kept) < len(gt["images"]) and want["map"].nunique() == 3
    for groups in (by_id, pd.Series(by_id)):
        got = ev.by_image_group(groups)
        pd.testing.assert_frame_equal(got, want)


# ---------------------------------------------------------------------- the dashboard on a cluster
@pytest.fixture(scope="module")
def dask_client():
    """One worker thread in this process (as test_cluster_dashboard.py's)."""
    from tests.helpers import require

    distributed = require("distributed")
    cluster = distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0", silence_logs=40
    )
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def _photos_in_memory(root: str) -> None:
    """12 RGB 32x32 PNG pictures in 3 class folders on fsspec's memory filesystem, at ``root``."""
    import fsspec
    from PIL import Image

    fs = fsspec.filesystem("memory")
    rng = np.random.default_rng(0)
    for i in range(12):
        buf = io.BytesIO()
        Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(buf, "PNG")
        fs.pipe(f"{root}/class_{i % 3}/img_{i:02d}.png", buf.getvalue())


def _tiny_cnn(path):
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((32, 32, 3)),
            keras.layers.Conv2D(2, 3, activation="relu"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(4, activation="relu"),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    model.save(path)
    return path


def _remote_photos_dashboard(dask_client, folder, monkeypatch):
    """A dashboard on the cluster over 12 pictures behind a memory:// URL, the URL, and the files
    opened for reading, as (by the notebook's main thread, path)."""
    import threading

    from fsspec.implementations.memory import MemoryFileSystem

    from h5eval_widgets import Dashboard

    url = "memory://doc-promises/photos"
    opened_here = []
    original = MemoryFileSystem._open

    def opening(self, path, *args, **kwargs):
        opened_here.append((threading.current_thread() is threading.main_thread(), path))
        return original(self, path, *args, **kwargs)

    monkeypatch.setattr(MemoryFileSystem, "store", {})  # emptied after the test
    monkeypatch.setattr(MemoryFileSystem, "pseudo_dirs", [""])
    _photos_in_memory("/doc-promises/photos")
    monkeypatch.setattr(MemoryFileSystem, "_open", opening)  # from now on: reads
    model = _tiny_cnn(folder / "cnn.keras")
    d = Dashboard(models={"cnn": str(model)}, datasets={"photos": url}, client=dask_client, progress=False)
    return d, url, opened_here


def test_a_cluster_dashboard_does_not_fetch_remote_images_to_the_notebook(dask_client, tmp_path, monkeypatch):
    """docs/scale-out.md: on a cluster "images behind a remote URL are not fetched to the notebook":
    the workers read them (the evaluation is there), the notebook's thread opens none of them, and
    a chosen cell draws no picture."""
    import ipywidgets as W

    from h5eval_widgets.views._base import owned_widgets

    d, url, opened_here = _remote_photos_dashboard(dask_client, tmp_path, monkeypatch)
    try:
        ev = d.state.evaluation
        assert ev is not None and ev.n_samples == 12 and ev.classes == ("class_0", "class_1", "class_2")
        assert any("Predicted on a Dask cluster (12 image files" in n for n in ev.notes), ev.notes
        assert d.state.dataset is None
        d.state.selected_cell = (0, int(ev.y_pred[ev.y_true == 0][0]))
        assert len(d.state.selected_indices) > 0
        cards = owned_widgets(d.samples.gallery)
        assert len(cards) > 1  # the cell's cards, by index
        assert [w.value for w in cards if isinstance(w, W.Image) and w.value] == []  # no picture
        assert len({p for here, p in opened_here if not here}) == 12  # the workers read each picture
        assert [p for here, p in opened_here if here] == []  # the notebook's thread none
    finally:
        d.close()


def test_a_cluster_dashboard_says_remote_images_are_not_shown(dask_client, tmp_path, monkeypatch):
    """docs/scale-out.md: "images behind a remote URL are not fetched to the notebook (the status
    line says so)": once the dashboard has opened, its status line names the URL and says so."""
    d, url, _ = _remote_photos_dashboard(dask_client, tmp_path, monkeypatch)
    try:
        assert "not shown here" in d.state.status and url in d.state.status
    finally:
        d.close()


def _cluster_and_local_dashboards(dask_client, tmp_path, blobs, multiclass_h5):
    import pandas as pd

    from h5eval_widgets import Dashboard

    _, _, Xte, yte = blobs
    df = pd.DataFrame(Xte, columns=[f"f{i}" for i in range(4)])
    df["label"] = np.array(["a", "b", "c"])[yte]
    df.to_parquet(tmp_path / "test.parquet")
    options = {"dataset_options": {"label_column": "label"}, "progress": False}
    here = Dashboard(models={"mlp": str(multiclass_h5)}, datasets={"t": str(tmp_path / "test.parquet")}, **options)
    there = Dashboard(
        models={"mlp": str(multiclass_h5)},
        datasets={"t": str(tmp_path / "test.parquet")},
        client=dask_client,
        **options,
    )
    for d in (here, there):
        d.tabs.selected_index = d.tab_views.index(d.embedding)  # the map's tab opened
    return here, there


def test_results_predicted_on_a_cluster_have_no_embedding_and_no_map(dask_client, tmp_path, blobs, multiclass_h5):
    """docs/scale-out.md: "Results predicted on a cluster have no embedding, so no map is drawn
    for them; the map's tab says why": the same model and table in the notebook has an embedding
    and draws its map; predicted on the cluster it has none, and the map's tab shows only the
    note saying why."""
    here, there = _cluster_and_local_dashboards(dask_client, tmp_path, blobs, multiclass_h5)
    try:
        assert here.state.evaluation.embeddings is not None
        assert here.embedding.layout.display is None and here.embedding.scatter is not None
        np.testing.assert_allclose(there.state.evaluation.y_proba, here.state.evaluation.y_proba, atol=1e-6)
        assert there.state.evaluation.embeddings is None
        assert there.embedding.scatter is None and list(there.embedding.children) == [there.embedding.note]
        assert "predicted on a Dask cluster" in there.embedding.note.value
        assert there.state.status_level == "info", there.state.status
    finally:
        here.close()
        there.close()
