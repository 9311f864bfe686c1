"""Detection data as it comes (issue 33): boxes reaching past their image are evaluated as given,
as pycocotools does, and counted in the notes; boxes given in another format than the one read
(corners, normalised, yxyx, centres) are told in a DataWarning and a note naming the argument
that fixes it; what cannot be a box is refused. Files are real COCO JSON, never changed."""

from __future__ import annotations

import copy
import re
import warnings

import numpy as np
import pandas as pd
import pytest

from tests.detection_data import make_coco, pycocotools_stats, write_json
from tests.helpers import require
from h5eval_widgets.core import DataWarning, Evaluation
from h5eval_widgets.core.errors import DatasetError

require("pycocotools")


@pytest.fixture(scope="module")
def data():
    return make_coco(300, seed=11, crowd=False)


@pytest.fixture(scope="module")
def sizes(data):
    return {im["id"]: (im["width"], im["height"]) for im in data[0]["images"]}


def _digests(paths):
    return {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in paths}


def _quiet(*args, **kwargs):
    """An evaluation during which a DataWarning is an error (the clean cases warn of nothing)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        return Evaluation.from_detections(*args, **kwargs)


def _twelve(ev):
    return np.array(list(ev.scores.values()))[:12]


@pytest.mark.parametrize("backend", ["faster_coco_eval", "pycocotools"])
def test_true_boxes_past_their_image_are_evaluated_as_pycocotools_does_and_counted(tmp_path, data, sizes, backend):
    """Check COCO files whose true boxes overflow their image: pycocotools' 12 numbers, one note
    with the count and the largest overshoot, no warning, and both files unchanged."""
    require(backend)
    gt, dets = copy.deepcopy(data)
    overshoot = [5, 12, 20, 33, 41, 47, 52, 55, 58, 59, 60, 60]  # px past the right or bottom edge
    for k, a in enumerate(gt["annotations"][::20][: len(overshoot)]):
        W, H = sizes[a["image_id"]]
        if k % 2:
            a["bbox"][2] = W - a["bbox"][0] + overshoot[k]
        else:
            a["bbox"][3] = H - a["bbox"][1] + overshoot[k]
    gt["annotations"][7]["bbox"][0] = -0.4  # COCO's own sub-pixel overshoot: not counted
    paths = [write_json(tmp_path / "instances.json", gt), write_json(tmp_path / "results.json", dets)]
    before = _digests(paths)
    ev = _quiet(*paths, backend=backend)
    ref, _ = pycocotools_stats(gt, dets)
    np.testing.assert_allclose(_twelve(ev), ref, atol=1e-6)
    assert ev.notes == (
        "12 true boxes reach past their image, by up to 60 px; evaluated as given, as pycocotools does.",
    )
    assert _digests(paths) == before and sorted(tmp_path.iterdir()) == sorted(paths)


def test_unclipped_detections_are_accepted_equal_and_counted(data, sizes):
    """Check detections with negative x and past the edge: accepted, pycocotools' numbers, noted."""
    gt, dets = copy.deepcopy(data)
    for d in dets[:30:3]:
        d["bbox"][0] -= d["bbox"][0] + 7.0  # x = -7
    ev = _quiet(gt, dets)
    np.testing.assert_allclose(_twelve(ev), pycocotools_stats(gt, dets)[0], atol=1e-6)
    assert ev.notes == (
        "10 detections reach past their image, by up to 7 px; evaluated as given, as pycocotools does.",
    )


def _corners(boxes, order="xyxy"):
    x, y, w, h = boxes
    return [x, y, x + w, y + h] if order == "xyxy" else [y, x, y + h, x + w]


@pytest.mark.parametrize("order", ["xyxy", "yxyx"])
def test_corner_format_true_boxes_are_told_and_read_right_when_asked(tmp_path, data, order):
    """Check COCO annotations holding corners: a DataWarning and a note name the corner format
    and box_format=; with that argument the numbers equal pycocotools' on the [x, y, w, h] file."""
    gt, dets = copy.deepcopy(data)
    cornered = copy.deepcopy(gt)
    for a in cornered["annotations"]:
        a["bbox"] = _corners(a["bbox"], order)
    path = write_json(tmp_path / "instances_corners.json", cornered)
    with pytest.warns(DataWarning, match=rf"box_format='{order}'") as seen:
        ev = Evaluation.from_detections(path, copy.deepcopy(dets))
    text = str(seen[0].message)
    assert text.startswith(str(path)) and "far outside their images" in text
    assert ("corners [x1, y1, x2, y2]" if order == "xyxy" else "corners [y1, x1, y2, x2]") in text
    assert text in ev.notes
    right = _quiet(path, copy.deepcopy(dets), box_format=order)
    np.testing.assert_allclose(_twelve(right), pycocotools_stats(gt, dets)[0], atol=1e-6)
    assert right.scores["map"] > 0.1 > ev.scores["map"] and not any("box_format" in n for n in right.notes)


def test_normalised_detections_are_told_and_read_right_when_asked(data, sizes):
    """Check detections given as fractions of the image: the warning names detection_format='rel_xywh',
    and with it the numbers equal pycocotools' on the pixel boxes."""
    gt, dets = copy.deepcopy(data)
    rel = copy.deepcopy(dets)
    for d in rel:
        W, H = sizes[d["image_id"]]
        d["bbox"] = [d["bbox"][0] / W, d["bbox"][1] / H, d["bbox"][2] / W, d["bbox"][3] / H]
    with pytest.warns(DataWarning, match=r"within \[0, 1\] on images hundreds of pixels wide") as seen:
        ev = Evaluation.from_detections(copy.deepcopy(gt), copy.deepcopy(rel))
    assert "detection_format='rel_xywh'" in str(seen[0].message) and str(seen[0].message) in ev.notes
    assert ev.scores["map"] < 0.01  # read as pixels, the tiny boxes match nothing
    right = _quiet(copy.deepcopy(gt), rel, detection_format="rel_xywh")
    np.testing.assert_allclose(_twelve(right), pycocotools_stats(gt, dets)[0], atol=1e-6)


