"""Segmentation models evaluated from arrays and from image/mask folders: the pixel confusion
matrix, mean IoU and per-class scores equal scikit-learn's on the flattened pixels and
``keras.metrics.MeanIoU``; ignored pixels, resized outputs, cells, thresholds and intervals."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from h5eval_widgets.core import Evaluation, SegmentationEvaluation
from tests.segmentation_fixtures import CLASSES, scaled, write_folders

LABELS = [0, 1, 2]


def _predict(path, X):
    import keras

    return keras.models.load_model(path, compile=False).predict(X, verbose=0)


def _keras_mean_iou(y_true, y_pred, ignore=None) -> float:
    import keras

    m = keras.metrics.MeanIoU(num_classes=3, ignore_class=ignore)
    m.update_state(y_true.reshape(-1), y_pred.reshape(-1))
    return float(m.result())


def _check_against_sklearn(ev, y_true, y_pred, keep=None):
    t, p = y_true.reshape(-1), y_pred.reshape(-1)
    if keep is not None:
        t, p = t[keep.reshape(-1)], p[keep.reshape(-1)]
    cm = skm.confusion_matrix(t, p, labels=LABELS)
    assert ev.confusion_matrix().dtype == np.int64
    np.testing.assert_array_equal(ev.confusion_matrix(), cm)
    table = ev.per_class()
    np.testing.assert_allclose(table["iou"], skm.jaccard_score(t, p, labels=LABELS, average=None))
    np.testing.assert_allclose(table["dice"], skm.f1_score(t, p, labels=LABELS, average=None))
    np.testing.assert_allclose(table["precision"], skm.precision_score(t, p, labels=LABELS, average=None))
    np.testing.assert_allclose(table["recall"], skm.recall_score(t, p, labels=LABELS, average=None))
    np.testing.assert_array_equal(table["support"], np.bincount(t, minlength=3))
    assert ev.scores["pixel_accuracy"] == pytest.approx(skm.accuracy_score(t, p))
    assert ev.scores["mean_class_accuracy"] == pytest.approx(skm.balanced_accuracy_score(t, p))
    assert ev.scores["mean_iou"] == pytest.approx(skm.jaccard_score(t, p, labels=LABELS, average="macro"))
    fw = np.sum(np.bincount(t, minlength=3) / len(t) * skm.jaccard_score(t, p, labels=LABELS, average=None))
    assert ev.scores["frequency_weighted_iou"] == pytest.approx(fw)
    return cm


def test_matrix_and_iou_from_arrays_equal_sklearn_and_keras_mean_iou(seg_models, seg_data):
    """Check that arrays (X, masks) give the pixel matrix, per-class IoU/Dice/precision/recall and
    mean IoU of scikit-learn on the flattened pixels and of keras.metrics.MeanIoU."""
    _, _, X, y = seg_data
    ev = Evaluation.from_model(seg_models["softmax"], scaled(X), y, classes=CLASSES, progress=False)
    assert isinstance(ev, SegmentationEvaluation) and ev.task == "segmentation"
    pred = _predict(seg_models["softmax"], scaled(X)).argmax(-1)
    cm = _check_against_sklearn(ev, y, pred)
    off = cm - np.diag(np.diag(cm))
    assert (off.sum(axis=1) > 0).all() and (off.sum(axis=0) > 0).all()  # every class confused
    assert ev.scores["mean_iou"] == pytest.approx(_keras_mean_iou(y, pred), abs=1e-6)
    assert ev.classes == CLASSES and ev.n_samples == len(X)


def test_image_and_mask_folders_give_the_same_numbers_as_the_arrays(seg_models, seg_data, tmp_path):
    """Check that a folder of PNG images with a folder of masks of the same names gives the
    matrix and mean IoU of model.predict on the same pixels, and keeps the file names."""
    _, _, X, y = seg_data
    images, masks = write_folders(tmp_path, X, y)
    ev = Evaluation.from_model(seg_models["softmax"], images, masks=masks, classes=CLASSES, progress=False)
    pred = _predict(seg_models["softmax"], scaled(X)).argmax(-1)
    _check_against_sklearn(ev, y, pred)
    assert ev.scores["mean_iou"] == pytest.approx(_keras_mean_iou(y, pred), abs=1e-6)
    assert ev.pixel_counts.names[0] == "img_000.png" and ev.dataset_name == "images"
    picture, true_mask, predicted = ev.masks([3])[0]
    assert picture.shape == (32, 32, 3) and picture.dtype == np.uint8
    np.testing.assert_array_equal(true_mask, y[3])
    np.testing.assert_array_equal(predicted, pred[3])


def test_ignored_pixels_count_nowhere(seg_models, seg_data):
    """Check that pixels equal to ignore_index (255) are in no cell, no support and no metric,
    as scikit-learn on the kept pixels and MeanIoU(ignore_class=255) count them."""
    _, _, X, y = seg_data
    y = y.copy()
    y[:, :5, :] = 255
    y[::3, :, -4:] = 255
    ev = Evaluation.from_model(seg_models["softmax"], scaled(X), y, progress=False)
    pred = _predict(seg_models["softmax"], scaled(X)).argmax(-1)
    keep = y != 255
    cm = _check_against_sklearn(ev, y, pred, keep)
    assert cm.sum() == keep.sum() < y.size
    assert ev.scores["mean_iou"] == pytest.approx(_keras_mean_iou(y, pred, ignore=255), abs=1e-6)


def test_output_smaller_than_the_masks_is_resized_bilinear_then_argmax(seg_models, seg_data):
    """Check that a 16x16 output on 32x32 masks is brought to 32x32 (bilinear on the scores,
    then arg-max) as tf.image.resize does, and that ev.notes says so."""
    import tensorflow as tf

    _, _, X, y = seg_data
    ev = Evaluation.from_model(seg_models["half"], scaled(X), y, progress=False)
    raw = _predict(seg_models["half"], scaled(X))
    assert raw.shape[1:3] == (16, 16)
    pred = tf.image.resize(raw, (32, 32), "bilinear").numpy().argmax(-1)
    _check_against_sklearn(ev, y, pred)
    assert any("16x16" in n and "bilinear on the scores, then arg-max" in n for n in ev.notes)


def test_cell_indices_order_images_by_the_cells_pixel_count(seg_models, seg_data):
    """Check that cell_indices(true, predicted) lists exactly the images with pixels in that
    cell, the most such pixels first, with their counts."""
    _, _, X, y = seg_data
    ev = Evaluation.from_model(seg_models["softmax"], scaled(X), y, classes=CLASSES, progress=False)
    pred = _predict(seg_models["softmax"], scaled(X)).argmax(-1)
    for t, p in [(1, 2), (2, 0), (0, 1)]:
        per_image = ((y == t) & (pred == p)).sum(axis=(1, 2))
        idx, counts = ev.cell_indices(CLASSES[t], CLASSES[p], with_counts=True)
        expected = np.flatnonzero(per_image)
        expected = expected[np.argsort(-per_image[expected], kind="stable")]
        np.testing.assert_array_equal(idx, expected)
        np.testing.assert_array_equal(counts, per_image[expected])
        assert len(idx) >= 2 and counts[0] > counts[-1]
    worst = ev.per_image()
    assert worst["mean_iou"].iloc[0] == pytest.approx(np.nanmin(ev.image_iou))


def test_means_over_images_are_named_and_differ_from_means_over_pixels(seg_models, seg_data):
    """Check that mean_iou_per_image is the mean of each image's own mean IoU (scikit-learn's
    jaccard over the classes present in that image), next to mean_iou over all pixels."""
    _, _, X, y = seg_data
    ev = Evaluation.from_model(seg_models["softmax"], scaled(X), y, progress=False)
    pred = _predict(seg_models["softmax"], scaled(X)).argmax(-1)
    per_image = []
    for t, p in zip(y, pred):
        present = sorted(set(np.unique(t)) | set(np.unique(p)))
        per_image.append(skm.jaccard_score(t.ravel(), p.ravel(), labels=present, average="macro"))
    assert ev.scores["mean_iou_per_image"] == pytest.approx(np.mean(per_image))
    np.testing.assert_allclose(ev.image_iou, per_image)
    assert ev.scores["mean_iou_per_image"] != pytest.approx(ev.scores["mean_iou"])


def test_a_class_absent_from_truth_and_prediction_is_nan_and_left_out_of_the_means():
    """Check that a class neither true nor predicted has NaN IoU and Dice and that mean IoU
    leaves it out, as keras.metrics.MeanIoU does."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, (4, 8, 8))
    scores = rng.random((4, 8, 8, 3)).astype(np.float32)
    scores[..., 2] = -1.0  # class 2 never predicted, never true
    ev = Evaluation.from_predictions(y, scores)
    assert np.isnan(ev.per_class()["iou"].iloc[2]) and np.isnan(ev.per_class()["dice"].iloc[2])
    pred = scores.argmax(-1)
    assert ev.scores["mean_iou"] == pytest.approx(_keras_mean_iou(y, pred), abs=1e-6)
    assert ev.scores["mean_iou"] == pytest.approx(skm.jaccard_score(y.ravel(), pred.ravel(), average="macro"))
    assert "iou[2]" in ev.undefined


