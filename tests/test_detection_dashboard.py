"""The dashboard's detection view, driven headless as clicks and slider moves would: the matrix
follows confidence and IoU, a background cell shows its images with the missed boxes drawn."""

from __future__ import annotations

import io

import numpy as np
import pytest

from tests.helpers import require
from PIL import Image

from tests.detection_data import make_coco
from h5eval_widgets import Dashboard
from h5eval_widgets.core import Evaluation
from h5eval_widgets.views._boxes import HIGHLIGHT

require("pycocotools")


@pytest.fixture(scope="module")
def dash(tmp_path_factory):
    root = tmp_path_factory.mktemp("detdash")
    gt, dets = make_coco(30, seed=4)
    for im in gt["images"]:
        Image.new("RGB", (im["width"], im["height"]), (90, 90, 90)).save(root / im["file_name"], "JPEG")
    ev = Evaluation.from_detections(gt, dets, image_dir=root)
    return Dashboard.from_evaluations({"detector": ev}), ev


def _orange_pixels(png: bytes) -> int:
    a = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).reshape(-1, 3)
    return int((a == HIGHLIGHT).all(axis=1).sum())


def test_detection_view_shows_the_matrix_and_ap_and_follows_slider_and_iou(dash):
    """Check the heatmap equals ev.confusion_matrix after a confidence move and an IoU switch, and the AP bars."""
    d, ev = dash
    v = d.detection
    assert v.layout.display is None and "error" not in d.status.value
    np.testing.assert_array_equal(v.heatmap.color, ev.confusion_matrix(0.5, 0.0))
    v.confidence.value = 0.45
    np.testing.assert_array_equal(v.heatmap.color, ev.confusion_matrix(0.5, 0.45))
    v.iou.value = 0.75
    np.testing.assert_array_equal(v.heatmap.color, ev.confusion_matrix(0.75, 0.45))
    assert list(v.heatmap.row) == [*ev.classes, "(background)"]
    np.testing.assert_allclose(v.ap_bars.y, ev.per_class_ap()["ap"].to_numpy())
    v.iou.value, v.confidence.value = 0.5, 0.0


def test_clicking_a_background_cell_draws_its_images_with_the_missed_boxes_highlighted(dash):
    """Check a click on (dog, background) lists the cell's missed boxes and draws them in orange."""
    d, ev = dash
    v = d.detection
    k = ev.n_classes
    v.click(v.heatmap, rowNum=1, columnNum=k)
    cell = ev.cell_indices(1, k)
    assert np.asarray(v.heatmap.selected).tolist() == [[1, k]] and len(cell) == ev.confusion_matrix()[1, k] > 0
    assert f"{len(cell)} missed objects" in v.cell_title.value
    n_images = cell["image_id"].nunique()
    assert len(v.gallery.children) == min(n_images, v.max_images)
    assert all(_orange_pixels(p.value) > 20 for p in v.gallery.children)
    v.confidence.value = 1.0  # every true box is missed: the open cell follows the slider
    assert f"{ev.confusion_matrix(0.5, 1.0)[1, k]} missed objects" in v.cell_title.value
    v.confidence.value = 0.0


def test_a_hit_cell_highlights_boxes_and_a_classifier_hides_the_view(dash):
    """Check a diagonal cell draws highlighted pairs, and a classification result hides the detection view."""
    d, ev = dash
    v = d.detection
    v.click(v.heatmap, rowNum=0, columnNum=0)
    cell = ev.cell_indices(0, 0)
    assert len(cell) == ev.confusion_matrix()[0, 0] > 0
    assert len(v.gallery.children) == min(cell["image_id"].nunique(), v.max_images) > 0
    assert "hits" in v.cell_title.value and all(_orange_pixels(p.value) > 0 for p in v.gallery.children)
    rng = np.random.default_rng(0)
    clf = Evaluation.from_predictions(rng.integers(0, 3, 50), rng.dirichlet(np.ones(3), 50))
    other = Dashboard.from_evaluations({"clf": clf})
    assert other.detection.layout.display == "none" and other.detection.children == ()


