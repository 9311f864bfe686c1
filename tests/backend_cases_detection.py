"""Object detection on every backend (see :mod:`tests.backend_cases`): a tiny KerasHub RetinaNet
(random weights, seeded; no download) saved as ``.keras`` under TensorFlow, run on an annotated
image folder by ``Evaluation.from_model`` (its ``predict`` and its own NMS decoder, on the
backend in use)."""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np

from tests.backend_cases import builder, case, scores

#: images whose decoded boxes are compared one by one
SHOWN = 3


@builder
def build_detector(d: Path) -> None:
    """The RetinaNet of tests/test_detection_kerashub.py and its 10 PNG images of several sizes with
    COCO annotations."""
    import keras
    from PIL import Image

    from tests.detection_data import make_coco, write_json
    from tests.test_detection_kerashub import _retinanet

    gt, _ = make_coco(10, seed=5, boxes_per_image=5.0)
    rng = np.random.default_rng(1)
    images = d / "det_images"
    images.mkdir(parents=True, exist_ok=True)
    for im in gt["images"]:
        im["file_name"] = im["file_name"].replace(".jpg", ".png")
        pixels = rng.integers(0, 255, (im["height"], im["width"], 3), dtype=np.uint8)
        Image.fromarray(pixels).save(images / im["file_name"])
    write_json(d / "det_instances.json", gt)
    keras.utils.set_random_seed(0)
    _retinanet(len(gt["categories"])).save(d / "retinanet.keras")


def _boxes_in_order(dt, image_id) -> np.ndarray:
    """One image's detections as rows (category, x, y, w, h, score), sorted by category then
    corner: a safeguard, since the decoder's order among boxes of near-equal confidence could
    differ by backend (on JAX it has been TensorFlow's order, to 1e-4 pixel)."""
    rows = dt[dt["image_id"] == image_id][["category_id", "x", "y", "w", "h", "score"]].to_numpy(np.float64)
    return rows[np.lexsort(rows[:, ::-1].T)] if len(rows) else rows.reshape(0, 6)


@contextlib.contextmanager
def _exact_tf_graphs():
    """On the TensorFlow backend, TensorFlow's graphs built without Grappler's constant folding.

    With it, the TensorFlow graph of KerasHub's tiled ``non_max_suppression`` (what
    ``model.predict`` runs on TensorFlow) keeps other boxes than the same function run eagerly,
    under XLA, or on JAX, and than ``tf.image.non_max_suppression`` on the same boxes and scores
    (this RetinaNet: 214 boxes where those keep 223 on the first image). The reference is the
    correct NMS, which the other backends must give.
    """
    import keras

    if keras.backend.backend() != "tensorflow":
        yield
        return
    import tensorflow as tf

    before = tf.config.optimizer.get_experimental_options()
    tf.config.optimizer.set_experimental_options({"constant_folding": False})
    try:
        yield
    finally:
        tf.config.optimizer.set_experimental_options({"constant_folding": before.get("constant_folding", True)})


@case
def kerashub_retinanet(d: Path) -> dict:
    """The 12 COCO numbers and, for a few images, the decoded boxes (sorted: see
    :func:`_boxes_in_order`) in the images' pixels."""
    from h5eval_widgets import Evaluation

    with _exact_tf_graphs():
        ev = Evaluation.from_model(
            d / "retinanet.keras", d / "det_images", annotations=d / "det_instances.json", batch_size=4, progress=False
        )
    out = scores(ev)
    for image_id in sorted(ev.detections["image_id"].unique())[:SHOWN]:
        out[f"out:boxes_of_image_{int(image_id)}"] = _boxes_in_order(ev.detections, image_id)
    out["score:n_detections"] = float(len(ev.detections))
    return out