def test_bootstrap_intervals_resample_images_not_pixels(seg_models, seg_data):
    """Check that the mean IoU interval comes from resampled images: it holds the value, and one
    image alone gives an interval of zero width (resampling pixels would not)."""
    _, _, X, y = seg_data
    ev = Evaluation.from_model(seg_models["softmax"], scaled(X), y, progress=False)
    row = ev.bootstrap(300).loc["mean_iou"]
    assert row["low"] < row["value"] < row["high"] and row["method"] == "bootstrap"
    one = Evaluation.from_model(seg_models["softmax"], scaled(X[:1]), y[:1], progress=False)
    row = one.bootstrap(100).loc["mean_iou"]
    assert row["low"] == pytest.approx(row["value"]) == pytest.approx(row["high"])


def test_one_sigmoid_output_moves_its_threshold_from_histograms(seg_models, seg_data):
    """Check that a (H, W, 1) sigmoid model is a 2-class segmentation whose matrix at 0.5 and,
    from the per-image score histograms, at 0.3 equals scikit-learn's on thresholded pixels."""
    _, _, X, y = seg_data
    fg = (y > 0).astype(np.uint8)
    ev = Evaluation.from_model(seg_models["sigmoid"], scaled(X), fg, progress=False)
    score = _predict(seg_models["sigmoid"], scaled(X))[..., 0]
    assert ev.classes == ("background", "foreground") and ev.positive_class == 1
    for t, e in [(0.5, ev), (0.3, ev.with_threshold(0.3))]:
        cm = skm.confusion_matrix(fg.ravel(), (score >= np.float32(t)).ravel(), labels=[0, 1])
        np.testing.assert_array_equal(e.confusion_matrix(), cm)
        assert e.threshold == t
    assert ev.with_threshold(0.3).confusion_matrix()[:, 1].sum() > ev.confusion_matrix()[:, 1].sum()