def test_the_pr_curve_follows_the_class_the_iou_and_a_clicked_cell(dash):
    """Check the precision-recall chart is ev.pr_curve of the class chosen at the IoU chosen (the
    recall levels COCO never reaches left out), and a click on a cell chooses the cell's class."""
    d, ev = dash
    v = d.detection
    k = ev.n_classes

    def expected(cls_, iou):
        r, p = ev.pr_curve(cls_, iou=iou)
        return r[p >= 0], p[p >= 0]

    v.pr_class.value = ev.classes[0]
    r, p = expected(0, 0.5)
    assert len(r) > 10 and "IoU 0.5" in v.pr_figure.title and ev.classes[0] in v.pr_figure.title
    np.testing.assert_allclose(v.pr_line.x, r)
    np.testing.assert_allclose(v.pr_line.y, p)
    v.iou.value = 0.75
    r75, p75 = expected(0, 0.75)
    assert not np.array_equal(p75, p)  # a stricter IoU gives another curve
    np.testing.assert_allclose(v.pr_line.y, p75)
    v.iou.value = 0.5
    v.click(v.heatmap, rowNum=k, columnNum=2)  # false boxes of class 2: the predicted class
    assert v.pr_class.value == ev.classes[2]
    np.testing.assert_allclose(v.pr_line.y, expected(2, 0.5)[1])


def test_details_draws_a_chosen_image_of_the_cell_large_with_its_boxes(dash):
    """Check "details" lists every image of the open cell, draws the chosen one larger than
    its thumbnail with the cell's boxes highlighted, follows the slider, and hides for another cell
    that does not hold it."""
    d, ev = dash
    v = d.detection
    k = ev.n_classes
    v.click(v.heatmap, rowNum=1, columnNum=k)
    images = list(dict.fromkeys(ev.cell_indices(1, k)["image_id"].tolist()))
    assert [value for _, value in v.detail_choice.options] == images
    assert v.detail_image.layout.display == "none"
    v.detail_choice.value = images[0]
    big = Image.open(io.BytesIO(v.detail_image.value))
    small = Image.open(io.BytesIO(v.gallery.children[0].value))
    row = ev.images.set_index("image_id").loc[images[0]]
    assert v.detail_image.layout.display is None
    assert big.size == (row["width"], row["height"]) and big.size[0] > small.size[0]
    assert _orange_pixels(v.detail_image.value) > _orange_pixels(v.gallery.children[0].value) > 0
    v.click(v.heatmap, rowNum=0, columnNum=0)
    hits = list(dict.fromkeys(ev.cell_indices(0, 0)["image_id"].tolist()))
    assert (v.detail_image.layout.display is None) == (images[0] in hits)


def test_the_view_lists_the_box_size_slices(dash):
    """Check the detection view's box-size table shows ev.by_box_size()'s counts and numbers."""
    d, ev = dash
    html = d.detection.sizes.value
    for size, row in ev.by_box_size().iterrows():
        assert f"<td>{size}</td><td>{int(row['n_true']):,}</td><td>{row['map']:.3f}</td>" in html


def test_slices_by_an_image_field_of_the_coco_file(tmp_path):
    """Check that an extra field of the COCO images (here "weather") is kept as image metadata,
    offered in "slice by", and choosing it lists ev.by_image_group's rows, worst mAP first."""
    gt, dets = make_coco(30, seed=6)
    rng = np.random.default_rng(2)
    for im in gt["images"]:
        im["weather"] = str(rng.choice(["sun", "rain"]))
    ev = Evaluation.from_detections(gt, dets)
    assert ev.images["weather"].tolist() == [im["weather"] for im in gt["images"]]
    d = Dashboard.from_evaluations({"detector": ev})
    try:
        v = d.detection
        assert [value for _, value in v.group_by.options] == [None, "width", "height", "weather"]
        assert v.groups.value == ""
        v.group_by.value = "weather"
        table = ev.by_image_group(ev.images["weather"].to_numpy())
        assert list(table.index) == sorted(table.index, key=lambda g: table.loc[g, "map"]) and len(table) == 2
        cells = [
            f"<td>{g}</td><td>{int(r['n_images']):,}</td><td>{int(r['n_true']):,}</td><td>{r['map']:.3f}</td>"
            for g, r in table.iterrows()
        ]
        html = v.groups.value
        assert all(c in html for c in cells) and html.index(cells[0]) < html.index(cells[1])
    finally:
        d.close()
