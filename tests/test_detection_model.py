"""A real Keras detector (a functional model whose outputs are a dict of boxes, classes, confidence
and num_detections, saved to a .keras file) evaluated on an image folder gives the numbers of its
own ``model.predict`` outputs written to a COCO results file."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from tests.helpers import require

from tests.detection_data import make_coco, pycocotools_stats, write_json
from h5eval_widgets.core import DetectionEvaluation, Evaluation
from h5eval_widgets.core.errors import ModelLoadError

require("pycocotools")
keras = require("keras")
from PIL import Image  # noqa: E402

SLOTS, USED, SIZE = 12, 7, 32


def _detector(n_classes: int, box_key: str = "boxes", class_key: str = "classes"):
    """A tiny detector: dense heads over the pooled image; unused slots get class -1."""
    ops = keras.ops
    inp = keras.Input((SIZE, SIZE, 3))
    x = keras.layers.Rescaling(1 / 255)(inp)  # pixels as read (0-255): unsaturated heads, distinct scores
    x = keras.layers.Conv2D(4, 3, strides=2, activation="relu")(x)
    x = keras.layers.Flatten()(x)
    centre = keras.layers.Dense(SLOTS * 2, activation="sigmoid")(x)
    side = keras.layers.Dense(SLOTS * 2, activation="sigmoid")(x)
    boxes = keras.layers.Concatenate()(
        [keras.layers.Reshape((SLOTS, 2))(centre) * SIZE, keras.layers.Reshape((SLOTS, 2))(side) * (SIZE / 2) + 1.0]
    )
    logits = keras.layers.Reshape((SLOTS, n_classes))(keras.layers.Dense(SLOTS * n_classes)(x))
    used = ops.arange(SLOTS) < USED
    classes = ops.where(used[None, :], ops.cast(ops.argmax(logits, axis=-1), "float32"), -1.0)
    conf = ops.max(ops.softmax(logits, axis=-1), axis=-1)
    num = ops.sum(ops.cast(classes >= 0, "int32"), axis=-1)
    return keras.Model(inp, {box_key: boxes, class_key: classes, "confidence": conf, "num_detections": num})


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """Images of several sizes with COCO annotations, and a detector saved to a .keras file."""
    root = tmp_path_factory.mktemp("det")
    gt, _ = make_coco(16, seed=11)
    rng = np.random.default_rng(0)
    images = root / "images"
    images.mkdir()
    for im in gt["images"]:
        Image.fromarray(rng.integers(0, 255, (im["height"], im["width"], 3), dtype=np.uint8)).save(
            images / im["file_name"].replace(".jpg", ".png")
        )
        im["file_name"] = im["file_name"].replace(".jpg", ".png")
    keras.utils.set_random_seed(0)
    model = _detector(len(gt["categories"]))
    model.save(root / "detector.keras")
    return root, images, write_json(root / "instances.json", gt), gt


def _predict_to_coco_results(model, images, gt):
    """The test's own path: resize, model.predict, centre boxes scaled to each image, COCO results."""
    out = []
    cats = [c["id"] for c in gt["categories"]]
    for im in gt["images"]:
        with Image.open(images / im["file_name"]) as f:
            x = np.asarray(f.convert("RGB").resize((SIZE, SIZE), Image.BILINEAR), np.float32)[None]
        p = model.predict(x, verbose=0)
        sx, sy = im["width"] / SIZE, im["height"] / SIZE
        for j in range(int(p["num_detections"][0])):
            cx, cy, w, h = (float(v) for v in p["boxes"][0, j])
            out.append(
                {
                    "image_id": im["id"],
                    "category_id": cats[int(p["classes"][0, j])],
                    "bbox": [(cx - w / 2) * sx, (cy - h / 2) * sy, w * sx, h * sy],
                    "score": float(p["confidence"][0, j]),
                }
            )
    return out


def _planted(gt: dict, dets: list[dict], per_image: int = 3) -> dict:
    """``gt`` with, on each image, true boxes planted where the first ``per_image`` detections
    are (clipped to the image, of the detected class): the model then finds something, so its
    numbers are not zero whatever its random weights."""
    planted = copy.deepcopy(gt)
    sizes = {im["id"]: (im["width"], im["height"]) for im in gt["images"]}
    for im_id, (W, H) in sizes.items():
        for d in [d for d in dets if d["image_id"] == im_id][:per_image]:
            x, y, w, h = d["bbox"]
            x0, y0, x1, y1 = max(0.0, x), max(0.0, y), min(float(W), x + w), min(float(H), y + h)
            box = [x0, y0, x1 - x0, y1 - y0]
            planted["annotations"].append(
                {
                    "id": len(planted["annotations"]) + 1,
                    "image_id": im_id,
                    "category_id": d["category_id"],
                    "bbox": box,
                    "area": box[2] * box[3],
                    "iscrowd": 0,
                }
            )
    return planted