def test_slices_and_subsets_count_only_their_own_images_pixels():
    """Check that each slice's mean IoU and pixel accuracy equal scikit-learn's on that slice's
    pixels, with an interval around it, and that a subset keeps its images' counts and masks."""
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, (12, 8, 8))
    scores = rng.random((12, 8, 8, 3)).astype(np.float32)
    scores[..., 0] += (y == 0) * np.linspace(0, 1, 12)[:, None, None]  # better on later images
    group = np.array(["a", "b", "c"] * 4)
    group[8:] = "c"
    ev = Evaluation.from_predictions(y, scores, metadata={"group": group})
    table = ev.slices("group", n_boot=200)
    pred = scores.argmax(-1)
    for g in "abc":
        t, p = y[group == g].ravel(), pred[group == g].ravel()
        row = table.loc[f"group = {g}"]
        assert row["mean_iou"] == pytest.approx(skm.jaccard_score(t, p, average="macro"))
        assert row["pixel_accuracy"] == pytest.approx(skm.accuracy_score(t, p))
        assert row["mean_iou_low"] <= row["mean_iou"] <= row["mean_iou_high"]
        assert row["mean_iou_low"] < row["mean_iou_high"]
    sub = ev.subset(group == "c", "c")
    rows = np.flatnonzero(group == "c")
    np.testing.assert_array_equal(sub.confusion_matrix(), skm.confusion_matrix(y[rows].ravel(), pred[rows].ravel()))
    ((_, true, predicted),) = sub.masks([1])
    np.testing.assert_array_equal(true, y[rows[1]])
    np.testing.assert_array_equal(predicted, pred[rows[1]])