def test_centre_format_detections_inside_their_images_are_told_by_their_matches(data):
    """Check detections given as centres: they lie inside their images (no overflow to notice),
    match no true box as read, and the warning says which reading would match them."""
    gt, dets = copy.deepcopy(data)
    centred = copy.deepcopy(dets)
    for d in centred:
        x, y, w, h = d["bbox"]
        d["bbox"] = [x + w / 2, y + h / 2, w, h]
    with pytest.warns(DataWarning, match=r"detection_format='center_xywh'") as seen:
        ev = Evaluation.from_detections(copy.deepcopy(gt), centred)
    text = str(seen[0].message)
    match = re.search(r"(\d+)% of the detections match a true box .* but (\d+)% do when read as 'center_xywh'", text)
    assert match and int(match[1]) < 5 and int(match[2]) > 50
    assert text in ev.notes


def test_a_dataframe_of_corner_columns_is_read_as_corners_and_box_format_overrides(data, sizes):
    """Check xmin..ymax columns are read as corners with no warning; the same numbers under
    box_format='yxyx' are read as y first (and equal the boxes written that way)."""
    gt, _ = copy.deepcopy(data)
    files = {im["id"]: im["file_name"] for im in gt["images"]}
    names = {c["id"]: c["name"] for c in gt["categories"]}
    xyxy = np.array([_corners(a["bbox"]) for a in gt["annotations"]])
    frame = pd.DataFrame(
        {
            "file_name": [files[a["image_id"]] for a in gt["annotations"]],
            "label": [names[a["category_id"]] for a in gt["annotations"]],
        }
    )
    images = {files[i]: s for i, s in sizes.items()}
    as_corners = frame.assign(xmin=xyxy[:, 0], ymin=xyxy[:, 1], xmax=xyxy[:, 2], ymax=xyxy[:, 3])
    ev = _quiet(as_corners, [], images=images)
    expected = np.array([a["bbox"] for a in gt["annotations"]])
    np.testing.assert_allclose(ev.true_boxes[["x", "y", "w", "h"]].to_numpy(), expected, atol=1e-9)
    swapped = frame.assign(xmin=xyxy[:, 1], ymin=xyxy[:, 0], xmax=xyxy[:, 3], ymax=xyxy[:, 2])
    ev = _quiet(swapped, [], images=images, box_format="yxyx")
    np.testing.assert_allclose(ev.true_boxes[["x", "y", "w", "h"]].to_numpy(), expected, atol=1e-9)


def test_what_cannot_be_a_box_is_refused_naming_the_format_that_fits(tmp_path, data):
    """Check [x, y, w, h] boxes read as corners give negative sizes: refused, the error naming
    box_format='xywh' and the box; a bad format name and box_format on VOC are refused too."""
    gt, dets = copy.deepcopy(data)
    path = write_json(tmp_path / "instances.json", gt)
    with pytest.raises(DatasetError, match=r"true boxes with negative size, the first box .* box_format='xywh'"):
        Evaluation.from_detections(path, dets, box_format="xyxy")
    with pytest.raises(ValueError, match=r"box_format='ltrb' is not one of"):
        Evaluation.from_detections(path, dets, box_format="ltrb")
    (tmp_path / "voc").mkdir()
    (tmp_path / "voc" / "a.xml").write_text("<annotation/>")
    with pytest.raises(ValueError, match=r"fix their own format"):
        Evaluation.from_detections(tmp_path / "voc", [], box_format="xyxy")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["instances.json", "voc"]


def test_data_notes_are_shown_beside_the_status_line_and_in_the_report(data, sizes):
    """Check the dashboard's "data notes (n)" disclosure lists the overflow note of the chosen
    evaluation (and leaves the page for one with none), the status line does not repeat it, and
    the HTML report opens with the same notes."""
    from h5eval_widgets import Dashboard

    gt, dets = copy.deepcopy(data)
    a = gt["annotations"][0]
    a["bbox"][2] = sizes[a["image_id"]][0] - a["bbox"][0] + 25
    overflowing = _quiet(gt, dets, dataset_name="overflowing")
    clean = _quiet(*copy.deepcopy(data), dataset_name="clean")
    note = "1 true box reaches past its image, by up to 25 px; evaluated as given, as pycocotools does."
    assert overflowing.notes == (note,) and clean.notes == ()
    dash = Dashboard.from_evaluations({"overflowing": overflowing, "clean": clean})
    try:
        st, view = dash.state, dash.data_notes
        st.model_name = "overflowing"
        assert view.layout.display is None and view in dash.children[1].children
        assert "data notes (1)</summary>" in view.html.value and f"<li>{note}</li>" in view.html.value
        assert "past its image" not in st.session.status
        st.model_name = "clean"
        assert st.session.evaluation is clean and view.layout.display == "none" and view.children == ()
    finally:
        dash.close()
    page = overflowing.to_html()
    top = page.index("<h2>Metrics</h2>")
    assert page.index("<summary>Data notes (1)</summary>") < top and f"<li>{note}</li>" in page[:top]
    assert "Data notes" not in clean.to_html()