def test_detector_on_an_image_folder_equals_pycocotools_on_its_predict_outputs(folder, tmp_path):
    """Check from_model(detector.keras, folder, annotations=) against pycocotools' COCOeval run
    here on model.predict's boxes (the test's own resize and scaling), with true boxes planted
    at some of those detections so that the numbers are well above zero."""
    root, images, _, gt = folder
    model = keras.models.load_model(root / "detector.keras")
    dets = _predict_to_coco_results(model, images, gt)
    truth = _planted(gt, dets)
    instances = write_json(tmp_path / "instances.json", truth)
    ev = Evaluation.from_model(
        root / "detector.keras", images, annotations=instances, bounding_box_format="center_xywh", batch_size=5
    )
    assert isinstance(ev, DetectionEvaluation) and len(ev.detections) == USED * len(gt["images"])
    ref, _ = pycocotools_stats(truth, dets)
    np.testing.assert_allclose(list(ev.scores.values()), ref, atol=1e-4, rtol=0)  # float32, batch of 5 vs 1
    assert ev.scores["map_50"] > 0.1 and ev.scores["mar_100"] > 0.2
    results = write_json(tmp_path / "results.json", dets)
    ref_ev = Evaluation.from_detections(instances, results)
    np.testing.assert_array_equal(ev.confusion_matrix(0.5, 0.3), ref_ev.confusion_matrix(0.5, 0.3))
    np.testing.assert_allclose(
        ev.detections[["x", "y", "w", "h"]], ref_ev.detections[["x", "y", "w", "h"]], rtol=1e-3, atol=1e-2
    )  # float32 outputs of a batch of 5 vs of 1
    assert any("brought back to each image's own pixels" in n for n in ev.notes)
    assert ev.image_dir == str(images)


def test_relative_boxes_and_the_labels_key_are_read(folder):
    """Check a KerasHub-style 'labels' key and rel_xyxy boxes: boxes land inside each image's pixels."""
    root, images, instances, gt = folder
    keras.utils.set_random_seed(1)
    model = _detector(len(gt["categories"]), class_key="labels")
    ev = Evaluation.from_model(model, images, annotations=instances, bounding_box_format="rel_xyxy")
    d = ev.detections.merge(ev.images, on="image_id")
    # rel boxes of this model run 0..SIZE+1, so x = rel * width: check the scale is the image's
    assert (d["x"] / d["width"]).max() > 1.0 and len(d) == USED * len(gt["images"])
    assert np.isfinite(ev.scores["map"])


def test_detector_outputs_without_boxes_are_refused_and_no_file_changes(folder):
    """Check that raw head outputs (no 'boxes') raise an error naming the .keras file and decode=."""
    root, images, instances, gt = folder
    keras.utils.set_random_seed(2)
    model = _detector(len(gt["categories"]), box_key="box_deltas")
    before = {p: p.stat().st_mtime_ns for p in root.rglob("*")}
    with pytest.raises(ModelLoadError, match=r"no 'boxes'.*Give the \.keras file.*decode="):
        Evaluation.from_model(model, images, annotations=instances)
    assert {p: p.stat().st_mtime_ns for p in root.rglob("*")} == before
    fixed = Evaluation.from_model(
        model,
        images,
        annotations=instances,
        bounding_box_format="center_xywh",
        decode=lambda o: {**o, "boxes": o["box_deltas"]},
    )
    assert len(fixed.detections) == USED * len(gt["images"])


def test_an_unknown_box_format_and_a_missing_image_are_refused(folder, tmp_path):
    """Check bounding_box_format is checked first, and an annotated image absent from the folder is named."""
    root, images, instances, gt = folder
    with pytest.raises(ValueError, match="bounding_box_format='xyzw' is not one of"):
        Evaluation.from_model(root / "detector.keras", images, annotations=instances, bounding_box_format="xyzw")
    other = json.loads(instances.read_text())
    other["images"][0]["file_name"] = "not_here.png"
    with pytest.raises(Exception, match=r"not in .*not_here\.png"):
        Evaluation.from_model(root / "detector.keras", images, annotations=write_json(tmp_path / "i.json", other))


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_a_detector_carrying_code_is_refused_unless_trusted(folder, tmp_path, suffix):
    """Check that a detector file with a Lambda layer (code that runs on load) is refused before
    Keras reads it, naming trust_code, and that no file changes; trusted, it is evaluated."""
    root, images, instances, gt = folder
    inp = keras.Input((SIZE, SIZE, 3))
    base = _detector(len(gt["categories"]))
    out = base(keras.layers.Lambda(lambda t: t * 1.0)(inp))
    path = tmp_path / f"coded{suffix}"
    keras.Model(inp, out).save(path)
    before = {p: p.stat().st_mtime_ns for p in list(root.rglob("*")) + [path]}
    with pytest.raises(Exception, match=r"Lambda.*trust_code=True"):
        Evaluation.from_model(path, images, annotations=instances)
    assert {p: p.stat().st_mtime_ns for p in list(root.rglob("*")) + [path]} == before
    if suffix == ".keras":  # a legacy .h5 of a nested functional model may not load back at all
        ev = Evaluation.from_model(path, images, annotations=instances, trust_code=True)
        assert len(ev.detections) == USED * len(gt["images"])