def test_reports_carry_the_pixel_matrix_and_per_class_table(seg_models, seg_data):
    """Check the values under the reports' headings against scikit-learn on model.predict's
    pixels: the JSON report's pixel matrix, per-class IoU and mean IoU/Dice; the HTML report's
    "Per class" and "Pixel confusion matrix" tables; the text report's metrics, per-class rows
    and matrix."""
    import json

    from tests.test_html_report import html_tables

    _, _, X, y = seg_data
    ev = Evaluation.from_model(seg_models["softmax"], scaled(X), y, classes=CLASSES, progress=False)
    t, p = y.reshape(-1), _predict(seg_models["softmax"], scaled(X)).argmax(-1).reshape(-1)
    cm = skm.confusion_matrix(t, p, labels=LABELS)
    assert (cm - np.diag(np.diag(cm))).sum() > 20  # mistakes to count, not a perfect diagonal
    iou = skm.jaccard_score(t, p, labels=LABELS, average=None)
    dice = skm.f1_score(t, p, labels=LABELS, average=None)
    precision = skm.precision_score(t, p, labels=LABELS, average=None)
    recall = skm.recall_score(t, p, labels=LABELS, average=None)
    support = np.bincount(t, minlength=3)

    d = json.loads(ev.to_json())
    assert d["task"] == "segmentation" and d["confusion_matrix"] == cm.tolist()
    assert d["per_class"]["iou"] == pytest.approx(iou.tolist())
    assert d["metrics"]["mean_iou"] == pytest.approx(iou.mean())
    assert d["metrics"]["mean_dice"] == pytest.approx(dice.mean())

    tables = html_tables(ev.to_html(bootstrap=False))
    header, *rows = tables["Per class"]
    assert header[1:7] == ["class", "IoU", "Dice", "Precision", "Recall", "Support"]
    assert [r[1] for r in rows] == list(CLASSES)
    for k, r in enumerate(rows):  # the one number format: 3 decimals in [0, 1], counts whole with separators
        want = [f"{v:.3f}" for v in (iou[k], dice[k], precision[k], recall[k])] + [f"{support[k]:,}"]
        assert r[2:7] == want, CLASSES[k]
    header, *rows = tables["Pixel confusion matrix"]
    assert header[1:] == list(CLASSES) and [r[0] for r in rows] == list(CLASSES)
    np.testing.assert_array_equal([[int(v.replace(",", "")) for v in r[1:]] for r in rows], cm)

    lines = ev.to_text().splitlines()
    assert "Pixels counted: 24,576 (value 255 ignored)" in lines and cm.sum() == 24_576
    assert f"  mean_iou                          {iou.mean():.4f}" in lines
    assert f"  mean_dice                         {dice.mean():.4f}" in lines
    at = lines.index("Pixel confusion matrix (rows = true, columns = predicted)")
    for k, name in enumerate(CLASSES):
        (row,) = [r.split() for r in lines[:at] if r.split()[1:2] == [name]]
        assert row[2:7] == [f"{v:.4f}" for v in (iou[k], dice[k], precision[k], recall[k])] + [str(support[k])]
        (row,) = [r.split() for r in lines[at:] if r.split()[:1] == [name]]
        assert [int(v) for v in row[1:]] == cm[k].tolist(), name


def test_cli_reports_a_segmentation_model_on_image_and_mask_folders(seg_models, seg_data, tmp_path, capsys):
    """Check that ``h5eval report MODEL images/ --masks masks/ --format json`` gives the pixel
    matrix of model.predict on the same images (ignored pixels left out), with the class names
    read from a file."""
    import json

    from h5eval_widgets.cli import main

    _, _, X, y = seg_data
    y = y.copy()
    y[:, :4, :4] = 255  # ignored corners
    images, masks = write_folders(tmp_path, X, y)
    names = tmp_path / "classes.txt"
    names.write_text("\n".join(CLASSES) + "\n")
    code = main(
        ["report", str(seg_models["softmax"]), str(images), "--masks", str(masks), "--class-names", str(names)]
        + ["--format", "json", "-q", "--no-cache"]
    )
    assert code == 0
    d = json.loads(capsys.readouterr().out)
    pred = _predict(seg_models["softmax"], scaled(X)).argmax(-1)
    keep = y != 255
    expected = skm.confusion_matrix(y[keep], pred[keep], labels=range(len(CLASSES)))
    assert d["task"] == "segmentation" and d["classes"] == list(CLASSES)
    assert d["confusion_matrix"] == expected.tolist()
    assert main(["report", str(seg_models["softmax"]), str(images), "--masks", str(tmp_path / "nope"), "-q"]) == 1
    assert "nope" in capsys.readouterr().err
